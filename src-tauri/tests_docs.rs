//! The IPC contract's command list is the app's: every command registered in `lib.rs`
//! (`generate_handler!`) is documented in `docs/ipc.md` or `docs/ipc-push.md`, every command
//! those tables list is registered, and each one answers through the real IPC path (an
//! unregistered name answers "Command … not found").

use std::collections::BTreeSet;

use serde_json::json;

use crate::tests::shell;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The names in `generate_handler![...]` in `src-tauri/lib.rs`, without their module paths.
fn registered() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(format!("{ROOT}/src-tauri/lib.rs")).expect("lib.rs");
    let start = lib
        .find("generate_handler![")
        .expect("generate_handler! in lib.rs");
    let list = &lib[start + "generate_handler![".len()..];
    let list = &list[..list.find(']').expect("end of generate_handler!")];
    list.split(',')
        .map(|path| path.trim())
        .filter(|path| !path.is_empty())
        .map(|path| path.rsplit("::").next().unwrap_or(path).to_owned())
        .collect()
}

/// The first column of every row of a `## Commands` table in the IPC docs.
fn documented() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for doc in ["docs/ipc.md", "docs/ipc-push.md"] {
        let text = std::fs::read_to_string(format!("{ROOT}/{doc}")).expect("IPC doc");
        let mut in_commands = false;
        for line in text.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                in_commands = heading.trim() == "Commands";
                continue;
            }
            if !in_commands {
                continue;
            }
            let Some(first) = line.strip_prefix("| `") else {
                continue;
            };
            let Some(name) = first.split('`').next() else {
                continue;
            };
            names.insert(name.to_owned());
        }
    }
    names
}

#[test]
fn the_registered_commands_are_the_documented_ones() {
    let registered = registered();
    let documented = documented();
    assert!(
        registered.len() > 40,
        "parsed {} commands from lib.rs",
        registered.len()
    );
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unregistered: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unregistered.is_empty(),
        "registered but not in docs/ipc.md or docs/ipc-push.md: {undocumented:?}; \
         documented but not registered: {unregistered:?}"
    );

    // The list read from lib.rs is what the running app answers to: each name reaches a
    // handler (whatever it then says of the empty arguments), and a made-up one does not.
    let shell = shell();
    let not_found = |cmd: &str| match shell.call(cmd, json!({})) {
        Err(e) => e
            .as_str()
            .is_some_and(|m| m.contains("not found") && m.contains(cmd)),
        Ok(_) => false,
    };
    assert!(
        not_found("no_such_command"),
        "an unknown command is refused"
    );
    let unanswered: Vec<_> = registered.iter().filter(|c| not_found(c)).collect();
    assert!(
        unanswered.is_empty(),
        "documented but not answered: {unanswered:?}"
    );
}
