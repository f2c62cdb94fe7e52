// The push DTOs of docs/ipc-push.md, generated from the Rust types by ts-rs (src/bindings/).
export type {
  ActivityView, DeclineReason, LocationView, PushAccountView, PushAnswerView, PushChallengeView,
  PushDecision, PushDelivery, PushEnrolPreview, PushEnrolWarning, PushOpenPayload, PushPollFailure, PushPollStatus,
  PushRegistrationState, PushRegistrationView,
  NotificationAction, NotificationOutcome, PlaceView,
} from "../bindings";
