//! The HTTP interface: `POST /privacyidea/push`, `GET /health`, `GET /metrics`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt as _, Limited};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::apns::Apns;
use crate::config::Config;
use crate::deliver::Outcome;
use crate::fcm::Fcm;
use crate::metrics::Metrics;
use crate::token::{self, DeviceToken};
use crate::webpush::WebPush;

/// The TTL of a message unless the challenge says less (privacyIDEA's challenges live 120 s).
const DEFAULT_TTL: u32 = 120;

/// Everything a request needs; built once from the config, shared by all requests.
pub struct Relay {
    pub max_body_bytes: usize,
    pub bearer_token: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub retry: Duration,
    pub webpush: Option<WebPush>,
    pub fcm: Option<Fcm>,
    pub apns: Option<Apns>,
    pub metrics: Metrics,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl Relay {
    pub fn new(config: Config) -> Result<Self, StartError> {
        let webpush = config
            .webpush
            .map(|w| WebPush::new(w, config.allow_private_endpoints))
            .transpose()
            .map_err(|e| StartError::Client(e.to_string()))?;
        let fcm = config
            .fcm
            .map(Fcm::new)
            .transpose()
            .map_err(StartError::Client)?;
        let apns = config
            .apns
            .map(Apns::new)
            .transpose()
            .map_err(StartError::Client)?;
        Ok(Self {
            max_body_bytes: config.max_body_bytes,
            bearer_token: config.bearer_token,
            retry: config.retry,
            webpush,
            fcm,
            apns,
            metrics: Metrics::new(),
        })
    }
}

pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/privacyidea/push", post(push).fallback(method_not_allowed))
        .route(
            "/health",
            get(|| async { "ok" }).fallback(method_not_allowed),
        )
        .route("/metrics", get(metrics).fallback(method_not_allowed))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "not found"})) })
        .with_state(relay)
}

async fn method_not_allowed() -> Response {
    reply(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"error": "method not allowed"}),
    )
}

async fn metrics(State(relay): State<Arc<Relay>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        relay.metrics.render(),
    )
        .into_response()
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, text: impl Into<String>) -> Response {
    reply(status, json!({"error": text.into()}))
}

/// What privacyIDEA's HTTP gateway posts (`device_token={phone}`, `data={message}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    device_token: String,
    data: Map<String, Value>,
}

/// The message's TTL: 120 s, or less when the challenge carries a `ttl` in seconds.
fn ttl_of(data: &Map<String, Value>) -> u32 {
    let asked = match data.get("ttl") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    asked.map_or(DEFAULT_TTL, |t| {
        u32::try_from(t.min(u64::from(DEFAULT_TTL))).unwrap_or(DEFAULT_TTL)
    })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether the request carries the configured bearer token (always, when none is configured).
fn authorized(relay: &Relay, headers: &HeaderMap) -> bool {
    let Some(expected) = &relay.bearer_token else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        .unwrap_or_default();
    bool::from(subtle::ConstantTimeEq::ct_eq(given, expected.as_slice()))
}

async fn push(State(relay): State<Arc<Relay>>, headers: HeaderMap, body: Body) -> Response {
    let arrived = Instant::now();
    if !authorized(&relay, &headers) {
        relay.metrics.record("none", "unauthorized", None);
        return error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} bytes", relay.max_body_bytes),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > relay.max_body_bytes as u64) {
        relay.metrics.record("none", "too_large", None);
        return too_large();
    }
    if !is_json(&headers) {
        relay.metrics.record("none", "not_json", None);
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        );
    }
    let bytes = match Limited::new(body, relay.max_body_bytes).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            relay.metrics.record("none", "too_large", None);
            return too_large();
        }
        Err(_) => {
            relay.metrics.record("none", "bad_request", None);
            return error(StatusCode::BAD_REQUEST, "the body could not be read");
        }
    };
    let request: PushRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(_) => {
            relay.metrics.record("none", "bad_request", None);
            return error(
                StatusCode::BAD_REQUEST,
                "the body is not {\"device_token\": STRING, \"data\": OBJECT}",
            );
        }
    };
    let device = match token::parse(&request.device_token) {
        Ok(d) => d,
        Err(e) => {
            relay.metrics.record("none", "bad_request", None);
            return error(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let kind = device.kind().as_str();
    let ttl = ttl_of(&request.data);
    let budget = relay.retry.min(Duration::from_secs(u64::from(ttl)));
    let (outcome, host) = match &device {
        DeviceToken::WebPush(target) => {
            let host = target.endpoint.host_str().unwrap_or("").to_string();
            let Some(webpush) = &relay.webpush else {
                return not_served(&relay, kind);
            };
            // Compact JSON of exactly the fields and values received.
            let plaintext = Value::Object(request.data).to_string();
            (
                webpush
                    .deliver(target, plaintext.as_bytes(), ttl, budget)
                    .await,
                host,
            )
        }
        DeviceToken::Fcm { token } => {
            let Some(fcm) = &relay.fcm else {
                return not_served(&relay, kind);
            };
            (
                fcm.deliver(token, &request.data, ttl, budget).await,
                fcm.host().to_string(),
            )
        }
        DeviceToken::Apns { token, sandbox } => {
            let Some(apns) = &relay.apns else {
                return not_served(&relay, kind);
            };
            (
                apns.deliver(token, *sandbox, &request.data, ttl, budget)
                    .await,
                apns.host(*sandbox).to_string(),
            )
        }
    };
    let took = arrived.elapsed();
    relay.metrics.record(kind, outcome.label(), Some(took));
    // Kind, host and outcome only: never the question, a token or an endpoint's path.
    let ms = took.as_millis();
    match &outcome {
        Outcome::Delivered | Outcome::Gone => {
            tracing::info!(kind, host, outcome = outcome.label(), ms)
        }
        Outcome::Refused(why) | Outcome::Unreachable(why) | Outcome::Rejected(why) => {
            tracing::warn!(kind, host, outcome = outcome.label(), why, ms)
        }
    }
    match outcome {
        Outcome::Delivered => reply(StatusCode::OK, json!({"delivered": true, "kind": kind})),
        Outcome::Gone => error(StatusCode::GONE, "gone"),
        Outcome::Refused(why) | Outcome::Unreachable(why) => error(StatusCode::BAD_GATEWAY, why),
        Outcome::Rejected(why) => error(StatusCode::BAD_REQUEST, why),
    }
}

fn not_served(relay: &Relay, kind: &'static str) -> Response {
    relay.metrics.record(kind, "not_served", None);
    error(
        StatusCode::BAD_REQUEST,
        format!("this relay does not deliver {kind} device tokens"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_120_unless_the_challenge_says_less() {
        let data = |v: Value| json!({"ttl": v}).as_object().unwrap().clone();
        assert_eq!(ttl_of(&Map::new()), 120);
        assert_eq!(ttl_of(&data(json!(30))), 30);
        assert_eq!(ttl_of(&data(json!("45"))), 45);
        assert_eq!(ttl_of(&data(json!(600))), 120);
        assert_eq!(ttl_of(&data(json!("soon"))), 120);
    }
}
