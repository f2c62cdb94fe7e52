//! Issue 9, "Nothing lost, nothing let in", from outside with the binary: concurrent writers,
//! hostile files under a 4 GiB address-space limit, exports and side copies, a full disk
//! (RLIMIT_FSIZE), password change, control characters, migration batch caps, oversized notes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::assert_error;
use crate::vault::{cmd, list, new_vault, run};

const B32: &str = "JBSWY3DPEHPK3PXP";

/// A hang guard, not a speed assertion: a bomb that is not refused runs for minutes or aborts.
const HANG: Duration = Duration::from_secs(60);

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn dir_of(vault: &Path) -> PathBuf {
    vault.parent().unwrap().to_owned()
}

/// The binary run through `sh -c '<limits>; exec twofold ...'` (limits apply to it alone).
fn limited(vault: &Path, password: &str, limits: &str, args: &[&str]) -> Output {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{limits}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_twofold"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_NEW_PASSWORD")
        .env("TWOFOLD_PASSWORD", password)
        .stdin(Stdio::null());
    c.output().unwrap()
}

/// 4 GiB of address space, as the issue's reproduction.
const AS_4GIB: &str = "ulimit -v 4194304";

fn aegis_plain(entries: &[(&str, &str, &str)]) -> String {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(issuer, name, note)| {
            serde_json::json!({"type": "totp", "name": name, "issuer": issuer, "note": note,
                "info": {"secret": B32, "algo": "SHA1", "digits": 6, "period": 30}})
        })
        .collect();
    serde_json::json!({"version": 1, "header": {"slots": null, "params": null},
        "db": {"version": 2, "entries": entries}})
    .to_string()
}

#[test]
fn eight_concurrent_adds_keep_all_eight() {
    let v = new_vault("concurrent");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let uri = format!("otpauth://totp/Race:user{i}?secret={B32}&issuer=Race");
            cmd(&v, Some("pw"), &["add", &uri])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", crate::stderr(&o));
    }
    let mut got: Vec<String> = list(&v)
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let want: Vec<String> = (0..8).map(|i| format!("user{i}")).collect();
    assert_eq!(got, want);
    // No temp file is left; the lock file stays.
    assert_eq!(
        names(&dir_of(&v)),
        ["vault.json", "vault.json.bak", "vault.json.lock"]
    );
}

/// A FreeOTP 2 token store (Java serialization) of `pairs` entries whose every key and value
/// refers back to one `string_len`-byte string.
fn freeotp_back_reference_bomb(string_len: usize, pairs: u32) -> Vec<u8> {
    let mut b = vec![0xAC, 0xED, 0x00, 0x05, 0x73, 0x72];
    let class = b"java.util.HashMap";
    b.extend((class.len() as u16).to_be_bytes());
    b.extend(class);
    b.extend(362_498_820_763_181_265i64.to_be_bytes());
    b.extend([0x03, 0x00, 0x02, b'F']);
    b.extend(10u16.to_be_bytes());
    b.extend(b"loadFactor");
    b.push(b'I');
    b.extend(9u16.to_be_bytes());
    b.extend(b"threshold");
    b.extend([0x78, 0x70]);
    b.extend(0.75f32.to_be_bytes());
    b.extend(12u32.to_be_bytes());
    b.extend([0x77, 8]);
    b.extend(16u32.to_be_bytes());
    b.extend(pairs.to_be_bytes());
    b.push(0x7C); // TC_LONGSTRING
    b.extend((string_len as u64).to_be_bytes());
    b.extend(std::iter::repeat_n(b'a', string_len));
    for _ in 0..(2 * pairs - 1) {
        b.push(0x71); // TC_REFERENCE to handle base + 2: the long string
        b.extend((0x7E_0000u32 + 2).to_be_bytes());
    }
    b.push(0x78);
    b
}

#[test]
fn a_freeotp_back_reference_bomb_is_a_clean_error_under_4_gib() {
    let v = new_vault("javabomb");
    let file = dir_of(&v).join("tokens.xml");
    let bomb = freeotp_back_reference_bomb(1 << 20, 100_000);
    assert!(bomb.len() < 3 << 20, "a 2 MB file");
    std::fs::write(&file, &bomb).unwrap();
    let before = std::fs::read(&v).unwrap();
    let start = Instant::now();
    let o = limited(
        &v,
        "pw",
        AS_4GIB,
        &["import", file.to_str().unwrap(), "--format", "freeotp"],
    );
    let line = assert_error(&o, 1);
    assert!(start.elapsed() < HANG);
    assert!(line.contains("more than"), "{line}");
    assert_eq!(std::fs::read(&v).unwrap(), before);
}

#[test]
fn an_aegis_scrypt_bomb_is_a_clean_error_under_4_gib() {
    let v = new_vault("scryptbomb");
    let slot = serde_json::json!({"type": 1, "uuid": "x", "key": "00".repeat(32),
        "key_params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)},
        "n": 1u64 << 20, "r": 32, "p": 16, "salt": "00".repeat(32)});
    let file_json = serde_json::json!({"version": 1,
        "header": {"slots": vec![slot; 8], "params": {"nonce": "00".repeat(12), "tag": "00".repeat(16)}},
        "db": "AAAA"});
    let file = dir_of(&v).join("aegis.json");
    std::fs::write(&file, file_json.to_string()).unwrap();
    let pwfile = dir_of(&v).join("aegis-pw");
    std::fs::write(&pwfile, "pw\n").unwrap();
    let start = Instant::now();
    let o = limited(
        &v,
        "pw",
        AS_4GIB,
        &[
            "import",
            file.to_str().unwrap(),
            "--format",
            "aegis",
            "--import-password-file",
            pwfile.to_str().unwrap(),
        ],
    );
    assert_error(&o, 1);
    assert!(start.elapsed() < HANG);
}

fn sha256_hex(text: &str) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap()[..64].to_owned()
}

#[test]
fn an_argon2_slot_bomb_in_a_vault_is_a_clean_error_under_4_gib() {
    let v = new_vault("argonbomb");
    let mut file: Value = serde_json::from_slice(&std::fs::read(&v).unwrap()).unwrap();
    let kdf = &mut file["header"]["slots"][0]["kdf"];
    kdf["memory_kib"] = (4u64 * 1024 * 1024).into();
    kdf["iterations"] = 64.into();
    kdf["lanes"] = 16.into();
    let header = serde_json::to_string(&file["header"]).unwrap();
    file["checksum"] = sha256_hex(&format!("{header}\n{}", file["db"].as_str().unwrap())).into();
    let bytes = serde_json::to_vec(&file).unwrap();
    std::fs::write(&v, &bytes).unwrap();
    let start = Instant::now();
    let o = limited(&v, "pw", AS_4GIB, &["list"]);
    let line = assert_error(&o, 4);
    assert!(line.contains("key derivation"), "{line}");
    assert!(start.elapsed() < HANG);
    assert_eq!(std::fs::read(&v).unwrap(), bytes);
}

#[cfg(unix)]
#[test]
fn exports_leave_one_owner_only_file_and_follow_no_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let v = new_vault("export");
    let uri = format!("otpauth://totp/ACME:alice?secret={B32}&issuer=ACME");
    assert!(run(&v, Some("pw"), &["add", &uri]).status.success());
    let out_dir = dir_of(&v).join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("accounts.txt");
    // A file that already exists, readable by all.
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    for _ in 0..2 {
        let o = run(
            &v,
            Some("pw"),
            &["export", out.to_str().unwrap(), "--format", "otpauth-list"],
        );
        assert!(o.status.success(), "{}", crate::stderr(&o));
    }
    assert_eq!(names(&out_dir), ["accounts.txt"]);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&out).unwrap().contains(B32));
    // Symlinks planted at the target's temp name and at the target itself.
    let victim = out_dir.join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let planted = out_dir.join("accounts.txt.tmp");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let o = run(
        &v,
        Some("pw"),
        &["export", out.to_str().unwrap(), "--format", "otpauth-list"],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let linked = out_dir.join("linked.txt");
    std::os::unix::fs::symlink(&victim, &linked).unwrap();
    let o = run(
        &v,
        Some("pw"),
        &[
            "export",
            linked.to_str().unwrap(),
            "--format",
            "otpauth-list",
        ],
    );
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    for f in [&out, &linked] {
        let meta = std::fs::symlink_metadata(f).unwrap();
        assert!(meta.file_type().is_file(), "{f:?} is a regular file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_full_disk_leaves_the_vault_identical_and_no_temp_file() {
    let v = new_vault("fsize");
    for i in 0..3 {
        let uri = format!("otpauth://totp/Disk:user{i}?secret={B32}&issuer=Disk");
        assert!(run(&v, Some("pw"), &["add", &uri]).status.success());
    }
    let before = std::fs::read(&v).unwrap();
    let files_before = names(&dir_of(&v));
    // 2 blocks of 512 bytes, less than the vault: the write fails with EFBIG as on a full disk
    // (SIGXFSZ ignored, as a full disk sends no signal).
    assert!(before.len() > 1024);
    let uri = format!("otpauth://totp/Disk:late?secret={B32}&issuer=Disk");
    let o = limited(&v, "pw", "ulimit -f 2; trap '' XFSZ", &["add", &uri]);
    assert_error(&o, 1);
    assert_eq!(std::fs::read(&v).unwrap(), before);
    assert_eq!(names(&dir_of(&v)), files_before);
    let o = run(&v, Some("pw"), &["add", &uri]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(list(&v).len(), 4);
}

#[test]
fn after_passwd_nothing_beside_the_vault_opens_with_the_old_password() {
    let v = new_vault("passwd-rekey");
    for i in 0..2 {
        let uri = format!("otpauth://totp/Key:user{i}?secret={B32}&issuer=Key");
        assert!(run(&v, Some("pw"), &["add", &uri]).status.success());
    }
    assert!(crate::scan_backup_exists(&v));
    let o = cmd(&v, Some("pw"), &["passwd", "--kdf", "minimum"])
        .env("TWOFOLD_NEW_PASSWORD", "new pw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", crate::stderr(&o));
    let dir = dir_of(&v);
    for name in names(&dir) {
        if name.ends_with(".lock") {
            continue;
        }
        let f = dir.join(&name);
        let o = run(&f, Some("pw"), &["list"]);
        assert!(!o.status.success(), "{name} opens with the old password");
    }
    let o = run(&v, Some("new pw"), &["list", "--json"]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    // The next save keeps a backup again, under the new password.
    let uri = format!("otpauth://totp/Key:user9?secret={B32}&issuer=Key");
    assert!(run(&v, Some("new pw"), &["add", &uri]).status.success());
    let bak = dir.join("vault.json.bak");
    assert!(run(&bak, Some("new pw"), &["list"]).status.success());
    assert!(!run(&bak, Some("pw"), &["list"]).status.success());
}

fn assert_no_control_bytes(o: &Output, what: &str) {
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c.is_control() && c != '\n')
            .collect();
        assert!(bad.is_empty(), "{what} {stream} carries {bad:?}: {text:?}");
    }
}

#[test]
fn control_bytes_from_data_never_reach_the_terminal() {
    let v = new_vault("control");
    let evil = "\u{1b}]0;pwned\u{7}ACME\r\u{9b}";
    let file = dir_of(&v).join("aegis.json");
    std::fs::write(&file, aegis_plain(&[(evil, "al\nice", "n")])).unwrap();
    let o = run(&v, Some("pw"), &["import", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_no_control_bytes(&o, "import");
    // Importing again: the duplicate is reported by name.
    let o = run(&v, Some("pw"), &["import", file.to_str().unwrap()]);
    assert_no_control_bytes(&o, "import again");
    let o = run(&v, Some("pw"), &["list"]);
    assert_no_control_bytes(&o, "list");
    let o = run(&v, Some("pw"), &["code"]);
    assert_no_control_bytes(&o, "code");
    let o = run(&v, Some("pw"), &["code", "pwned"]);
    assert!(o.status.success());
    assert_no_control_bytes(&o, "code pwned");
    let out = dir_of(&v).join("out.json");
    let o = run(
        &v,
        Some("pw"),
        &["export", out.to_str().unwrap(), "--format", "aegis"],
    );
    assert_no_control_bytes(&o, "export");
    let id = list(&v)[0]["id"].as_str().unwrap().to_owned();
    let o = run(&v, Some("pw"), &["remove", &id]);
    assert!(o.status.success());
    assert_no_control_bytes(&o, "remove");
    // A QR code's text, printed by `scan`.
    let mut img = image::GrayImage::from_pixel(400, 400, image::Luma([255]));
    crate::scan::draw(
        &mut img,
        "hello\u{1b}[2J\u{1b}]0;pwned\u{7}world",
        20,
        20,
        6,
        false,
    );
    let png = dir_of(&v).join("evil.png");
    img.save_with_format(&png, image::ImageFormat::Png).unwrap();
    let o = crate::twofold(&["scan", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert!(crate::stdout(&o).contains("pwned"));
    assert_no_control_bytes(&o, "scan");
}

/// `otpauth-migration://` with one TOTP account and the given batch fields.
fn migration_uri(batch_size: u32, batch_index: u32) -> String {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut param = vec![0x0a, 10];
    param.extend(b"0123456789");
    param.extend([0x12, 5]);
    param.extend(b"alice");
    param.extend([0x20, 1, 0x28, 1, 0x30, 2]);
    let mut payload = vec![0x0a, param.len() as u8];
    payload.extend(param);
    payload.extend([0x10, 1, 0x18]);
    varint(u64::from(batch_size), &mut payload);
    payload.push(0x20);
    varint(u64::from(batch_index), &mut payload);
    let b64 = base64_encode(&payload);
    let data: String = b64
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_owned(),
            '/' => "%2F".to_owned(),
            '=' => "%3D".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("otpauth-migration://offline?data={data}")
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn migration_batch_fields_are_capped() {
    let v = new_vault("batch");
    let before = std::fs::read(&v).unwrap();
    for (size, index) in [(i32::MAX as u32, 0), (100_001, 5), (3, i32::MAX as u32)] {
        let o = run(&v, Some("pw"), &["add", &migration_uri(size, index)]);
        assert_error(&o, 1);
    }
    assert_eq!(std::fs::read(&v).unwrap(), before);
    // A real multi-QR export still adds.
    let o = run(&v, Some("pw"), &["add", &migration_uri(2, 1)]);
    assert!(o.status.success(), "{}", crate::stderr(&o));
    assert_eq!(list(&v).len(), 1);
}

#[test]
fn a_60_mb_note_is_refused_before_writing() {
    let v = new_vault("bignote");
    let uri = format!("otpauth://totp/Small:bob?secret={B32}&issuer=Small");
    assert!(run(&v, Some("pw"), &["add", &uri]).status.success());
    let before = std::fs::read(&v).unwrap();
    let files_before = names(&dir_of(&v));
    let note = "n".repeat(60 * 1000 * 1000);
    let file = dir_of(&v).join("aegis.json");
    std::fs::write(&file, aegis_plain(&[("Big", "alice", &note)])).unwrap();
    let o = run(&v, Some("pw"), &["import", file.to_str().unwrap()]);
    assert_error(&o, 1);
    assert!(crate::stdout(&o).contains("the note is 60000000 bytes long"));
    std::fs::remove_file(&file).unwrap();
    assert_eq!(std::fs::read(&v).unwrap(), before);
    assert_eq!(names(&dir_of(&v)), files_before);
    // The vault still opens. (A vault that would exceed 64 MiB by other means is refused by
    // `Vault::to_bytes` before any write: the core test a_vault_too_large_to_open_is_never_written.)
    assert_eq!(list(&v).len(), 1);
}

#[test]
fn an_endless_file_is_refused_after_the_cap_not_read_whole() {
    // /dev/zero never ends: read whole, it would fill memory; capped, it is refused at 64 MiB,
    // under an address-space limit that a whole read would exceed.
    let v = new_vault("endless");
    let before = std::fs::read(&v).unwrap();
    for args in [
        &["import", "/dev/zero"][..],
        &["add", "--image", "/dev/zero"],
        &["scan", "/dev/zero"],
    ] {
        let started = Instant::now();
        let o = limited(&v, "pw", "ulimit -v 4194304", args);
        assert!(started.elapsed() < HANG, "{args:?} hung");
        let line = assert_error(&o, 1);
        assert!(line.contains("larger than 64 MiB"), "{args:?}: {line}");
    }
    assert_eq!(std::fs::read(&v).unwrap(), before);
}
