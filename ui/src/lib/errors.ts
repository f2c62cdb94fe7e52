import { ERROR_KINDS, type AppError, type ErrorKind } from "./types";
import type { MessageKey } from "./i18n/en";

// Every kind of docs/ipc.md and docs/ipc-push.md, generated from Rust's ErrorKind.
const KNOWN_KINDS: readonly string[] = ERROR_KINDS;

/** Turns anything a rejected invoke() can produce into an AppError. */
export function toAppError(e: unknown): AppError {
  if (e && typeof e === "object" && "kind" in e) {
    const kind = (e as { kind: unknown }).kind;
    const message = String((e as { message?: unknown }).message ?? "");
    if (typeof kind === "string" && KNOWN_KINDS.includes(kind)) {
      return { kind: kind as ErrorKind, message };
    }
    return { kind: "Internal", message: `${String(kind)}: ${message}` };
  }
  if (e instanceof Error) return { kind: "Internal", message: e.message };
  return { kind: "Internal", message: String(e) };
}

/** The catalogue key of the plain-words message for an error kind. */
export function errorKey(kind: ErrorKind): MessageKey {
  return `error.${kind}` as MessageKey;
}

/**
 * Whether the core's own (English, secret-free) message adds information worth showing under the
 * plain-words text: paths for Io, details for Internal/Corrupt/InvalidInput.
 */
export function showsDetails(kind: ErrorKind): boolean {
  return kind === "Io" || kind === "Internal" || kind === "Corrupt" || kind === "InvalidInput" || kind === "Unsupported";
}

/** An error's kind (docs/ipc.md and docs/ipc-push.md kinds alike). */
export function kindOf(e: AppError): ErrorKind {
  return e.kind;
}
