//! Issue 18, part 4, from outside with the binary (`docs/cli.md`, Global: "Scale" and
//! "Hostile input"): a 100,000-line import runs in one pass; hostile files (a 2FAS field of
//! separators, millions of JSON values, an Authy store asking for 100,000 key derivations) end
//! in a clean error with peak memory a small multiple of the file. Times and peaks are printed
//! (`--nocapture`), never asserted tighter than a hang guard.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::vault::{cmd, list, new_vault};
use crate::waiting::python3;
use crate::{assert_error, stderr, stdout};

const B32: &str = "JBSWY3DPEHPK3PXP";

/// A hang guard, not a speed assertion: the quadratic import took minutes for 100,000 lines.
const HANG: Duration = Duration::from_secs(120);

/// Runs `c` as a child of python3, which reports its peak resident memory
/// (`getrusage(RUSAGE_CHILDREN).ru_maxrss`): the output, the peak in MiB and the time taken.
fn measured(c: &Command) -> (Output, f64, Duration) {
    const SCRIPT: &str = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:])\n\
        sys.stderr.write('\\nmaxrss_kib=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
        sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n";
    let mut py = Command::new("python3");
    py.arg("-c")
        .arg(SCRIPT)
        .arg(c.get_program())
        .args(c.get_args())
        .stdin(Stdio::null());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => py.env(k, v),
            None => py.env_remove(k),
        };
    }
    let start = Instant::now();
    let o = py.output().unwrap();
    let took = start.elapsed();
    let err = stderr(&o);
    let kib: f64 = err
        .lines()
        .filter_map(|l| l.strip_prefix("maxrss_kib="))
        .next_back()
        .unwrap_or_else(|| panic!("no measurement: {err}"))
        .parse()
        .unwrap();
    (o, kib / 1024.0, took)
}

/// `twofold import FILE` of an encrypted export (password `pw`), measured.
fn import_encrypted(vault: &Path, file: &Path) -> (Output, f64, Duration) {
    let password = vault.with_file_name("file-password");
    std::fs::write(&password, "pw\n").unwrap();
    measured(&cmd(
        vault,
        Some("pw"),
        &[
            "import",
            file.to_str().unwrap(),
            "--import-password-file",
            password.to_str().unwrap(),
        ],
    ))
}

fn mib(path: &Path) -> f64 {
    std::fs::metadata(path).unwrap().len() as f64 / (1024.0 * 1024.0)
}

fn import_json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)))
}

#[test]
fn a_100000_line_otpauth_list_imports_in_one_pass() {
    if !python3() {
        return;
    }
    let v = new_vault("import-100k");
    let file = v.with_file_name("list.txt");
    let mut text = String::new();
    for i in 0..100_000 {
        text.push_str(&format!(
            "otpauth://totp/Scale:user{i}@example.com?secret={B32}&issuer=Scale\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    let args = [
        "import",
        file.to_str().unwrap(),
        "--format",
        "otpauth-list",
        "--json",
    ];
    let (o, peak, took) = measured(&cmd(&v, Some("pw"), &args));
    eprintln!(
        "import of 100,000 otpauth lines ({:.1} MiB): {took:?}, peak {peak:.0} MiB",
        mib(&file)
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(took < HANG);
    let out = import_json(&o);
    assert_eq!(out["imported"], 100_000);
    assert_eq!(out["skipped"].as_array().unwrap().len(), 0);
    assert_eq!(list(&v).len(), 100_000);
    // The vault of 100,000 accounts is about 20 times the list; everything in memory at once
    // (the accounts, their JSON, its encryption) stays a small multiple of that.
    assert!(peak < 64.0 * mib(&file) + 64.0, "peak {peak:.0} MiB");

    // Again: every line is already there, found by the same one pass.
    let (o, peak, took) = measured(&cmd(&v, Some("pw"), &args));
    eprintln!("the same 100,000 lines again (all duplicates): {took:?}, peak {peak:.0} MiB");
    assert_error(&o, 1);
    assert!(took < HANG);
    assert_eq!(
        import_json(&o)["skipped"].as_array().unwrap().len(),
        100_000
    );
}

#[test]
fn a_2fas_file_of_separators_is_refused_in_bounded_memory() {
    if !python3() {
        return;
    }
    let v = new_vault("2fas-separators");
    let file = v.with_file_name("separators.2fas");
    let separators = ":".repeat(48 * 1000 * 1000);
    std::fs::write(
        &file,
        format!(r#"{{"schemaVersion":4,"services":[],"servicesEncrypted":"{separators}"}}"#),
    )
    .unwrap();
    let before = std::fs::read(&v).unwrap();
    let (o, peak, took) = import_encrypted(&v, &file);
    eprintln!(
        "2FAS file of separators ({:.0} MiB): {took:?}, peak {peak:.0} MiB",
        mib(&file)
    );
    let line = assert_error(&o, 1);
    assert!(line.contains("not data:salt:iv"), "{line}");
    assert!(took < HANG);
    assert_eq!(std::fs::read(&v).unwrap(), before);
    // It took 828 MiB: a slice for every separator.
    assert!(peak < 5.0 * mib(&file), "peak {peak:.0} MiB");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn a_json_file_of_millions_of_values_is_refused_before_parsing() {
    if !python3() {
        return;
    }
    let v = new_vault("json-values");
    let file = v.with_file_name("zeros.2fas");
    let mut zeros = "0,".repeat(24 * 1000 * 1000);
    zeros.pop();
    std::fs::write(
        &file,
        format!(r#"{{"schemaVersion":4,"services":[{zeros}]}}"#),
    )
    .unwrap();
    let (o, peak, took) = measured(&cmd(
        &v,
        Some("pw"),
        &["import", file.to_str().unwrap(), "--format", "2fas"],
    ));
    eprintln!(
        "2FAS file of 24,000,000 numbers ({:.0} MiB): {took:?}, peak {peak:.0} MiB",
        mib(&file)
    );
    let line = assert_error(&o, 1);
    assert!(line.contains("JSON values"), "{line}");
    // A parsed number takes 32 bytes: 16 times the file, before the cap.
    assert!(peak < 3.0 * mib(&file), "peak {peak:.0} MiB");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn an_authy_store_of_100000_tokens_is_refused_before_deriving_keys() {
    if !python3() {
        return;
    }
    let v = new_vault("authy-100k");
    let file = v.with_file_name("authy.xml");
    let tokens: Vec<String> = (0..100_000)
        .map(|i| {
            format!(
                r#"{{&quot;encryptedSecret&quot;:&quot;AAAAAAAAAAAAAAAAAAAAAA==&quot;,&quot;salt&quot;:&quot;salt{i}&quot;,&quot;digits&quot;:6,&quot;name&quot;:&quot;user{i}&quot;}}"#
            )
        })
        .collect();
    std::fs::write(
        &file,
        format!(
            "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n<string name=\"com.authy.storage.tokens.authenticator.key\">[{}]</string>\n</map>\n",
            tokens.join(",")
        ),
    )
    .unwrap();
    let (o, peak, took) = import_encrypted(&v, &file);
    eprintln!(
        "Authy store of 100,000 encrypted tokens ({:.1} MiB): {took:?}, peak {peak:.0} MiB",
        mib(&file)
    );
    let line = assert_error(&o, 1);
    assert!(line.contains("100000 key derivations"), "{line}");
    assert!(took < HANG);
    assert!(peak < 16.0 * mib(&file) + 64.0, "peak {peak:.0} MiB");
    std::fs::remove_file(&file).unwrap();
}
