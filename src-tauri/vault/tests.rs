//! Shell tests of the vault: first run, lock and unlock, the password change, another writer
//! (the CLI) saving meanwhile, a damaged file.

use std::time::Duration;

use serde_json::{Value, json};
use twofold_core::uri;

use crate::tests::*;

#[test]
fn first_run_create_add_lock_unlock() {
    let s = shell();
    let status = s.ok("app_status", json!({}));
    assert_eq!(status["vaultExists"], false);
    assert_eq!(status["unlocked"], false);
    assert_eq!(status["firstRunDone"], false);
    assert_eq!(status["platform"], "desktop");
    assert_eq!(status["biometricsAvailable"], false);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "x" })),
        "NoVault"
    );
    assert_eq!(s.kind("accounts_list", json!({})), "Locked");

    s.ok("first_run_accept", json!({}));
    assert_eq!(s.ok("app_status", json!({}))["firstRunDone"], true);
    assert_eq!(
        s.kind("vault_create", json!({ "password": "" })),
        "InvalidInput"
    );
    let s = s.unlocked();
    let status = s.ok("app_status", json!({}));
    assert_eq!(
        (status["vaultExists"].clone(), status["unlocked"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        s.kind("vault_create", json!({ "password": "again" })),
        "VaultExists"
    );

    let added = s.ok("add_uri", json!({ "uri": URI }));
    assert_eq!(added["kind"], "added");
    assert_eq!(added["added"].as_array().map(Vec::len), Some(1));
    assert_eq!(added["added"][0]["issuer"], "ACME Co");
    assert_eq!(added["added"][0]["name"], "alice@example.com");
    assert_eq!(added["added"][0]["kind"], "totp");
    assert_eq!(added["migration"], Value::Null);
    let id = added["added"][0]["id"].as_str().expect("id").to_owned();

    let before = crate::state::unix_now();
    let codes = s.ok("codes_now", json!({}));
    let after = crate::state::unix_now();
    let c = &codes[0];
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["period"], 30);
    let valid_from = c["validFromMs"].as_u64().expect("from") / 1000;
    assert!(valid_from <= after && before < valid_from + 30);
    assert_eq!(c["validUntilMs"].as_u64(), Some((valid_from + 30) * 1000));
    assert_eq!(c["code"], code_of(URI, valid_from).as_str());
    assert_eq!(c["nextCode"], code_of(URI, valid_from + 30).as_str());

    // The same account again is a duplicate, not a second entry.
    let again = s.ok("add_uri", json!({ "uri": URI }));
    assert_eq!(again["added"], json!([]));
    assert_eq!(again["duplicates"], json!(["ACME Co (alice@example.com)"]));

    let locked = s.events("vault-locked");
    s.ok("vault_lock", json!({}));
    assert_eq!(*locked.lock().expect("events"), [r#"{"reason":"user"}"#]);
    assert_eq!(s.kind("codes_now", json!({})), "Locked");
    assert_eq!(s.kind("add_uri", json!({ "uri": URI })), "Locked");
    let wrong = s
        .call("vault_unlock", json!({ "password": "wrong" }))
        .expect_err("wrong password");
    assert_eq!(wrong["kind"], "WrongPassword");
    assert_eq!(wrong["message"], "wrong password");

    // A new app on the same folder: the vault and the accepted statement are still there.
    let Shell { dir, .. } = s;
    let s = shell_in(dir);
    let status = s.ok("app_status", json!({}));
    assert_eq!(
        (
            status["vaultExists"].clone(),
            status["unlocked"].clone(),
            status["firstRunDone"].clone()
        ),
        (json!(true), json!(false), json!(true))
    );
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    let list = s.ok("accounts_list", json!({}));
    assert_eq!(list[0]["id"], id.as_str());
}

#[test]
fn change_password() {
    let s = shell().unlocked();
    assert_eq!(
        s.kind(
            "vault_change_password",
            json!({ "current": "nope", "next": "new one" })
        ),
        "WrongPassword"
    );
    assert_eq!(
        s.kind(
            "vault_change_password",
            json!({ "current": "correct horse", "next": "" })
        ),
        "InvalidInput"
    );
    s.ok(
        "vault_change_password",
        json!({ "current": "correct horse", "next": "new one" }),
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "correct horse" })),
        "WrongPassword"
    );
    s.ok("vault_unlock", json!({ "password": "new one" }));
    // No file beside the vault (its previous version among them) opens with the old password.
    for entry in std::fs::read_dir(s.dir.path()).expect("dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(twofold_core::vault::Vault::open(&bytes, b"correct horse").is_err());
    }
}

#[test]
fn another_writer_loses_nothing_and_a_failed_save_leaves_nothing_behind() {
    use twofold_core::vault::{Vault, file};
    let s = shell().unlocked();
    let manual = |name: &str| {
        json!({ "account": { "issuer": "Example", "name": name, "secret": SECRET, "kind": "totp",
            "algorithm": "SHA1", "digits": 6, "period": 30, "counter": 0 } })
    };
    s.ok("add_manual", manual("by the app"));
    // The CLI, meanwhile: under the writer lock, reads the file, adds, saves.
    let path = s.dir.path().join("vault.json");
    {
        let _lock = file::lock(&path, Duration::from_secs(5)).expect("lock");
        let bytes = std::fs::read(&path).expect("read");
        let mut v = Vault::open(&bytes, b"correct horse").expect("open");
        let cli = uri::parse(&format!(
            "otpauth://totp/CLI:by%20the%20cli?secret={SECRET}"
        ))
        .expect("uri");
        v.add(cli, 1, &twofold_core::rng::SystemRng::new())
            .expect("add");
        file::write_atomic(
            &path,
            &v.to_bytes(&twofold_core::rng::SystemRng::new())
                .expect("bytes"),
            false,
        )
        .expect("write");
    }
    // The app's next change starts from the file as the CLI left it: nothing is lost.
    s.ok("add_manual", manual("by the app again"));
    let names = |v: &Value| {
        let mut n: Vec<String> = v
            .as_array()
            .expect("list")
            .iter()
            .map(|a| a["name"].as_str().expect("name").to_owned())
            .collect();
        n.sort();
        n
    };
    let expected = vec!["by the app", "by the app again", "by the cli"];
    assert_eq!(names(&s.ok("accounts_list", json!({}))), expected);
    let on_disk =
        Vault::open(&std::fs::read(&path).expect("read"), b"correct horse").expect("open");
    let mut disk: Vec<String> = on_disk
        .accounts()
        .iter()
        .map(|a| a.otp.name.clone())
        .collect();
    disk.sort();
    assert_eq!(disk, expected);

    // A save that cannot happen (a note that would make the file larger than any vault):
    // refused, the file byte-identical, and the change gone from memory too.
    let before = std::fs::read(&path).expect("read");
    let id = on_disk.accounts()[0].id.clone();
    let huge = "x".repeat(50 * 1024 * 1024);
    assert_eq!(
        s.kind(
            "account_update",
            json!({ "id": id, "patch": { "note": huge } })
        ),
        "InvalidInput"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let list = s.ok("accounts_list", json!({}));
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|a| a["note"] != json!(huge))
    );
    s.ok("add_manual", manual("after the failure"));
    assert_eq!(
        s.ok("accounts_list", json!({}))
            .as_array()
            .expect("list")
            .len(),
        4
    );
}

#[test]
fn a_damaged_vault_is_corrupt_not_a_wrong_password() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    s.ok("vault_lock", json!({}));
    let path = s.dir.path().join("vault.json");
    let mut bytes = std::fs::read(&path).expect("vault");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, bytes).expect("write");
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "correct horse" })),
        "Corrupt"
    );
}
