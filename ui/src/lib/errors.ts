import { ERROR_KINDS, type AppError, type ErrorKind } from "./types";
import type { MessageKey } from "./i18n/en";
import { PUSH_ERROR_KINDS, type PushErrorKind } from "./push-types";

// The push kinds of docs/ipc-push.md are not in the generated ErrorKind yet (the shell adds them
// with the push commands); they are accepted here and carried in AppError.kind as they are.
const KNOWN_KINDS: readonly string[] = [...ERROR_KINDS, ...PUSH_ERROR_KINDS];

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
export function errorKey(kind: ErrorKind | PushErrorKind): MessageKey {
  return `error.${kind}` as MessageKey;
}

/**
 * Whether the core's own (English, secret-free) message adds information worth showing under the
 * plain-words text: paths for Io, details for Internal/Corrupt/InvalidInput.
 */
export function showsDetails(kind: ErrorKind): boolean {
  return kind === "Io" || kind === "Internal" || kind === "Corrupt" || kind === "InvalidInput" || kind === "Unsupported";
}

/** An error's kind including the push kinds (AppError.kind is typed from the generated bindings). */
export function kindOf(e: AppError): ErrorKind | PushErrorKind {
  return e.kind as ErrorKind | PushErrorKind;
}
