package io.crates.keyring

import android.content.Context

// The bridge that android-native-keyring-store (the push keys' secure storage, docs/push.md
// "Push while locked") expects: it gets the app context through ndk-context, which this JNI
// function of the Rust library sets. Package and names are fixed by the crate.
class Keyring {
  companion object {
    init {
      System.loadLibrary("twofold_app_lib")
    }

    external fun initializeNdkContext(context: Context)
  }
}
