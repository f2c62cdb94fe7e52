// The only place the UI talks to Rust: one typed function per command of docs/ipc.md.
import { addPluginListener, invoke, type InvokeArgs, type InvokeOptions } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { toAppError } from "./errors";
import type {
  AccountPatch, AccountView, AddResult, AppStatus, BackupFailedPayload, BackupStatus, CodeView,
  ExportFormat, ImportFormat, ImportReportView, ManualAccount, PassphraseStrength, Permission, PermissionView, Settings, SyncDevice, SyncStatus, UiLocale,
  VaultLockedPayload, ContainerPreview, ContainerRegistered, ContainerSyncView, ContainerTransfer, ContainerView,
  RemovedView,
} from "./types";
import type {
  ActivityView, DeclineReason, LocationView, PushAccountView, PushAnswerView, PushChallengeView, PushDecision, PushOpenPayload,
  PushEnrolPreview, PushPollStatus, PushRegistrationView, NotificationAction, NotificationOutcome,
} from "./push-types";

async function call<T>(cmd: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(cmd, args, options);
  } catch (e) {
    throw toAppError(e);
  }
}

/**
 * Bytes go to Rust as the raw body of the call (not a JSON array of numbers); other arguments
 * as headers, percent-encoded so any text fits (the shell decodes them).
 */
function raw<T>(cmd: string, bytes: Uint8Array, headers: Record<string, string | null> = {}): Promise<T> {
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== null) sent[name] = encodeURIComponent(value);
  return call<T>(cmd, bytes, { headers: sent });
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
  scanImage: (bytes: Uint8Array) => raw<AddResult>("scan_image", bytes),
  scanCamera: () => call<AddResult>("scan_camera"),
  /** docs/ipc-push.md: reads a pipush QR code for the confirmation screen; sends nothing. */
  pushEnrolPreview: (uri: string) => call<PushEnrolPreview>("push_enrol_preview", { uri }),
  /** Enrols the previewed code: the only way a push enrolment is sent. */
  pushEnrolConfirm: (id: string) => call<AddResult>("push_enrol_confirm", { id }),
  pushEnrolCancel: (id: string) => call<void>("push_enrol_cancel", { id }),
  pushPollStatus: () => call<PushPollStatus>("push_poll_status"),
  /** This device's push registration (Settings): pushed through a distributor, or polling only. */
  pushRegistration: () => call<PushRegistrationView>("push_registration"),
  accountUpdate: (id: string, patch: AccountPatch) => call<AccountView>("account_update", { id, patch }),
  accountDelete: (id: string) => call<void>("account_delete", { id }),
  /** The accounts removed in the last 30 days (here, by a sync, by a container), newest first. */
  removedList: () => call<RemovedView[]>("removed_list"),
  /** Brings a removed account back; it syncs and wins over the removal it undoes. */
  accountRestore: (id: string) => call<AccountView>("account_restore", { id }),
  /** AuthRequired unless the password was entered within the last minute (then vaultUnlock). */
  accountQrSvg: (id: string) => call<string>("account_qr_svg", { id }),
  /** Rust copies the current code and clears it after 30 s, on lock and on exit. */
  codeCopy: (id: string) => call<void>("code_copy", { id }),
  importFormats: () => call<ImportFormat[]>("import_formats"),
  importFile: (data: Uint8Array, format: string | null, password: string | null) =>
    raw<ImportReportView>("import_file", data, { format, password }),
  /**
   * Rust opens the save dialog; the path written comes back (null: cancelled). Plain formats
   * answer AuthRequired unless the password was entered within the last minute.
   */
  exportFile: (format: ExportFormat, password: string | null) =>
    call<string | null>("export_file", { format, password }),
  settingsGet: () => call<Settings>("settings_get"),
  settingsSet: (settings: Settings) => call<Settings>("settings_set", { settings }),
  /** Rust opens the folder dialog; the settings as stored come back (unchanged when cancelled). */
  backupFolderChoose: () => call<Settings>("backup_folder_choose"),
  backupNow: () => call<BackupStatus>("backup_now"),
  backupStatus: () => call<BackupStatus>("backup_status"),
  touch: () => call<void>("touch"),
  // Sync between devices (docs/ipc.md, "Sync")
  /** The core's one rule for a new password or passphrase: the meter's score and whether it is taken. */
  passphraseStrength: (passphrase: string) => call<PassphraseStrength>("passphrase_strength", { passphrase }),
  syncStatus: () => call<SyncStatus>("sync_status"),
  /** Rust opens the folder dialog (Unsupported on phones: offer WebDAV); cancelled: unchanged. */
  syncFolderChoose: () => call<SyncStatus>("sync_folder_choose"),
  syncWebdavChoose: (url: string, user: string, password: string) =>
    call<SyncStatus>("sync_webdav_choose", { url, user, password }),
  /** The passphrase, entered once: joins the chosen place's sync set (or creates one) and syncs. */
  syncSetup: (passphrase: string) => call<SyncStatus>("sync_setup", { passphrase }),
  syncNow: () => call<SyncStatus>("sync_now"),
  syncOff: () => call<SyncStatus>("sync_off"),
  /** After another device removed one and re-keyed the set: its new passphrase, once. */
  syncRejoin: (passphrase: string) => call<SyncStatus>("sync_rejoin", { passphrase }),
  /** The sync set's devices as of this device's last sync, this one first. */
  syncDevices: () => call<SyncDevice[]>("sync_devices"),
  syncRenameDevice: (name: string) => call<SyncDevice[]>("sync_rename_device", { name }),
  /** Removes another device and re-keys the set with a new passphrase (the password again first). */
  syncRemoveDevice: (id: string, passphrase: string) => call<SyncStatus>("sync_remove_device", { id, passphrase }),
  // privacyIDEA token containers (docs/ipc.md, "Containers")
  /** Reads a pia://container/ QR code for the confirmation screen; sends nothing. */
  containerPreview: (uri: string) => call<ContainerPreview>("container_preview", { uri }),
  /** Registers the previewed container (PasswordRequired when the server asks a passphrase). */
  containerRegister: (id: string, passphrase: string | null, offer: string[] = []) =>
    call<ContainerRegistered>("container_register", { id, passphrase, offer }),
  containerCancel: (id: string) => call<void>("container_cancel", { id }),
  containersList: () => call<ContainerView[]>("containers_list"),
  containerSync: (serial: string | null) => call<ContainerSyncView[]>("container_sync", { serial }),
  containerRollover: (serial: string) => call<ContainerSyncView>("container_rollover", { serial }),
  /** "Move to a new phone": the pia://container/ link and its QR code (AuthRequired: reauth first). */
  containerTransfer: (serial: string) => call<ContainerTransfer>("container_transfer", { serial }),
  /** The serials of the tokens removed with it. */
  containerUnregister: (serial: string) => call<string[]>("container_unregister", { serial }),
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
  /** The permissions Rust checks (desktop: notifications; phones: notifications, location). */
  permissionsStatus: () => call<PermissionView[]>("permissions_status"),
  /** Shows the OS prompt for one permission; its state after. */
  permissionRequest: (permission: Permission) => call<PermissionView>("permission_request", { permission }),
  /** The UI's language, for the notifications Rust writes. */
  uiLocaleSet: (locale: UiLocale) => call<void>("ui_locale_set", { locale }),
  /** A notification tapped or one of its buttons pressed (phones): Rust opens or answers it. */
  pushNotificationAction: (action: NotificationAction, id: number) =>
    call<NotificationOutcome>("push_notification_action", { action, id }),
};

export function onVaultLocked(cb: (p: VaultLockedPayload) => void): Promise<UnlistenFn> {
  return listen<VaultLockedPayload>("vault-locked", (e) => cb(e.payload));
}

export function onBackupFailed(cb: (p: BackupFailedPayload) => void): Promise<UnlistenFn> {
  return listen<BackupFailedPayload>("backup-failed", (e) => cb(e.payload));
}

/** A copied code was cleared from the clipboard after its time. */
export function onClipboardCleared(cb: () => void): Promise<UnlistenFn> {
  return listen<null>("clipboard-cleared", () => cb());
}

export function onPushChallenges(cb: (p: PushChallengeView[]) => void): Promise<UnlistenFn> {
  return listen<PushChallengeView[]>("push-challenges", (e) => cb(e.payload));
}

export function onPushPollStatus(cb: (p: PushPollStatus) => void): Promise<UnlistenFn> {
  return listen<PushPollStatus>("push-poll-status", (e) => cb(e.payload));
}

/** This device's push registration changed (Settings shows it). */
export function onPushRegistration(cb: (p: PushRegistrationView) => void): Promise<UnlistenFn> {
  return listen<PushRegistrationView>("push-registration", (e) => cb(e.payload));
}

/** A sync finished or failed; the account list refreshes when it changed accounts. */
export function onSyncStatus(cb: (p: SyncStatus) => void): Promise<UnlistenFn> {
  return listen<SyncStatus>("sync-status", (e) => cb(e.payload));
}

export function onPushOpen(cb: (p: PushOpenPayload) => void): Promise<UnlistenFn> {
  return listen<PushOpenPayload>("push-open", (e) => cb(e.payload));
}

/** What the notification plugin reports when a notification is tapped or a button pressed. */
interface ActionPerformed {
  actionId: string;
  notification?: { id?: number } | null;
}

/**
 * Phones: a tapped sign-in notification or its Approve/Deny button (`actionPerformed` of
 * tauri-plugin-notifications, the phones' notification plugin, registered as "notifications";
 * its Rust side cannot listen to it). Only the action and the id Rust gave the notification go
 * on; Rust decides what they do (src-tauri/push/notifier.rs).
 */
export async function onNotificationAction(cb: (action: NotificationAction, id: number) => void): Promise<UnlistenFn> {
  const listener = await addPluginListener<ActionPerformed>("notifications", "actionPerformed", (e) => {
    const id = e.notification?.id;
    const action = e.actionId === "approve" || e.actionId === "deny" || e.actionId === "dismiss" ? e.actionId : "tap";
    if (typeof id === "number" && Number.isInteger(id)) cb(action, id);
  });
  return () => void listener.unregister();
}

/** The containers synced in the background (after unlock, on resume): accounts may have changed. */
export function onContainersSynced(cb: (p: ContainerSyncView[]) => void): Promise<UnlistenFn> {
  return listen<ContainerSyncView[]>("containers-synced", (e) => cb(e.payload));
}
