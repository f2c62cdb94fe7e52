// The push DTOs of docs/ipc-push.md, generated from the Rust types by ts-rs (src/bindings/).
export type {
  ActivityView, DeclineReason, LocationView, PushAccountView, PushAnswerView, PushChallengeView,
  PushDecision, PushEnrolPreview, PushEnrolWarning, PushOpenPayload, PushPollFailure, PushPollStatus,
} from "../bindings";

/** The error kinds docs/ipc-push.md adds to docs/ipc.md's. */
export const PUSH_ERROR_KINDS = [
  "Network", "Server", "Expired", "AlreadyAnswered", "Verification", "LocationUnavailable", "AuthRequired",
] as const;
export type PushErrorKind = (typeof PUSH_ERROR_KINDS)[number];
