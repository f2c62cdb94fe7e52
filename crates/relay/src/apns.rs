//! Apple Push Notification service over HTTP/2 with token-based authentication: an ES256
//! provider token (iss = team, kid = key id), reused for 40 minutes (Apple refuses tokens
//! older than an hour and renewals more often than every 20 minutes).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::config::ApnsConfig;
use crate::deliver::{self, Outcome, Step};
use crate::jwt;

const TOKEN_REUSE: Duration = Duration::from_secs(40 * 60);

pub struct Apns {
    config: ApnsConfig,
    client: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    pub fn new(config: ApnsConfig) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            // APNs speaks HTTP/2 only: ALPN offers h2 alone.
            .http2_prior_knowledge();
        if let Some(pem) = &config.ca_pem {
            let ca =
                reqwest::Certificate::from_pem(pem).map_err(|e| format!("apns.ca_file: {e}"))?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            client,
            token: Mutex::new(None),
        })
    }

    fn provider_token(&self) -> String {
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, made)) = cached.as_ref()
            && made.elapsed() < TOKEN_REUSE
        {
            return token.clone();
        }
        let token = jwt::es256(
            &self.config.key,
            &json!({"alg": "ES256", "kid": self.config.key_id}),
            &json!({"iss": self.config.team_id, "iat": deliver::unix_now()}),
        );
        *cached = Some((token.clone(), Instant::now()));
        token
    }

    /// The push service's host, for the logs.
    pub fn host(&self, sandbox: bool) -> &str {
        let base = if sandbox {
            &self.config.sandbox_endpoint
        } else {
            &self.config.endpoint
        };
        base.host_str().unwrap_or("")
    }

    fn forget_token(&self) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The notification: the challenge's title and question as the alert, the whole challenge
    /// beside it for the app, which verifies it before showing anything.
    pub fn payload(data: &Map<String, Value>) -> Value {
        let text = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        json!({
            "aps": {
                "alert": {"title": text("title"), "body": text("question")},
                "mutable-content": 1,
                "category": "PUSH_AUTHENTICATION",
            },
            "data": data,
        })
    }

    pub async fn deliver(
        &self,
        token: &str,
        sandbox: bool,
        data: &Map<String, Value>,
        ttl: u32,
        budget: Duration,
    ) -> Outcome {
        let base = if sandbox {
            &self.config.sandbox_endpoint
        } else {
            &self.config.endpoint
        };
        let url = match base.join(&format!("3/device/{token}")) {
            Ok(u) => u,
            Err(e) => return Outcome::Rejected(format!("APNs URL: {e}")),
        };
        let body = Self::payload(data).to_string();
        let expiration = (deliver::unix_now() + u64::from(ttl)).to_string();
        deliver::retrying(budget, |timeout| {
            let request = self
                .client
                .post(url.clone())
                .timeout(timeout)
                .header("authorization", format!("bearer {}", self.provider_token()))
                .header("apns-topic", self.config.topic.as_str())
                .header("apns-push-type", "alert")
                .header("apns-priority", "10")
                .header("apns-expiration", expiration.as_str())
                .header("content-type", "application/json")
                .body(body.clone());
            async move {
                let (status, headers, reply) = match deliver::send(request, "APNs").await {
                    Ok(answer) => answer,
                    Err(step) => return step,
                };
                if status.is_success() {
                    return Step::Done(Outcome::Delivered);
                }
                if status == reqwest::StatusCode::GONE {
                    return Step::Done(Outcome::Gone);
                }
                let reason = serde_json::from_slice::<Value>(&reply)
                    .ok()
                    .and_then(|r| r["reason"].as_str().map(str::to_string))
                    .filter(|r| r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric()));
                if status == reqwest::StatusCode::FORBIDDEN
                    && reason.as_deref() == Some("ExpiredProviderToken")
                {
                    self.forget_token();
                    return Step::Retry {
                        reason: "APNs answered HTTP 403 (ExpiredProviderToken)".into(),
                        after: None,
                    };
                }
                match deliver::retry_or_refuse(status, "APNs", &headers) {
                    Step::Done(Outcome::Refused(text)) => {
                        Step::Done(Outcome::Refused(match reason {
                            Some(r) => format!("{text} ({r})"),
                            None => text,
                        }))
                    }
                    other => other,
                }
            }
        })
        .await
    }
}
