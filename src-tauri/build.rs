//! Tauri's build step: reads tauri.conf.json and the capability files, writes gen/schemas; notes
//! whether an Android build has a Firebase configuration (`twofold_fcm`); and, building for iOS
//! on macOS, merges Entitlements.ios.plist into the Xcode project's
//! entitlements (Info.ios.plist is merged by the Tauri CLI itself).

fn main() {
    // FCM is opt-in (docs/push.md, "Phones"): an Android build registers for push only with the
    // app's own Firebase project's google-services.json beside the app's gradle file.
    println!("cargo::rustc-check-cfg=cfg(twofold_fcm)");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("android") {
        let firebase = "gen/android/app/google-services.json";
        // The folder (always there): a file that does not exist would rerun this every build.
        println!("cargo:rerun-if-changed=gen/android/app");
        if std::path::Path::new(firebase).is_file() {
            println!("cargo:rustc-cfg=twofold_fcm");
        }
    }
    // Capabilities live beside the shell's sources, not at the manifest's root.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports failure by exiting non-zero with the reason on stderr.
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
    #[cfg(target_os = "macos")]
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("ios") {
        if let Err(e) = ios::merge_entitlements() {
            eprintln!("Entitlements.ios.plist: {e:#}");
            std::process::exit(1);
        }
    }
}

/// The Push Notifications capability (`aps-environment`) and whatever else
/// Entitlements.ios.plist holds, written into
/// gen/apple/twofold_app_iOS/twofold_app_iOS.entitlements (the file `tauri ios init` makes
/// empty) by tauri-plugin's `update_entitlements`, which finds it through the
/// `TAURI_IOS_PROJECT_PATH` and `TAURI_IOS_APP_NAME` that the Tauri CLI sets for Xcode's build.
#[cfg(target_os = "macos")]
mod ios {
    pub fn merge_entitlements() -> Result<(), Box<dyn std::error::Error>> {
        println!("cargo:rerun-if-changed=Entitlements.ios.plist");
        let ours = plist::Value::from_file("Entitlements.ios.plist")?;
        let Some(ours) = ours.into_dictionary() else {
            return Err("not a plist dictionary".into());
        };
        tauri_plugin::mobile::update_entitlements(move |entitlements| {
            for (key, value) in ours {
                entitlements.insert(key, value);
            }
        })?;
        Ok(())
    }
}
