//! Issue 18, part 3, from outside with the binary (`docs/cli.md`, Global: "Waiting"): a
//! command waiting at its password prompt on a terminal holds no lock, so a reader and another
//! writer go on meanwhile, and the prompted command's change lands on top of theirs.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::stderr;
use crate::vault::{list, new_vault, run};

const B32: &str = "JBSWY3DPEHPK3PXP";

/// python3 runs a terminal here and measures memory in `scale.rs`; without it these tests say
/// so and pass.
pub(crate) fn python3() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: python3 is needed to run a terminal and to measure memory");
    }
    ok
}

/// A terminal for `twofold`: python3's `pty.fork` makes it the child's controlling terminal,
/// as a person's shell would. The script says `AT-PROMPT` once the password prompt is shown,
/// types `$PTY_ANSWER` when it reads a line on its stdin, and ends with `EXIT <code>`.
const PTY: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
def read():
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""
while b"password" not in seen.lower():
    chunk = read()
    if not chunk:
        break
    seen += chunk
print("AT-PROMPT", flush=True)
sys.stdin.readline()
os.write(fd, os.environ["PTY_ANSWER"].encode() + b"\n")
while True:
    chunk = read()
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
print("\nEXIT", os.waitstatus_to_exitcode(status), flush=True)
"#;

#[test]
fn a_command_at_its_password_prompt_keeps_no_one_waiting() {
    if !python3() {
        return;
    }
    let v = new_vault("prompt");
    let prompted = format!("otpauth://totp/Prompt:at-the-prompt?secret={B32}&issuer=Prompt");
    let meanwhile = format!("otpauth://totp/Prompt:meanwhile?secret={B32}&issuer=Prompt");
    let mut pty = Command::new("python3")
        .arg("-c")
        .arg(PTY)
        .arg(env!("CARGO_BIN_EXE_twofold"))
        .arg("--vault")
        .arg(&v)
        .args(["add", &prompted])
        .env_remove("TWOFOLD_PASSWORD")
        .env_remove("TWOFOLD_VAULT")
        .env("PTY_ANSWER", "pw")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(pty.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "AT-PROMPT", "the prompt never came");

    // While `add` waits for its password: a reader finishes, and so does another writer.
    let start = Instant::now();
    let o = run(&v, Some("pw"), &["list", "--json"]);
    let waited = start.elapsed();
    assert!(o.status.success(), "list: {}", stderr(&o));
    eprintln!("`list` while `add` sits at its password prompt: {waited:?}");
    let start = Instant::now();
    let o = run(&v, Some("pw"), &["add", &meanwhile]);
    assert!(o.status.success(), "add: {}", stderr(&o));
    eprintln!(
        "`add` while another `add` sits at its prompt: {:?}",
        start.elapsed()
    );

    // The person types the password: the prompted `add` saves on top of the other's change.
    writeln!(pty.stdin.take().unwrap()).unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(pty.wait().unwrap().success());
    assert!(rest.trim_end().ends_with("EXIT 0"), "{rest}");
    let mut names: Vec<String> = list(&v)
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["at-the-prompt", "meanwhile"]);
}
