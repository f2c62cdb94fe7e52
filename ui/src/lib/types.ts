// The IPC types of docs/ipc.md, written by hand until the shell's ts-rs bindings land in
// src/bindings/. Keep the names identical to the Rust types so the switch is a re-export.
export type Platform = "desktop" | "android" | "ios";
export interface AppStatus {
  vaultExists: boolean;
  unlocked: boolean;
  platform: Platform;
  firstRunDone: boolean;
  biometricsAvailable: boolean;
  version: string;
}
export type OtpKind = "totp" | "hotp" | "steam";
export type Algorithm = "SHA1" | "SHA256" | "SHA512";
/** The Rust name of Algorithm. */
export type OtpAlgorithm = Algorithm;
export interface AccountView {
  id: string;
  issuer: string;
  name: string;
  kind: OtpKind;
  algorithm: Algorithm;
  digits: number;
  period: number;
  counter: number | null;
  favorite: boolean;
  groups: string[];
  note: string;
  order: number;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds. */
  usedAt: number | null;
}
/** HOTP: nextCode null, validUntilMs 0. */
export interface CodeView {
  id: string;
  code: string;
  nextCode: string | null;
  period: number;
  validFromMs: number;
  validUntilMs: number;
}
export interface MigrationProgress {
  batchId: number;
  batchSize: number;
  received: number[];
  missing: number[];
}
export interface AddResult {
  added: AccountView[];
  duplicates: string[];
  /** Entries of an export QR that could not be read (the shell's dto.rs has this beyond docs/ipc.md). */
  skipped: ImportSkip[];
  migration: MigrationProgress | null;
  pushEnrolment: string | null;
}
export interface ManualAccount {
  issuer: string;
  name: string;
  secret: string;
  kind: OtpKind;
  algorithm: Algorithm;
  digits: number;
  period: number;
  counter: number;
}
export interface AccountPatch {
  issuer?: string;
  name?: string;
  note?: string;
  favorite?: boolean;
  groups?: string[];
  order?: number;
}
export interface ImportFormat {
  name: string;
  label: string;
  encrypted: boolean;
}
export interface ImportSkip {
  name: string;
  reason: string;
}
export interface ImportReportView {
  added: number;
  duplicates: string[];
  skipped: ImportSkip[];
}
export type ExportFormat = "aegis" | "aegis-plain" | "otpauth-list" | "google-migration";
export type Theme = "system" | "light" | "dark";
export type Language = "system" | "en" | "sv";
export interface Settings {
  /** 0: never lock on idle. */
  lockTimeoutSecs: number;
  lockOnBackground: boolean;
  biometrics: boolean;
  language: Language;
  theme: Theme;
  backupFolder: string | null;
}
export interface BackupStatus {
  /** Unix seconds. */
  lastOkAt: number | null;
  lastError: string | null;
  lastPath: string | null;
}
export const ERROR_KINDS = [
  "WrongPassword",
  "Corrupt",
  "Locked",
  "NoVault",
  "VaultExists",
  "InvalidInput",
  "PasswordRequired",
  "UnknownFormat",
  "NotFound",
  "Unsupported",
  "Io",
  "Internal",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
export interface AppError {
  kind: ErrorKind;
  message: string;
}
export interface LocationView {
  latitude: number;
  longitude: number;
  accuracyM: number;
}
export type LockReason = "idle" | "background" | "user";
export interface VaultLockedPayload {
  reason: "idle" | "background" | "user";
}
export interface BackupFailedPayload {
  message: string;
}
