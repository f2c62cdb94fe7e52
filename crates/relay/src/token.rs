//! The device token (docs/relay.md, "The device token"): the core's one definition
//! (`twofold_core::push::device_token`), which the app writes and the relay reads.

pub use twofold_core::push::device_token::{
    DeviceToken, Kind, MAX_TOKEN_BYTES, TokenError, WebPushTarget, parse,
};
