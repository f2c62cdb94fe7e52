//! `twofold backup check` end to end: a Twofold vault backup, an encrypted export, an export
//! with an account removed, and a backup older than the vault (`docs/cli.md`).

use serde_json::Value;

use crate::vault::{list, new_vault, run};
use crate::{assert_error, stdout};

const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn check(v: &std::path::Path, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["backup", "check", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    run(v, Some("pw"), &args)
}

fn json(o: &std::process::Output) -> Value {
    let text = stdout(o);
    assert!(!text.contains(SECRET), "no secret printed: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn backup_check_of_a_backup_an_export_and_an_incomplete_one() {
    let v = new_vault("backup-check");
    for uri in [
        format!("otpauth://totp/ACME:alice?secret={SECRET}&issuer=ACME"),
        format!("otpauth://hotp/Bank:bob?secret={SECRET}&issuer=Bank&counter=4"),
        "otpauth://totp/Shop:carol?secret=JBSWY3DPEHPK3PXP&issuer=Shop&digits=8".to_owned(),
    ] {
        assert!(run(&v, Some("pw"), &["add", &uri]).status.success());
    }
    let ids: Vec<String> = list(&v)
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let dir = v.parent().unwrap().to_owned();

    // A backup: the vault file as the app's automatic backup copies it.
    let backup = dir.join("twofold-backup-20260101-000000.json");
    std::fs::copy(&v, &backup).unwrap();
    let o = check(&v, &backup, &[]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let r = json(&o);
    assert_eq!(r["matching"], 3, "{r}");
    assert_eq!(r["missing"], Value::Array(vec![]));
    assert_eq!(r["extra"], Value::Array(vec![]));
    assert_eq!(r["different"], Value::Array(vec![]));

    // An encrypted export with its own password; a wrong one exits 3.
    let export = dir.join("export.json");
    let pw = dir.join("export-pw");
    std::fs::write(&pw, "export secret\n").unwrap();
    let o = run(
        &v,
        Some("pw"),
        &[
            "export",
            export.to_str().unwrap(),
            "--format",
            "aegis",
            "--export-password-file",
            pw.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let o = check(
        &v,
        &export,
        &["--import-password-file", pw.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(json(&o)["matching"], 3);
    let wrong = dir.join("wrong-pw");
    std::fs::write(&wrong, "nope\n").unwrap();
    assert_error(
        &check(
            &v,
            &export,
            &["--import-password-file", wrong.to_str().unwrap()],
        ),
        3,
    );

    // An export with an account removed: missing, exit 1; the report is still printed.
    let list_export = dir.join("list.txt");
    let o = run(
        &v,
        Some("pw"),
        &[
            "export",
            list_export.to_str().unwrap(),
            "--format",
            "otpauth-list",
        ],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let text = std::fs::read_to_string(&list_export).unwrap();
    let without_carol: Vec<&str> = text.lines().filter(|l| !l.contains("carol")).collect();
    assert_eq!(without_carol.len(), 2);
    // And the HOTP counter changed in the export, and an account the vault does not hold.
    let edited = format!(
        "{}\n{}\notpauth://totp/New:dave?secret=MFRGGZDFMZTWQ2LK\n",
        without_carol[0],
        without_carol[1].replace("counter=4", "counter=1"),
    );
    std::fs::write(&list_export, edited).unwrap();
    let o = check(&v, &list_export, &[]);
    let line = assert_error(&o, 1);
    assert!(line.contains("1 account(s) missing, 1 different"), "{line}");
    let r = json(&o);
    assert_eq!(r["matching"], 1, "{r}");
    assert_eq!(r["missing"][0]["id"], ids[2].as_str(), "{r}");
    assert_eq!(r["missing"][0]["name"], "carol");
    assert_eq!(r["different"][0]["id"], ids[1].as_str());
    assert_eq!(r["different"][0]["fields"], serde_json::json!(["counter"]));
    assert_eq!(r["extra"][0]["name"], "dave");
    assert_eq!(r["extra"][0]["id"], Value::Null);

    // The backup taken before another account was added lacks it.
    assert!(
        run(
            &v,
            Some("pw"),
            &["add", "otpauth://totp/Late:erin?secret=JBSWY3DPEHPK3PXQ"]
        )
        .status
        .success()
    );
    let o = check(&v, &backup, &[]);
    assert_error(&o, 1);
    assert_eq!(json(&o)["missing"][0]["name"], "erin");

    // Text output names accounts, never secrets.
    let o = run(
        &v,
        Some("pw"),
        &["backup", "check", backup.to_str().unwrap()],
    );
    let text = stdout(&o);
    assert!(
        text.contains("matching 3") && text.contains("missing ") && text.contains("Late (erin)"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
}

#[test]
fn backup_check_of_a_backup_from_before_a_password_change() {
    let v = new_vault("backup-old-pw");
    assert!(
        run(
            &v,
            Some("pw"),
            &["add", &format!("otpauth://totp/A:a?secret={SECRET}")]
        )
        .status
        .success()
    );
    let old = v.with_file_name("old-backup.json");
    std::fs::copy(&v, &old).unwrap();
    let mut c = crate::vault::cmd(&v, Some("pw"), &["passwd", "--kdf", "minimum"]);
    c.env("TWOFOLD_NEW_PASSWORD", "new pw");
    assert!(c.output().unwrap().status.success());
    // The vault password (now "new pw") does not open the old backup: exit 3.
    assert_error(
        &run(
            &v,
            Some("new pw"),
            &["backup", "check", old.to_str().unwrap()],
        ),
        3,
    );
    let pf = v.with_file_name("old-pw");
    std::fs::write(&pf, "pw\n").unwrap();
    let o = run(
        &v,
        Some("new pw"),
        &[
            "backup",
            "check",
            old.to_str().unwrap(),
            "--import-password-file",
            pf.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(json(&o)["matching"], 1);
}
