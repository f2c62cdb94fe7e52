// The app's state and the actions that change it. Components read `app` and call these actions;
// every command goes through ipc.ts and every failure through report(), so nothing fails silently.
import { ipc } from "./ipc";
import type { PushEnrolPreview } from "./push-types";
import type { ContainerPreview } from "./types";
import { toAppError } from "./errors";
import { sortAccounts } from "./accounts";
import { nextRollover } from "./countdown";
import { applyTheme } from "./theme";
import { resolveLocale, setLocale, t, type MessageKey } from "./i18n/index.svelte";
import { DEFAULT_SETTINGS } from "./types";
import type {
  AccountView, AddResult, AppError, AppStatus, CodeView, MigrationProgress, Settings, VaultLockedPayload,
} from "./types";

export type Screen =
  | "loading" | "privacy" | "permissions" | "setup" | "protect" | "unlock" | "add" | "manual" | "accounts" | "settings";
export type AccountKindChoice = "work" | "personal" | "other";

export interface Toast {
  id: number;
  text: string;
}

export const app = $state({
  screen: "loading" as Screen,
  status: null as AppStatus | null,
  /** The add screen is part of the first run (shows "Later" instead of a back arrow). */
  firstRun: false,
  addKind: null as AccountKindChoice | null,
  accounts: [] as AccountView[],
  codes: {} as Record<string, CodeView>,
  settings: { ...DEFAULT_SETTINGS } as Settings,
  /** Why the unlock screen is shown; "error": a command answered Locked. */
  lockReason: null as VaultLockedPayload["reason"] | "error" | null,
  toast: null as Toast | null,
  /** A core error not handled by the screen that caused it, shown in an alert until dismissed. */
  error: null as AppError | null,
  backupFailure: null as string | null,
  /** Whether the failure was writing the backup or its restore drill. */
  backupFailureKind: "write" as "write" | "check",
  migration: null as MigrationProgress | null,
  /** Message after an add: duplicates, push enrolment. */
  addNotice: [] as string[],
  /** A push enrolment QR code read but not sent: the add screen asks for confirmation. */
  pushPreview: null as PushEnrolPreview | null,
  /** A container registration QR code read but not sent: the add screen asks for confirmation. */
  containerPreview: null as ContainerPreview | null,
});

export const clock = $state({ now: Date.now() });

let toastSeq = 0;
let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function toast(text: string, ms = 2500): void {
  app.toast = { id: ++toastSeq, text };
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (app.toast = null), ms);
}

export function isPhone(): boolean {
  return app.status?.platform === "android" || app.status?.platform === "ios";
}

/** Whether a folder can be chosen for sync here: desktop (the folder dialog) and Android (the
 * storage-access-framework picker); not iOS (docs/sync.md). */
export function hasSyncFolderPicker(): boolean {
  return app.status?.platform !== "ios";
}

/**
 * Reacts to an error the calling screen did not handle itself: state errors move to the right
 * screen, everything else is shown in plain words in the global alert.
 */
export function report(e: unknown): AppError {
  const err = toAppError(e);
  switch (err.kind) {
    case "Locked":
      // The unlock screen itself says why it is shown.
      goLocked("error");
      return err;
    case "NoVault":
      app.screen = "protect";
      break;
    case "VaultExists":
      app.screen = "unlock";
      break;
    case "NotFound":
      void refreshAll();
      break;
  }
  app.error = err;
  return err;
}

export function msg(key: MessageKey, params?: Record<string, string | number>): string {
  return t(key, params);
}

function applySettings(s: Settings): void {
  app.settings = s;
  applyTheme(s.theme);
  const locale = resolveLocale(s.language);
  setLocale(locale);
  // Rust writes the notifications in the UI's language.
  ipc.uiLocaleSet(locale).catch(report);
}

export async function loadSettings(): Promise<void> {
  try {
    applySettings(await ipc.settingsGet());
  } catch (e) {
    // Before a vault exists the shell may have no settings yet: keep the defaults, but say so
    // unless it is simply that state.
    const err = toAppError(e);
    if (err.kind !== "NoVault" && err.kind !== "Locked") report(err);
    applySettings({ ...app.settings });
  }
}

export async function saveSettings(next: Settings): Promise<boolean> {
  try {
    applySettings(await ipc.settingsSet(next));
    return true;
  } catch (e) {
    // Show the stored settings again (a select must not keep a value that was refused).
    app.settings = { ...app.settings };
    report(e);
    return false;
  }
}

export async function boot(): Promise<void> {
  try {
    const status = await ipc.appStatus();
    app.status = status;
    await loadSettings();
    if (!status.firstRunDone) app.screen = "privacy";
    else if (!status.vaultExists) app.screen = "setup";
    else if (!status.unlocked) app.screen = "unlock";
    else await enterAccounts();
  } catch (e) {
    report(e);
    app.screen = "unlock";
  }
}

export function goLocked(reason: VaultLockedPayload["reason"] | "error" | null): void {
  app.accounts = [];
  app.codes = {};
  app.migration = null;
  app.lockReason = reason;
  if (app.status) app.status = { ...app.status, unlocked: false };
  if (!["privacy", "permissions", "setup", "protect"].includes(app.screen)) app.screen = "unlock";
}

export async function enterAccounts(): Promise<void> {
  if (app.status) app.status = { ...app.status, unlocked: true, vaultExists: true };
  app.lockReason = null;
  app.screen = "accounts";
  await refreshAll();
}

export async function refreshAll(): Promise<void> {
  try {
    const [accounts, codes] = await Promise.all([ipc.accountsList(), ipc.codesNow()]);
    app.accounts = sortAccounts(accounts);
    app.codes = Object.fromEntries(codes.map((c) => [c.id, c]));
  } catch (e) {
    report(e);
  }
}

let refreshing = false;
export async function refreshCodes(): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  try {
    const codes = await ipc.codesNow();
    app.codes = Object.fromEntries(codes.map((c) => [c.id, c]));
  } catch (e) {
    report(e);
  } finally {
    refreshing = false;
  }
}

/**
 * Reads the time into the one clock the UI shows ages and countdowns from, and returns it. The
 * ticking clock below calls it every 250 ms; a screen that is about to show a time calls it
 * first, since a tick can be late.
 */
export function refreshClock(): number {
  clock.now = Date.now();
  return clock.now;
}

/** Called by the ticking clock: refreshes the codes when a period has rolled over. */
export function tick(now: number): void {
  clock.now = now;
  if (app.screen !== "accounts") return;
  const due = nextRollover(Object.values(app.codes));
  if (due && now >= due) void refreshCodes();
}

/** Handles an AddResult from any of the add commands; returns true when the flow is finished. */
export async function handleAdded(result: AddResult): Promise<boolean> {
  switch (result.kind) {
    // A preview waits for the user's confirmation on the add screen.
    case "pushPreview":
      app.addNotice = [];
      app.pushPreview = result.preview;
      return false;
    case "containerPreview":
      app.addNotice = [];
      app.pushPreview = null;
      app.containerPreview = result.preview;
      return false;
    // Stay on the add screen so the enrolment's note can be read.
    case "pushEnrolled":
      app.addNotice = [t("add.push", { serial: result.serial })];
      app.pushPreview = null;
      app.containerPreview = null;
      app.migration = null;
      return false;
    case "added":
      return accountsAdded(result);
    default:
      return result satisfies never;
  }
}

/** OTP accounts read: a note on what was added, the next QR code of an export, or back to the list. */
async function accountsAdded(result: Extract<AddResult, { kind: "added" }>): Promise<boolean> {
  const notes: string[] = [];
  const n = result.added.length;
  if (n) notes.push(n === 1 ? t("add.addedOne") : t("add.addedMany", { count: n }));
  if (result.duplicates.length) notes.push(t("add.duplicates", { names: result.duplicates.join(", ") }));
  for (const s of result.skipped) notes.push(t("add.skipped", { name: s.name, reason: s.reason }));
  app.addNotice = notes;
  app.pushPreview = null;
  app.containerPreview = null;
  const missing = result.migration && result.migration.missing.length > 0;
  app.migration = missing ? result.migration : null;
  if (missing) return false;
  // Stay on the add screen when something needs reading (skipped entries).
  if (result.added.length > 0 && !result.skipped.length) {
    if (notes.length) toast(notes.join(" "), 5000);
    app.firstRun = false;
    app.addKind = null;
    app.addNotice = [];
    await enterAccounts();
    return true;
  }
  return false;
}

export function startAdd(kind: AccountKindChoice | null, firstRun = false): void {
  app.addKind = kind;
  app.firstRun = firstRun;
  app.migration = null;
  app.addNotice = [];
  app.screen = "add";
}

export async function lockNow(): Promise<void> {
  try {
    await ipc.vaultLock();
    goLocked("user");
  } catch (e) {
    report(e);
  }
}
