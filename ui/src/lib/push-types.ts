// The push DTOs of docs/ipc-push.md, written by hand until the shell's ts-rs bindings
// (src/bindings/) carry them; then this file should re-export from there instead.

export interface LocationView { latitude: number; longitude: number; accuracyM: number | null }
export interface PushAccountView {
  serial: string; issuer: string; label: string; url: string;
  requiresUnlock: boolean; enrolledAt: number; mutedUntil: number | null;
  insecureTls: boolean;
}
export interface PushChallengeView {
  nonce: string; serial: string; issuer: string; label: string;
  title: string; question: string;
  options: string[] | null;
  declineReasons: boolean;
  receivedAt: number; expiresAt: number;
  count: number;
  requiresUnlock: boolean;
}
export type PushDecision = "approve" | "deny";
export type DeclineReason = "unknown_trigger" | "cancelled";
export interface PushAnswerView { accepted: boolean; displayCode: string | null }
export interface ActivityView {
  at: number; serial: string; issuer: string; label: string;
  title: string; question: string; decision: PushDecision; answer: string | null;
  reason: DeclineReason | null; accepted: boolean; location: LocationView | null;
}
export interface PushOpenPayload { nonce: string }

/** The error kinds docs/ipc-push.md adds to docs/ipc.md's. */
export const PUSH_ERROR_KINDS = [
  "Network", "Server", "Expired", "AlreadyAnswered", "Verification", "LocationUnavailable", "AuthRequired",
] as const;
export type PushErrorKind = (typeof PUSH_ERROR_KINDS)[number];
