// The IPC types: generated from the Rust DTOs by ts-rs into src/bindings/ (a Rust test fails
// when they are stale), so the UI and the shell cannot drift. The error kinds and the default
// settings are generated there too, from Rust's values.
export type {
  AccountPatch, AccountView, AddResult, AppError, AppStatus, BackupFailedPayload, BackupStatus, CodeView,
  ErrorKind, ExportFormat, ImportFormat, ImportReportView, ImportSkip, Language, LocationView, LockReason,
  ManualAccount, MigrationProgress, OtpAlgorithm, OtpKind, Platform, Settings, Theme, VaultLockedPayload,
  SyncDevice, SyncFailure, SyncProblem, SyncState, SyncStatus, SyncTargetKind, SyncTargetView, PassphraseStrength,
  Permission, PermissionState, PermissionView, UiLocale, PlaceView,
  ContainerPolicies, ContainerPreview, ContainerRegistered, ContainerSkip, ContainerSyncView, ContainerTokenView,
  ContainerTransfer, ContainerView, ContainerWarning, RemovedByKind, RemovedView,
} from "../bindings";
export type { OtpAlgorithm as Algorithm } from "../bindings";
export { DEFAULT_SETTINGS, ERROR_KINDS } from "../bindings";
