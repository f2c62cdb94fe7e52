//! The "With a vault" commands: init, add, list, code, next, remove, passwd; exit codes 3 and
//! 4; a failed command leaves the file byte-identical; kill -9 during saves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::{assert_error, stdout};

const TOTP: &str =
    "otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8";
const HOTP: &str =
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bank&counter=0";

pub(crate) fn temp_vault(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-vault-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("vault.json")
}

pub(crate) fn cmd(vault: &Path, password: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    c.arg("--vault").arg(vault).args(args);
    c.env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_NEW_PASSWORD")
        .stdin(Stdio::null());
    match password {
        Some(p) => c.env("TWOFOLD_PASSWORD", p),
        None => c.env_remove("TWOFOLD_PASSWORD"),
    };
    c
}

pub(crate) fn run(vault: &Path, password: Option<&str>, args: &[&str]) -> Output {
    cmd(vault, password, args).output().unwrap()
}

pub(crate) fn new_vault(name: &str) -> PathBuf {
    let v = temp_vault(name);
    let o = run(&v, Some("pw"), &["init", "--kdf", "minimum"]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    v
}

pub(crate) fn list(vault: &Path) -> Vec<Value> {
    let o = run(vault, Some("pw"), &["list", "--json"]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    serde_json::from_str::<Value>(&stdout(&o))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn init_add_list_code_next_remove() {
    let v = new_vault("flow");
    assert_error(&run(&v, Some("pw"), &["init", "--kdf", "minimum"]), 1);
    assert!(run(&v, Some("pw"), &["add", TOTP]).status.success());
    assert!(run(&v, Some("pw"), &["add", HOTP]).status.success());
    // The same account again is reported, not added twice.
    let o = run(&v, Some("pw"), &["add", TOTP]);
    assert!(stdout(&o).contains("already in the vault"));
    let accounts = list(&v);
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["issuer"], "ACME");
    assert_eq!(accounts[1]["counter"], 0);
    assert!(accounts[0].get("code").is_none());

    let o = run(&v, Some("pw"), &["code", "acme", "--at", "59", "--json"]);
    let codes: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(codes[0]["code"], "94287082");
    assert_eq!(codes.as_array().unwrap().len(), 1);
    assert_error(&run(&v, Some("pw"), &["code", "nomatch"]), 1);

    let hotp_id = accounts[1]["id"].as_str().unwrap().to_owned();
    let o = run(&v, Some("pw"), &["next", &hotp_id]);
    assert_eq!(stdout(&o), "287082\n");
    let o = run(&v, Some("pw"), &["next", &hotp_id]);
    assert_eq!(stdout(&o), "359152\n");
    let o = run(&v, Some("pw"), &["code", &hotp_id, "--json"]);
    let codes: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(codes[0]["counter"], 2);
    assert_eq!(codes[0]["code"], "359152");

    assert!(run(&v, Some("pw"), &["remove", &hotp_id]).status.success());
    assert_eq!(list(&v).len(), 1);
    assert_error(&run(&v, Some("pw"), &["remove", &hotp_id]), 1);
    assert!(crate::scan_backup_exists(&v));
    let text = std::fs::read_to_string(&v).unwrap();
    assert!(!text.contains("GEZDGNBVGY3TQOJQ"), "no secret in the clear");
}

#[test]
fn wrong_password_exit_3_and_corrupt_exit_4_leave_the_file_alone() {
    let v = new_vault("errors");
    assert!(run(&v, Some("pw"), &["add", TOTP]).status.success());
    let before = std::fs::read(&v).unwrap();
    let line = assert_error(&run(&v, Some("nope"), &["add", HOTP]), 3);
    assert!(line.contains("wrong password"), "{line}");
    assert_error(&run(&v, Some("nope"), &["list"]), 3);
    assert_eq!(std::fs::read(&v).unwrap(), before);
    // A bad URI fails before anything is written.
    assert_error(
        &run(
            &v,
            Some("pw"),
            &["add", "otpauth://totp/x?secret=JBSWY3DP&period=0"],
        ),
        1,
    );
    assert_eq!(std::fs::read(&v).unwrap(), before);

    for (name, bytes) in [
        ("empty", Vec::new()),
        ("truncated", before[..before.len() / 2].to_vec()),
        ("flipped", {
            let mut b = before.clone();
            let i = b.len() - 40;
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            b
        }),
    ] {
        std::fs::write(&v, &bytes).unwrap();
        let line = assert_error(&run(&v, Some("pw"), &["add", HOTP]), 4);
        assert!(line.contains("corrupt"), "{name}: {line}");
        assert_eq!(std::fs::read(&v).unwrap(), bytes, "{name}");
    }
}

#[test]
fn password_sources() {
    let v = new_vault("passwords");
    let pf = v.with_file_name("pw.txt");
    std::fs::write(&pf, "pw\r\n").unwrap();
    let o = cmd(&v, None, &["--password-file", pf.to_str().unwrap(), "list"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::stderr(&o));
    // No password and no terminal: an error at once, never a hang.
    let line = assert_error(&run(&v, None, &["list"]), 1);
    assert!(line.contains("TWOFOLD_PASSWORD"), "{line}");
}

#[test]
fn passwd_changes_the_password_and_keeps_accounts() {
    let v = new_vault("passwd");
    assert!(run(&v, Some("pw"), &["add", TOTP]).status.success());
    let o = cmd(&v, Some("pw"), &["passwd", "--kdf", "minimum"])
        .env("TWOFOLD_NEW_PASSWORD", "new pw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_error(&run(&v, Some("pw"), &["list"]), 3);
    let o = run(&v, Some("new pw"), &["list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Interrupts `add` with SIGKILL at spread-out moments; after each, the vault must open with
/// either the old or the new content.
#[test]
fn kill_9_during_saves_leaves_a_consistent_vault() {
    let v = new_vault("kill9");
    let rounds = 40u32;
    let mut consistent = 0;
    let mut count = 0usize;
    for i in 0..rounds {
        let uri = format!(
            "otpauth://totp/K:{i}?secret=GEZDGNBVGY3TQOJQGEZDGNBV{}&issuer=K",
            ["GY", "GA", "GQ", "HA"][i as usize % 4]
        );
        let mut child = cmd(&v, Some("pw"), &["add", &uri])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the whole command (about 30-120 ms here).
        std::thread::sleep(Duration::from_millis(u64::from(i * 37 % 140)));
        let _ = child.kill();
        let _ = child.wait();
        let now = list(&v).len();
        if now == count || now == count + 1 {
            consistent += 1;
        }
        count = now;
    }
    eprintln!(
        "kill -9 loop: {consistent}/{rounds} interrupted saves left a consistent vault; {count} accounts saved"
    );
    assert_eq!(consistent, rounds);
}

#[test]
fn import_reports_every_entry_and_never_adds_twice() {
    let v = new_vault("import");
    let list = v.with_file_name("list.txt");
    std::fs::write(
        &list,
        format!("{TOTP}\n{HOTP}\notpauth://totp/bad?secret=JBSWY3DP&period=0\n"),
    )
    .unwrap();
    let o = run(
        &v,
        Some("pw"),
        &["import", list.to_str().unwrap(), "--json"],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["imported"], 2);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 1, "{r}");
    // Again: nothing new, every entry reported, exit 1, vault untouched.
    let before = std::fs::read(&v).unwrap();
    let o = run(
        &v,
        Some("pw"),
        &[
            "import",
            list.to_str().unwrap(),
            "--format",
            "otpauth-list",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["imported"], 0);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 3);
    assert_eq!(std::fs::read(&v).unwrap(), before);
    assert_error(
        &run(
            &v,
            Some("pw"),
            &["import", list.to_str().unwrap(), "--format", "nope"],
        ),
        1,
    );
}

#[test]
fn import_encrypted_aegis_from_the_conformance_corpus() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/aegis-importers");
    if !dir.is_dir() {
        eprintln!(
            "SKIPPED: {} is absent (a fresh clone has no ../shared)",
            dir.display()
        );
        return;
    }
    let v = new_vault("aegis");
    let file = dir.join("aegis_encrypted.json");
    let pf = v.with_file_name("export-pw.txt");
    std::fs::write(&pf, "wrong\n").unwrap();
    let before = std::fs::read(&v).unwrap();
    let args = [
        "import",
        file.to_str().unwrap(),
        "--import-password-file",
        pf.to_str().unwrap(),
        "--json",
    ];
    assert_error(&run(&v, Some("pw"), &args), 3);
    assert_eq!(std::fs::read(&v).unwrap(), before);
    std::fs::write(&pf, "test\n").unwrap();
    let o = run(&v, Some("pw"), &args);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["imported"], 7, "{r}");
    assert_eq!(list(&v).len(), 7);
}

/// The encrypted Ente Auth and Bitwarden exports made by independent implementations
/// (`crates/core/tests/vectors/import/`): a wrong password exits 3 and leaves the vault alone,
/// `--format ente` / `--format bitwarden` and `auto` take them with the right one.
#[test]
fn import_encrypted_ente_and_bitwarden_exports() {
    let vectors =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/core/tests/vectors/import");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(vectors.join("expected.json")).unwrap()).unwrap();
    for (file, format, password) in [
        ("ente-encrypted.json", "ente", "ente_password"),
        (
            "bitwarden-encrypted-pbkdf2.json",
            "bitwarden",
            "bitwarden_password",
        ),
        (
            "bitwarden-encrypted-argon2id.json",
            "auto",
            "bitwarden_password",
        ),
    ] {
        let v = new_vault(&format!("enc-{file}"));
        let path = vectors.join(file);
        let pf = v.with_file_name("import-pw.txt");
        std::fs::write(&pf, "wrong\n").unwrap();
        let before = std::fs::read(&v).unwrap();
        let args = [
            "import",
            path.to_str().unwrap(),
            "--format",
            format,
            "--import-password-file",
            pf.to_str().unwrap(),
            "--json",
        ];
        assert_error(&run(&v, Some("pw"), &args), 3);
        assert_eq!(std::fs::read(&v).unwrap(), before, "{file}");
        std::fs::write(&pf, format!("{}\n", expected[password].as_str().unwrap())).unwrap();
        let o = run(&v, Some("pw"), &args);
        assert!(o.status.success(), "{file}: {}", crate::stderr(&o));
        let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(r["imported"], 4, "{file}: {r}");
        let names: Vec<String> = list(&v)
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            ["alice@example.com", "bob", "carol", "dave"],
            "{file}"
        );
    }
}

#[test]
fn export_round_trips_through_import_in_every_format() {
    let v = new_vault("export-src");
    for uri in [TOTP, HOTP, "steam://GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"] {
        assert!(run(&v, Some("pw"), &["add", uri]).status.success());
    }
    let dir = v.parent().unwrap().to_owned();
    let pw_file = dir.join("export-pw");
    std::fs::write(&pw_file, "export secret\n").unwrap();
    let strip = |accounts: Vec<Value>| -> Vec<Value> {
        accounts
            .into_iter()
            .map(|mut a| {
                a.as_object_mut().unwrap().remove("id");
                a
            })
            .collect()
    };
    let original = strip(list(&v));
    for (format, expected) in [
        ("aegis", 3),
        ("aegis-plain", 3),
        ("otpauth-list", 3),
        // Steam does not fit a Google Authenticator export; it is reported, not dropped silently.
        ("google-migration", 2),
    ] {
        let out = dir.join(format!("export.{format}"));
        let mut args = vec!["export", out.to_str().unwrap(), "--format", format];
        if format == "aegis" {
            args.extend(["--export-password-file", pw_file.to_str().unwrap()]);
        }
        let o = run(&v, Some("pw"), &args);
        assert!(o.status.success(), "{format}: {}", crate::stderr(&o));
        if expected == 2 {
            assert!(
                crate::stderr(&o).contains("not exported"),
                "{}",
                crate::stderr(&o)
            );
        }
        let text = std::fs::read(&out).unwrap();
        if format == "aegis" {
            assert!(!String::from_utf8_lossy(&text).contains("GEZDGNBVGY3TQOJQ"));
        }
        let target = new_vault(&format!("export-dst-{format}"));
        let mut args = vec!["import", out.to_str().unwrap(), "--json"];
        if format == "aegis" {
            args.extend(["--import-password-file", pw_file.to_str().unwrap()]);
        }
        let o = run(&target, Some("pw"), &args);
        assert!(o.status.success(), "{format}: {}", crate::stderr(&o));
        let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(report["imported"], expected, "{format}");
        let back = strip(list(&target));
        let wanted: Vec<Value> = original
            .iter()
            .filter(|a| expected == 3 || a["type"] != "steam")
            .cloned()
            .collect();
        assert_eq!(back, wanted, "{format}");
    }
    // Without a password file, the encrypted export takes the vault password.
    let out = dir.join("export-vault-pw.aegis");
    let o = run(
        &v,
        Some("pw"),
        &["export", out.to_str().unwrap(), "--format", "aegis"],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let target = new_vault("export-dst-vault-pw");
    let o = run(&target, Some("pw"), &["import", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_error(
        &run(
            &v,
            Some("pw"),
            &["export", out.to_str().unwrap(), "--format", "pdf"],
        ),
        1,
    );
}

/// `twofold add` does with each text of `tests/scan_kinds.txt` what the app's `add_uri` does
/// (src-tauri/tests.rs `add_uri_sorts_each_text_as_the_cli_does`): one classifier, in the core.
#[test]
fn add_sorts_each_text_as_the_app_does() {
    let v = new_vault("kinds");
    let mut seen = 0;
    for line in include_str!("../scan_kinds.txt").lines() {
        let Some((outcome, text)) = line.split_once('\t') else {
            continue;
        };
        if outcome.starts_with('#') {
            continue;
        }
        seen += 1;
        let before = list(&v).len();
        let o = run(&v, Some("pw"), &["add", text]);
        let got = if o.status.success() {
            assert!(stdout(&o).starts_with("added "), "{text}: {}", stdout(&o));
            assert_eq!(list(&v).len(), before + 1, "{text}");
            "accounts"
        } else {
            let err = assert_error(&o, 1);
            assert_eq!(list(&v).len(), before, "{text}: nothing added");
            if err.contains("twofold push enroll") {
                "push"
            } else if err.contains("twofold container register") {
                "container"
            } else {
                "refused"
            }
        };
        assert_eq!(got, outcome, "{text}");
    }
    assert_eq!(seen, 13, "every case of tests/scan_kinds.txt");
}
