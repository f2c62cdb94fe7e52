//! A Python venv under Cargo's target tmp directory with pinned requirements, made once and
//! reused while the requirements stay the same (a marker file holds the installed copy). Used
//! by the real privacyIDEA fixture (`tests/cli/privacyidea.rs`) and the relay's independent
//! checks (`crates/relay/tests/support`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs a command; its output becomes the error when it fails.
pub fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// `<target>/tmp/<name>/venv` with `requirements` installed from PyPI: `Ok((venv, true))` when
/// it was (re)made now, `Ok((venv, false))` when the installed one was current.
pub fn pinned_venv(name: &str, requirements: &str) -> Result<(PathBuf, bool), String> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let venv = root.join("venv");
    let marker = root.join("installed.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(requirements) {
        return Ok((venv, false));
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (Debian needs the python3-venv package)",
    )?;
    let req = root.join("requirements.txt");
    std::fs::write(&req, requirements).map_err(|e| e.to_string())?;
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--disable-pip-version-check", "-q", "-r"])
            .arg(&req),
        &format!("pip install -r {} (PyPI)", req.display()),
    )?;
    std::fs::write(&marker, requirements).map_err(|e| e.to_string())?;
    println!(
        "{name}: installed into {} in {:.1} s",
        venv.display(),
        started.elapsed().as_secs_f64()
    );
    Ok((venv, true))
}
