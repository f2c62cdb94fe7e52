//! Firebase Cloud Messaging HTTP v1, with the operator's service account: an OAuth 2.0 access
//! token from the JWT-bearer grant (RFC 7523) at its `token_uri`, cached until shortly
//! before it expires.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::time::Instant;
use url::Url;

use crate::config::FcmConfig;
use crate::deliver::{self, Outcome, Step};
use crate::jwt;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// A cached access token is replaced this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(120);

pub struct Fcm {
    config: FcmConfig,
    send_url: Url,
    client: reqwest::Client,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

enum TokenFailure {
    Retry(String),
    Refused(String),
}

impl Fcm {
    pub fn new(config: FcmConfig) -> Result<Self, String> {
        let send_url = config
            .endpoint
            .join(&format!("v1/projects/{}/messages:send", config.project_id))
            .map_err(|e| format!("fcm.endpoint: {e}"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            send_url,
            client,
            token: tokio::sync::Mutex::new(None),
        })
    }

    async fn access_token(&self, timeout: Duration) -> Result<String, TokenFailure> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + TOKEN_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let now = deliver::unix_now();
        let assertion = jwt::rs256(
            &self.config.key,
            &json!({"alg": "RS256", "typ": "JWT", "kid": self.config.key_id}),
            &json!({
                "iss": self.config.client_email,
                "scope": SCOPE,
                "aud": self.config.token_uri.as_str(),
                "iat": now,
                "exp": now + 3600,
            }),
        )
        .map_err(|e| TokenFailure::Refused(e.to_string()))?;
        let response = self
            .client
            .post(self.config.token_uri.clone())
            .timeout(timeout)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|_| TokenFailure::Retry("the FCM token endpoint: connection failed".into()))?;
        let status = response.status();
        let body = deliver::read_capped(response).await;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(TokenFailure::Retry(format!(
                "the FCM token endpoint answered HTTP {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(TokenFailure::Refused(format!(
                "the FCM token endpoint refused the service account: HTTP {}",
                status.as_u16()
            )));
        }
        let reply: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (Some(token), Some(expires_in)) =
            (reply["access_token"].as_str(), reply["expires_in"].as_u64())
        else {
            return Err(TokenFailure::Refused(
                "the FCM token endpoint's reply has no access_token".into(),
            ));
        };
        let expires = Instant::now() + Duration::from_secs(expires_in.min(24 * 3600));
        *cached = Some((token.to_string(), expires));
        Ok(token.to_string())
    }

    /// The push service's host, for the logs.
    pub fn host(&self) -> &str {
        self.send_url.host_str().unwrap_or("")
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// The message: the challenge's title and question as the notification, which Android
    /// shows itself while the app is closed or in the background (a data-only message would
    /// wake only a running app: tauri-plugin-notifications' messaging service shows nothing
    /// for one), and every field of `data` as a string beside it for the app, which verifies it
    /// before showing anything (as APNs' alert and its `data`).
    pub fn message(token: &str, data: &Map<String, Value>, ttl: u32) -> Value {
        let text = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let data: Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(text))
            })
            .collect();
        json!({"message": {
            "token": token,
            "notification": {"title": text("title"), "body": text("question")},
            "data": data,
            "android": {"priority": "HIGH", "ttl": format!("{ttl}s")},
        }})
    }

    pub async fn deliver(
        &self,
        token: &str,
        data: &Map<String, Value>,
        ttl: u32,
        budget: Duration,
    ) -> Outcome {
        let body = Self::message(token, data, ttl).to_string();
        deliver::retrying(budget, |timeout| {
            let body = body.clone();
            async move {
                let bearer = match self.access_token(timeout).await {
                    Ok(t) => t,
                    Err(TokenFailure::Retry(reason)) => {
                        return Step::Retry {
                            reason,
                            after: None,
                        };
                    }
                    Err(TokenFailure::Refused(reason)) => {
                        return Step::Done(Outcome::Refused(reason));
                    }
                };
                let request = self
                    .client
                    .post(self.send_url.clone())
                    .timeout(timeout)
                    .bearer_auth(bearer)
                    .header("content-type", "application/json")
                    .body(body);
                let (status, headers, reply) = match deliver::send(request, "FCM").await {
                    Ok(answer) => answer,
                    Err(step) => return step,
                };
                if status.is_success() {
                    return Step::Done(Outcome::Delivered);
                }
                if status == reqwest::StatusCode::UNAUTHORIZED {
                    // The cached access token was revoked or expired early: a new one, once more.
                    self.forget_token().await;
                    return Step::Retry {
                        reason: "FCM answered HTTP 401".into(),
                        after: None,
                    };
                }
                if is_unregistered(&reply) {
                    return Step::Done(Outcome::Gone);
                }
                deliver::retry_or_refuse(status, "FCM", &headers)
            }
        })
        .await
    }
}

/// FCM's error for a registration token that is no longer valid.
fn is_unregistered(reply: &[u8]) -> bool {
    let Ok(reply) = serde_json::from_slice::<Value>(reply) else {
        return false;
    };
    reply["error"]["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x["errorCode"] == "UNREGISTERED"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_with_the_challenge_as_strings() {
        let data = json!({"nonce": "N", "sslverify": 1, "x": true, "title": "ACME", "question": "Sign in?"})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            Fcm::message("tok", &data, 120),
            json!({"message": {"token": "tok",
                "notification": {"title": "ACME", "body": "Sign in?"},
                "data": {"nonce": "N", "sslverify": "1", "x": "true", "title": "ACME", "question": "Sign in?"},
                "android": {"priority": "HIGH", "ttl": "120s"}}})
        );
    }

    #[test]
    fn unregistered_is_read_from_the_details() {
        let gone = br#"{"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert!(is_unregistered(gone));
        assert!(!is_unregistered(br#"{"error":{"code":400}}"#));
        assert!(!is_unregistered(b"<html>"));
    }
}
