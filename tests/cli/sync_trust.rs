//! Sync you can trust (`docs/sync.md`, `docs/cli.md` "Sync": "Time", "Bounded", "Passphrase"),
//! each test against a folder and a real Apache WebDAV server where the target matters: a
//! member's replica forged with far-future stamps is named and never merged, and a local change
//! made afterwards sticks; junk replicas past the memory budget are skipped by name; a weak
//! sync passphrase is refused at set-up.

use serde_json::Value;
use twofold_core::rng::SystemRng;
use twofold_core::sync::replica::{open_key_file, seal_replica};
use twofold_core::sync::session::replica_name;
use twofold_core::sync::{DeviceId, Hlc, State, Writer};
use twofold_core::{AccountEntry, uri as otpauth};

use crate::stderr;
use crate::sync::{Place, accounts, ids, ok, run, sync, sync_command, two_vaults_one_synced};

/// A member who knows the passphrase writes a replica as `mallory` replacing every account
/// `ids` with `secret`, stamped (2^64-1 ms, 2^32-1): what would freeze those accounts for good.
fn forge_far_future(place: &Place, ids: &[String], secret: &str) -> String {
    let key_file = std::fs::read_dir(place.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("key-"))
        .unwrap();
    let (key_id, key) =
        open_key_file(&std::fs::read(key_file).unwrap(), b"sync passphrase").unwrap();
    let mallory = DeviceId::from_bytes([0x66; 16]);
    let mut state = State::new();
    for (n, id) in ids.iter().enumerate() {
        let account = otpauth::parse(&format!(
            "otpauth://totp/Mallory:victim{n}?secret={secret}&issuer=Mallory"
        ))
        .unwrap();
        let stamp = Hlc {
            ms: u64::MAX,
            counter: u32::MAX,
            device: mallory,
        };
        state.upsert(id, AccountEntry::new(account), n as u32, stamp);
    }
    let writer = Writer {
        name: "mallory".into(),
        at: 0,
    };
    let bytes = seal_replica(
        &state,
        &writer,
        &key_id,
        &key,
        mallory,
        1,
        &SystemRng::new(),
    )
    .unwrap();
    let name = replica_name(mallory);
    std::fs::write(place.dir().join(&name), bytes).unwrap();
    name
}

fn far_future_replica(webdav: bool) {
    let Some((root, place, a, b)) = two_vaults_one_synced("future", webdav) else {
        return;
    };
    sync(&place, &b);
    let before = accounts(&b);
    assert_eq!(before.len(), 1);
    let forged = forge_far_future(&place, &ids(&b), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");

    // Named in a warning, nothing of it merged, exit 0.
    let o = ok(sync_command(&place, &b).output().unwrap());
    let warnings: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&forged) && warnings[0].contains("ahead"),
        "{warnings:?}"
    );
    let report: Value = serde_json::from_str(&crate::stdout(&o)).unwrap();
    assert_eq!(report["changed"], 0, "{report}");
    assert_eq!(accounts(&b), before);

    // A local change made afterwards sticks, here and on the other device.
    let id = ids(&b)[0].clone();
    ok(run(&b.0, &b.1, None, &["remove", &id]));
    ok(run(&b.0, &b.1, None, &["add", &crate::sync::uri(7)]));
    sync(&place, &b);
    sync(&place, &a);
    sync(&place, &b);
    let after = accounts(&b);
    assert_eq!(after.len(), 1);
    assert!(after[0].0.contains("Issuer7"), "{after:?}");
    assert_eq!(accounts(&a), after);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_far_future_replica_in_a_folder_is_named_and_a_later_change_sticks() {
    far_future_replica(false);
}

#[test]
fn a_far_future_replica_through_webdav_is_named_and_a_later_change_sticks() {
    far_future_replica(true);
}

/// Runs `c` and returns its output and its peak resident memory in bytes, read from
/// `/proc/<pid>/status` (`VmHWM`, a high-water mark that never goes down) while it runs: a
/// measurement, at worst a little low, never a wait for anything.
fn run_measured(mut c: std::process::Command) -> (std::process::Output, u64) {
    use std::io::Read;
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        out_pipe.read_to_end(&mut b).unwrap();
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        err_pipe.read_to_end(&mut b).unwrap();
        b
    });
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let output = std::process::Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (output, peak_kb * 1024)
}

#[test]
fn twenty_junk_replicas_are_skipped_past_256_mib_with_peak_memory_measured() {
    let Some((root, place, a, b)) = two_vaults_one_synced("junk", false) else {
        return;
    };
    sync(&place, &b);
    ok(run(&a.0, &a.1, None, &["add", &crate::sync::uri(2)]));
    sync(&place, &a);
    // Twenty sparse files of a replica's full size (64 MiB), named as replicas are.
    let mut junk = Vec::new();
    for i in 0..20u8 {
        let name = format!("{}.twofold-sync", format!("{:02x}", 0x80 + i).repeat(16));
        let f = std::fs::File::create(place.dir().join(&name)).unwrap();
        f.set_len(64 * 1024 * 1024).unwrap();
        junk.push(name);
    }
    let (o, peak) = run_measured(sync_command(&place, &b));
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    println!(
        "peak memory of a sync over 20 x 64 MiB junk replicas: {:.0} MiB",
        peak as f64 / (1024.0 * 1024.0)
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    // Every junk file is named: the ones read as damaged, the rest as past the budget.
    for name in &junk {
        assert!(
            warnings.iter().any(|w| w.contains(name.as_str())),
            "{name}: {err}"
        );
    }
    let skipped = warnings.iter().filter(|w| w.contains("256 MiB")).count();
    assert!(skipped >= 16, "{err}");
    // The real replicas were read first: b has a's new account.
    assert_eq!(accounts(&b), accounts(&a));
    assert_eq!(accounts(&b).len(), 2);
    // Four junk files are 256 MiB; the old code held all twenty (1.29 GB).
    assert!(peak < 512 * 1024 * 1024, "peak {peak} bytes");
    let _ = std::fs::remove_dir_all(&root);
}

fn weak_passphrase(webdav: bool) {
    let Some((root, place)) = crate::sync::setup("weak", webdav) else {
        return;
    };
    let v = crate::sync::vault(&root, 0);
    let vault_before = std::fs::read(&v.0).unwrap();
    for weak in ["password1", "twofold2024", "qwertyuiop"] {
        let mut c = sync_command(&place, &v);
        c.env("TWOFOLD_SYNC_PASSWORD", weak);
        let o = c.output().unwrap();
        let line = crate::assert_error(&o, 1);
        assert!(line.contains("too weak"), "{line}");
        assert!(
            !line.contains(weak),
            "the passphrase is never printed: {line}"
        );
        assert_eq!(std::fs::read(&v.0).unwrap(), vault_before);
        assert_eq!(
            std::fs::read_dir(place.dir()).unwrap().count(),
            0,
            "no key file is made"
        );
    }
    // The one the tests use everywhere passes the same rule.
    sync(&place, &v);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_weak_sync_passphrase_is_refused_at_set_up_in_a_folder() {
    weak_passphrase(false);
}

#[test]
fn a_weak_sync_passphrase_is_refused_at_set_up_through_webdav() {
    weak_passphrase(true);
}
