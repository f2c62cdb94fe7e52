//! Tauri's build step: reads tauri.conf.json and the capability files, writes gen/schemas.

fn main() {
    // Capabilities live beside the shell's sources, not at the manifest's root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports failure by exiting non-zero with the reason on stderr.
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
