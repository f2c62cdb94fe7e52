// The only place the UI talks to Rust: one typed function per command of docs/ipc.md.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { toAppError } from "./errors";
import type {
  AccountPatch, AccountView, AddResult, AppStatus, BackupFailedPayload, BackupStatus, CodeView,
  ExportFormat, ImportFormat, ImportReportView, ManualAccount, Settings, VaultLockedPayload,
} from "./types";
import type {
  ActivityView, DeclineReason, LocationView, PushAccountView, PushAnswerView, PushChallengeView, PushDecision, PushOpenPayload,
  PushEnrolPreview, PushPollStatus,
} from "./push-types";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const ipc = {
  appStatus: () => call<AppStatus>("app_status"),
  firstRunAccept: () => call<void>("first_run_accept"),
  vaultCreate: (password: string) => call<void>("vault_create", { password }),
  vaultUnlock: (password: string) => call<void>("vault_unlock", { password }),
  vaultUnlockBiometric: () => call<void>("vault_unlock_biometric"),
  vaultLock: () => call<void>("vault_lock"),
  vaultChangePassword: (current: string, next: string) => call<void>("vault_change_password", { current, next }),
  accountsList: () => call<AccountView[]>("accounts_list"),
  codesNow: () => call<CodeView[]>("codes_now"),
  hotpNext: (id: string) => call<CodeView>("hotp_next", { id }),
  addUri: (uri: string) => call<AddResult>("add_uri", { uri }),
  addManual: (account: ManualAccount) => call<AddResult>("add_manual", { account }),
  scanImage: (bytes: Uint8Array) => call<AddResult>("scan_image", { image: Array.from(bytes) }),
  scanCamera: () => call<AddResult>("scan_camera"),
  /** docs/ipc-push.md: reads a pipush QR code for the confirmation screen; sends nothing. */
  pushEnrolPreview: (uri: string) => call<PushEnrolPreview>("push_enrol_preview", { uri }),
  /** Enrols the previewed code: the only way a push enrolment is sent. */
  pushEnrolConfirm: (id: string) => call<AddResult>("push_enrol_confirm", { id }),
  pushEnrolCancel: (id: string) => call<void>("push_enrol_cancel", { id }),
  pushPollStatus: () => call<PushPollStatus>("push_poll_status"),
  accountUpdate: (id: string, patch: AccountPatch) => call<AccountView>("account_update", { id, patch }),
  accountDelete: (id: string) => call<void>("account_delete", { id }),
  accountQrSvg: (id: string) => call<string>("account_qr_svg", { id }),
  importFormats: () => call<ImportFormat[]>("import_formats"),
  importFile: (data: Uint8Array, format: string | null, password: string | null) =>
    call<ImportReportView>("import_file", { data: Array.from(data), format, password }),
  exportFile: (format: ExportFormat, path: string, password: string | null) =>
    call<void>("export_file", { format, path, password }),
  settingsGet: () => call<Settings>("settings_get"),
  settingsSet: (settings: Settings) => call<Settings>("settings_set", { settings }),
  backupNow: () => call<BackupStatus>("backup_now"),
  backupStatus: () => call<BackupStatus>("backup_status"),
  touch: () => call<void>("touch"),
  // docs/ipc-push.md
  pushAccounts: () => call<PushAccountView[]>("push_accounts"),
  pushPoll: () => call<PushChallengeView[]>("push_poll"),
  pushPending: () => call<PushChallengeView[]>("push_pending"),
  pushAnswer: (nonce: string, decision: PushDecision, answer: string | null, reason: DeclineReason | null, location: LocationView | null) =>
    call<PushAnswerView>("push_answer", { nonce, decision, answer, reason, location }),
  pushMute: (serial: string, minutes: number) => call<void>("push_mute", { serial, minutes }),
  pushActivity: () => call<ActivityView[]>("push_activity"),
  pushRemove: (serial: string) => call<void>("push_remove", { serial }),
  /** For the approval prompt: phones only; desktop answers LocationUnavailable. */
  locationCurrent: () => call<LocationView>("location_current"),
};

export function onVaultLocked(cb: (p: VaultLockedPayload) => void): Promise<UnlistenFn> {
  return listen<VaultLockedPayload>("vault-locked", (e) => cb(e.payload));
}

export function onBackupFailed(cb: (p: BackupFailedPayload) => void): Promise<UnlistenFn> {
  return listen<BackupFailedPayload>("backup-failed", (e) => cb(e.payload));
}

export function onPushChallenges(cb: (p: PushChallengeView[]) => void): Promise<UnlistenFn> {
  return listen<PushChallengeView[]>("push-challenges", (e) => cb(e.payload));
}

export function onPushPollStatus(cb: (p: PushPollStatus) => void): Promise<UnlistenFn> {
  return listen<PushPollStatus>("push-poll-status", (e) => cb(e.payload));
}

export function onPushOpen(cb: (p: PushOpenPayload) => void): Promise<UnlistenFn> {
  return listen<PushOpenPayload>("push-open", (e) => cb(e.payload));
}
