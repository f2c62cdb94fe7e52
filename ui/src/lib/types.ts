// The IPC types: generated from the Rust DTOs by ts-rs into src/bindings/ (a Rust test fails
// when they are stale), so the UI and the shell cannot drift. Only UI-side helpers live here.
import type { ErrorKind } from "../bindings";
import type { PUSH_ERROR_KINDS } from "./push-types";

export type {
  AccountPatch, AccountView, AddResult, AppError, AppStatus, BackupFailedPayload, BackupStatus, CodeView,
  ErrorKind, ExportFormat, ImportFormat, ImportReportView, ImportSkip, Language, LocationView, LockReason,
  ManualAccount, MigrationProgress, OtpAlgorithm, OtpKind, Platform, Settings, Theme, VaultLockedPayload,
} from "../bindings";
export type { OtpAlgorithm as Algorithm } from "../bindings";

/** Every error kind, for validating what a rejected invoke() carries. */
export const ERROR_KINDS = [
  "WrongPassword", "Corrupt", "Locked", "NoVault", "VaultExists", "InvalidInput", "PasswordRequired",
  "UnknownFormat", "NotFound", "Unsupported", "Io", "Internal",
] as const satisfies readonly ErrorKind[];

// Fails to compile when the Rust side adds a kind that is missing above.
type Missing = Exclude<ErrorKind, (typeof ERROR_KINDS)[number] | (typeof PUSH_ERROR_KINDS)[number]>;
export const ERROR_KINDS_COMPLETE: Missing extends never ? true : Missing = true;
