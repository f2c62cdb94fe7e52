//! Shell tests of the accounts: adding them (a URI, a scanned image, a Google export, by hand),
//! editing, importing and exporting, the QR code of a secret and the copied code.

use std::io::Cursor;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tauri::Manager;
use twofold_core::otp::Generator;
use twofold_core::{OtpAccount, migration};

use crate::platform::Device;
use crate::state::AppState;

use crate::tests::*;

#[test]
fn secrets_never_reach_the_webview() {
    let s = shell().unlocked();
    let mut seen = Vec::new();
    seen.push(s.ok("add_uri", json!({ "uri": URI })));
    seen.push(s.ok("add_uri", json!({ "uri": HOTP_URI })));
    seen.push(s.ok("accounts_list", json!({})));
    seen.push(s.ok("codes_now", json!({})));
    seen.push(s.ok("app_status", json!({})));
    let id = seen[2][0]["id"].as_str().expect("id").to_owned();
    seen.push(s.ok(
        "account_update",
        json!({ "id": id, "patch": { "note": "n" } }),
    ));
    for v in &seen {
        let text = v.to_string();
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("GEZDGNBVGY3TQOJQ"), "{text}");
        assert!(!text.to_lowercase().contains("secret"), "{text}");
    }
}

/// The app's `add_uri` does with each text of `tests/scan_kinds.txt` what `twofold add` does
/// (tests/cli/vault.rs `add_sorts_each_text_as_the_app_does`): one classifier, in the core.
#[test]
fn add_uri_sorts_each_text_as_the_cli_does() {
    let s = shell().unlocked();
    let mut seen = 0;
    for line in include_str!("../../tests/scan_kinds.txt").lines() {
        let Some((outcome, text)) = line.split_once('\t') else {
            continue;
        };
        if outcome.starts_with('#') {
            continue;
        }
        seen += 1;
        let before = s.ok("accounts_list", json!({})).as_array().map(Vec::len);
        let got = match s.call("add_uri", json!({ "uri": text })) {
            Ok(r) if r["kind"] == "added" => {
                assert_eq!(r["added"].as_array().map(Vec::len), Some(1), "{text}");
                "accounts"
            }
            Ok(r) if r["kind"] == "pushPreview" => "push",
            Ok(r) if r["kind"] == "containerPreview" => "container",
            Ok(r) => panic!("{text}: {r}"),
            Err(e) => {
                assert_eq!(e["kind"], "InvalidInput", "{text}: {e}");
                "refused"
            }
        };
        assert_eq!(got, outcome, "{text}");
        let after = s.ok("accounts_list", json!({})).as_array().map(Vec::len);
        let grew = usize::from(got == "accounts");
        assert_eq!(after, before.map(|n| n + grew), "{text}");
    }
    assert_eq!(seen, 13, "every case of tests/scan_kinds.txt");
}

#[test]
fn scan_image_adds_what_the_qr_code_holds() {
    let s = shell().unlocked();
    let added = s.ok_raw("scan_image", &qr_png(HOTP_URI), &[]);
    assert_eq!(added["added"][0]["issuer"], "Bank");
    assert_eq!(added["added"][0]["kind"], "hotp");
    assert_eq!(added["added"][0]["counter"], 3);
    // An image with no QR code, and bytes that are no image.
    let blank = {
        let mut out = Cursor::new(Vec::new());
        image::GrayImage::from_pixel(64, 64, image::Luma([255]))
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    };
    let e = s.call_raw("scan_image", &blank, &[]).expect_err("no qr");
    assert_eq!(e["kind"], "InvalidInput");
    assert_eq!(e["message"], "no QR code was found in the image");
    assert_eq!(s.kind_raw("scan_image", &[1, 2, 3], &[]), "InvalidInput");
    // Bytes as a JSON array of numbers are refused: images travel as raw bodies.
    assert_eq!(
        s.kind("scan_image", json!({ "image": [1, 2, 3] })),
        "InvalidInput"
    );
    assert_eq!(
        s.kind("add_uri", json!({ "uri": "https://example.com" })),
        "InvalidInput"
    );
    assert_eq!(
        s.kind(
            "add_uri",
            json!({ "uri": "otpauth://pipush/PIPU0001?url=https://pi.example&ttl=10" })
        ),
        // A push enrolment QR without its credential and serial.
        "InvalidInput"
    );
    // The camera is a phone feature.
    assert_eq!(s.kind("scan_camera", json!({})), "Unsupported");
}

#[test]
fn a_google_export_in_two_qr_codes_is_collected() {
    let s = shell().unlocked();
    let accounts: Vec<OtpAccount> = (0..12u8)
        .map(|i| OtpAccount {
            issuer: format!("Service {i}"),
            name: format!("user{i}"),
            secret: twofold_core::Secret::from_bytes(vec![i + 1; 20]),
            params: twofold_core::OtpParams::new(
                twofold_core::Kind::Totp { period: 30 },
                twofold_core::Algorithm::Sha1,
                6,
            )
            .expect("params"),
        })
        .collect();
    let export = migration::write(&accounts, 4242);
    assert_eq!(export.uris.len(), 2);
    let first = s.ok_raw("scan_image", &qr_png(&export.uris[1]), &[]);
    assert_eq!(first["added"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        first["migration"],
        json!({ "batchId": 4242, "batchSize": 2, "received": [1], "missing": [0] })
    );
    let second = s.ok("add_uri", json!({ "uri": export.uris[0].as_str() }));
    assert_eq!(second["added"].as_array().map(Vec::len), Some(10));
    assert_eq!(second["migration"]["missing"], json!([]));
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(12)
    );
}

#[test]
fn manual_accounts_hotp_and_edits() {
    let s = shell().unlocked();
    let manual = |secret: &str, kind: &str, digits: u32| {
        json!({ "account": { "issuer": "Example", "name": "me", "secret": secret, "kind": kind,
            "algorithm": "SHA1", "digits": digits, "period": 30, "counter": 0 } })
    };
    assert_eq!(
        s.kind("add_manual", manual("not base32!", "totp", 6)),
        "InvalidInput"
    );
    assert_eq!(
        s.kind("add_manual", manual(SECRET, "totp", 3)),
        "InvalidInput"
    );
    let hotp = s.ok("add_manual", manual("GEZD GNBV GY3T QOJQ", "hotp", 6));
    let id = hotp["added"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(hotp["added"][0]["counter"], 0);
    let steam = s.ok("add_manual", manual(SECRET, "steam", 5));
    assert_eq!(steam["added"][0]["kind"], "steam");

    // HOTP: the code at the stored counter, then the next one, saved.
    let hotp_code = |c: u64| {
        let a = twofold_core::Secret::from_base32("GEZDGNBVGY3TQOJQ").expect("secret");
        let p = twofold_core::OtpParams::new(
            twofold_core::Kind::Hotp { counter: c },
            twofold_core::Algorithm::Sha1,
            6,
        )
        .expect("p");
        Generator::new(&a, p).code_at_counter(c).to_string()
    };
    let codes = s.ok("codes_now", json!({}));
    let c = codes
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("hotp code")
        .clone();
    assert_eq!(c["code"], hotp_code(0).as_str());
    assert_eq!(
        (c["nextCode"].clone(), c["validUntilMs"].clone()),
        (Value::Null, json!(0))
    );
    let next = s.ok("hotp_next", json!({ "id": id }));
    assert_eq!(next["code"], hotp_code(1).as_str());
    assert_eq!(
        s.kind("hotp_next", json!({ "id": steam["added"][0]["id"] })),
        "InvalidInput"
    );
    assert_eq!(s.kind("hotp_next", json!({ "id": "nope" })), "NotFound");

    // Edits; favourites come first.
    let edited = s.ok(
        "account_update",
        json!({ "id": id, "patch": { "name": "  work  ", "favorite": true, "groups": ["Work"] } }),
    );
    assert_eq!(
        (
            edited["name"].clone(),
            edited["favorite"].clone(),
            edited["groups"].clone()
        ),
        (json!("work"), json!(true), json!(["Work"]))
    );
    assert_eq!(edited["issuer"], "Example");
    let list = s.ok("accounts_list", json!({}));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["counter"], 1);
    assert_eq!(
        s.kind("account_update", json!({ "id": "nope", "patch": {} })),
        "NotFound"
    );

    let svg = s.ok("account_qr_svg", json!({ "id": id }));
    assert!(svg.as_str().is_some_and(|t| t.contains("<svg")), "{svg}");
    s.ok("account_delete", json!({ "id": id }));
    assert_eq!(s.kind("account_delete", json!({ "id": id })), "NotFound");
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(1)
    );
    // Kept among the recently removed, by this device, and restorable with its counter.
    let removed = s.ok("removed_list", json!({}));
    assert_eq!(removed[0]["id"], id.as_str());
    assert_eq!(removed[0]["by"], "thisDevice");
    assert_eq!(removed[0]["byId"], Value::Null);
    let back = s.ok("account_restore", json!({ "id": id }));
    assert_eq!(back["counter"], 1);
    assert_eq!(s.ok("removed_list", json!({})), json!([]));
    s.ok("account_delete", json!({ "id": id }));

    // The changes are on disk.
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.ok("accounts_list", json!({}))[0]["kind"], "steam");
}

#[test]
fn import_reports_added_duplicates_and_formats() {
    let s = shell().unlocked();
    let formats = s.ok("import_formats", json!({}));
    let names: Vec<&str> = formats
        .as_array()
        .expect("formats")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names.len(), twofold_core::import::Format::ALL.len());
    assert!(names.contains(&"aegis") && names.contains(&"otpauth-list"));
    let file = format!("{URI}\n{HOTP_URI}\nnot a uri\n");
    let report = s.ok_raw("import_file", file.as_bytes(), &[]);
    assert_eq!(report["added"], 2);
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(1));
    let again = s.ok_raw(
        "import_file",
        file.as_bytes(),
        &[("format", "otpauth-list")],
    );
    assert_eq!(
        (
            again["added"].clone(),
            again["duplicates"].as_array().map(Vec::len)
        ),
        (json!(0), Some(2))
    );
    assert_eq!(
        s.kind_raw("import_file", &[0, 159, 146, 150], &[]),
        "UnknownFormat"
    );
    assert_eq!(
        s.kind_raw("import_file", &[1], &[("format", "nope")]),
        "InvalidInput"
    );
    assert_eq!(
        s.kind(
            "import_file",
            json!({ "data": file.as_bytes(), "format": null, "password": null })
        ),
        "InvalidInput"
    );
}

#[test]
fn export_writes_files_the_importer_reads_back() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    s.ok("add_uri", json!({ "uri": HOTP_URI }));
    let target = shell().unlocked();
    let out = tempfile::tempdir().expect("export dir");
    for (format, password) in [
        ("aegis", Some("export pw")),
        ("aegis-plain", None),
        ("otpauth-list", None),
        ("google-migration", None),
    ] {
        let path = out.path().join(format!("export-{format}"));
        s.device.will_save_to(Some(path.clone()));
        let written = s.ok(
            "export_file",
            json!({ "format": format, "password": password }),
        );
        assert_eq!(written, json!(path.to_str()));
        let bytes = std::fs::read(&path).expect("export written");
        let headers: Vec<(&'static str, &str)> =
            password.map(|p| vec![("password", p)]).unwrap_or_default();
        let report = target.ok_raw("import_file", &bytes, &headers);
        let added = report["added"].as_u64().unwrap_or(0);
        let duplicates = report["duplicates"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(added + duplicates, 2, "{format}: {report}");
    }
    assert_eq!(
        target
            .ok("accounts_list", json!({}))
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Exporting again over the same file: one file, owner-only, no plaintext side copy.
    let again = out.path().join("export-otpauth-list");
    s.device.will_save_to(Some(again.clone()));
    s.ok(
        "export_file",
        json!({ "format": "otpauth-list", "password": null }),
    );
    let names: Vec<String> = std::fs::read_dir(out.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&again)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "aegis", "password": null })
        ),
        "InvalidInput"
    );
    assert_eq!(
        s.device.suggested.lock().expect("fake").clone(),
        [
            "twofold-aegis-encrypted.json",
            "twofold-aegis-plain.json",
            "twofold-otpauth.txt",
            "twofold-google-migration.txt",
            "twofold-otpauth.txt"
        ]
    );
}

#[test]
fn plain_export_needs_a_recent_password_and_a_dialog_chosen_path() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    let out = tempfile::tempdir().expect("export dir");
    let target = out.path().join("codes.txt");
    s.device.will_save_to(Some(target.clone()));
    // A path given by the webview is not an argument any more: it is ignored, the dialog's
    // answer is used.
    let elsewhere = out.path().join("named-by-the-webview.txt");

    // The password was entered more than a minute ago: no plain export, no dialog.
    s.password_entered_ago(61);
    let e = s
        .call(
            "export_file",
            json!({ "format": "otpauth-list", "path": elsewhere, "password": null }),
        )
        .expect_err("stale password");
    assert_eq!(e["kind"], "AuthRequired");
    assert!(s.device.suggested.lock().expect("fake").is_empty());
    // The encrypted format needs no re-entry (its file has a password of its own).
    s.ok(
        "export_file",
        json!({ "format": "aegis", "password": "file pw" }),
    );
    assert!(target.exists());
    std::fs::remove_file(&target).expect("remove");

    // Entering the password again (vault_unlock while open) allows it for a minute.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok(
        "export_file",
        json!({ "format": "otpauth-list", "path": elsewhere, "password": null }),
    );
    assert!(
        std::fs::read_to_string(&target)
            .expect("export")
            .contains(SECRET)
    );
    assert!(!elsewhere.exists());

    // Cancelled dialog: nothing written, null returned.
    s.device.will_save_to(None);
    assert_eq!(
        s.ok(
            "export_file",
            json!({ "format": "aegis-plain", "password": null })
        ),
        Value::Null
    );

    // The vault's own path (and anything in the app's folder) is refused; the vault is intact.
    let vault_path = s.dir.path().join("vault.json");
    let before = std::fs::read(&vault_path).expect("vault");
    for p in [vault_path.clone(), s.dir.path().join("settings.json")] {
        s.device.will_save_to(Some(p));
        assert_eq!(
            s.kind(
                "export_file",
                json!({ "format": "otpauth-list", "password": null })
            ),
            "InvalidInput"
        );
    }
    // Also through a path with `..` in it.
    let sneaky = s
        .dir
        .path()
        .join("..")
        .join(s.dir.path().file_name().expect("name"))
        .join("vault.json");
    s.device.will_save_to(Some(sneaky));
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "aegis-plain", "password": null })
        ),
        "InvalidInput"
    );
    // And through a link elsewhere that points at the vault.
    #[cfg(unix)]
    {
        let link = out.path().join("innocent.txt");
        std::os::unix::fs::symlink(&vault_path, &link).expect("symlink");
        s.device.will_save_to(Some(link));
        assert_eq!(
            s.kind(
                "export_file",
                json!({ "format": "otpauth-list", "password": null })
            ),
            "InvalidInput"
        );
    }
    assert_eq!(std::fs::read(&vault_path).expect("vault"), before);

    // Locked: refused before any dialog.
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.kind("export_file", json!({ "format": "aegis", "password": "x" })),
        "Locked"
    );
}

#[test]
fn the_qr_code_of_a_secret_needs_a_recent_password() {
    let s = shell().unlocked();
    let id = s.ok("add_uri", json!({ "uri": URI }))["added"][0]["id"].clone();
    // Just created: the password is fresh.
    assert!(
        s.ok("account_qr_svg", json!({ "id": id }))
            .as_str()
            .is_some_and(|t| t.contains("<svg"))
    );
    s.password_entered_ago(61);
    let e = s
        .call("account_qr_svg", json!({ "id": id }))
        .expect_err("stale password");
    assert_eq!(e["kind"], "AuthRequired");
    assert!(!e.to_string().contains(SECRET));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok("account_qr_svg", json!({ "id": id }));
    // A wrong password does not count as entering it.
    s.password_entered_ago(61);
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "wrong" })),
        "WrongPassword"
    );
    assert_eq!(
        s.kind("account_qr_svg", json!({ "id": id })),
        "AuthRequired"
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(s.kind("account_qr_svg", json!({ "id": id })), "Locked");
}

#[test]
fn the_copied_code_is_cleared_on_lock_on_exit_and_after_its_time() {
    let s = shell().unlocked();
    let id = s.ok("add_uri", json!({ "uri": URI }))["added"][0]["id"].clone();
    let now_code = || {
        let c = s.ok("codes_now", json!({}));
        (
            c[0]["code"].as_str().expect("code").to_owned(),
            c[0]["nextCode"].clone(),
        )
    };

    // Copy, then lock: cleared.
    s.ok("code_copy", json!({ "id": id }));
    let copied = s.device.clipboard().expect("copied");
    let (code, next) = now_code();
    assert!(
        copied == code || Some(copied.as_str()) == next.as_str(),
        "{copied}"
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(s.device.clipboard(), None);
    assert_eq!(s.kind("code_copy", json!({ "id": id })), "Locked");

    // Something the person copied after us is left alone.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok("code_copy", json!({ "id": id }));
    s.device
        .clipboard_write("the person's own text")
        .expect("write");
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.device.clipboard().as_deref(),
        Some("the person's own text")
    );

    // Idle and background locks clear it too; so does exiting (RunEvent::Exit calls lock_now).
    let state = s.app.state::<AppState>();
    for lock in ["idle", "background", "exit"] {
        s.ok("vault_unlock", json!({ "password": "correct horse" }));
        s.ok("code_copy", json!({ "id": id }));
        assert!(s.device.clipboard().is_some());
        match lock {
            "idle" => assert!(state.lock_if_idle(Instant::now() + Duration::from_secs(301))),
            "background" => assert!(state.lock_on_background()),
            _ => state.lock_now(),
        }
        assert_eq!(s.device.clipboard(), None, "{lock}");
    }

    // After its time: cleared, with the clipboard-cleared event; an unknown id copies nothing.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.kind("code_copy", json!({ "id": "nope" })), "NotFound");
    state.set_clipboard_clear_after(Duration::from_millis(50));
    let cleared = s.events("clipboard-cleared");
    s.ok("code_copy", json!({ "id": id }));
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.device.clipboard().is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.device.clipboard(), None);
    while cleared.lock().expect("events").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(cleared.lock().expect("events").len(), 1);
}
