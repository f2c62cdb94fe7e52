// The one passphrase rule is Rust's (twofold_core::strength, zxcvbn), the rule the CLI applies
// too: the UI asks the shell (`passphrase_strength`) and never rates a password itself.
import { ipc } from "./ipc";

/** True when Rust accepts `password` as a new vault password or sync passphrase. */
export async function acceptable(password: string): Promise<boolean> {
  return (await ipc.passphraseStrength(password)).acceptable;
}
