//! Web Push (RFC 8030): the message encrypted for the device (RFC 8291, [`crate::ece`]),
//! the relay identified by VAPID (RFC 8292).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;
use tokio::time::Instant;
use url::Url;

use crate::config::WebPushConfig;
use crate::deliver::{self, Outcome, Step};
use crate::token::WebPushTarget;
use crate::{ece, jwt};

/// A VAPID JWT is valid 12 hours and reused for one.
const JWT_LIFETIME_SECS: u64 = 12 * 3600;
const JWT_REUSE: Duration = Duration::from_secs(3600);
/// Push services the JWT cache remembers before starting over.
const JWT_CACHE_ENTRIES: usize = 1024;

pub struct WebPush {
    config: WebPushConfig,
    /// `k=` of the Authorization header: the VAPID public key, uncompressed, base64url.
    public_key: String,
    client: reqwest::Client,
    allow_private: bool,
    jwts: Mutex<HashMap<String, (String, Instant)>>,
}

impl WebPush {
    pub fn new(config: WebPushConfig, allow_private: bool) -> Result<Self, reqwest::Error> {
        let public_key = B64.encode(config.key.verifying_key().to_sec1_bytes());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .dns_resolver(Arc::new(deliver::GuardedResolver { allow_private }))
            .build()?;
        Ok(Self {
            config,
            public_key,
            client,
            allow_private,
            jwts: Mutex::new(HashMap::new()),
        })
    }

    /// The `Authorization: vapid t=..., k=...` value for an endpoint's push service.
    pub fn authorization(&self, endpoint: &Url) -> String {
        // RFC 6454 §6.2: scheme, host and a port only when not the default.
        let audience = endpoint.origin().ascii_serialization();
        let now = Instant::now();
        let mut jwts = self.jwts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, made)) = jwts.get(&audience)
            && now.duration_since(*made) < JWT_REUSE
        {
            return format!("vapid t={token}, k={}", self.public_key);
        }
        let token = jwt::es256(
            &self.config.key,
            &json!({"typ": "JWT", "alg": "ES256"}),
            &json!({
                "aud": audience,
                "exp": deliver::unix_now() + JWT_LIFETIME_SECS,
                "sub": self.config.subject,
            }),
        );
        if jwts.len() >= JWT_CACHE_ENTRIES {
            jwts.clear();
        }
        jwts.insert(audience, (token.clone(), now));
        format!("vapid t={token}, k={}", self.public_key)
    }

    /// Whether this config lets the relay send to that endpoint (names are checked again,
    /// after resolution, by the client's resolver).
    fn check_endpoint(&self, endpoint: &Url) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        if endpoint.scheme() != "https" {
            return Err("the Web Push endpoint is not https://".into());
        }
        let ip = match endpoint.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        if let Some(ip) = ip
            && !deliver::is_public(ip)
        {
            return Err(deliver::PrivateAddress.to_string());
        }
        Ok(())
    }

    pub async fn deliver(
        &self,
        target: &WebPushTarget,
        plaintext: &[u8],
        ttl: u32,
        budget: Duration,
    ) -> Outcome {
        if let Err(reason) = self.check_endpoint(&target.endpoint) {
            return Outcome::Rejected(reason);
        }
        let body = match ece::encrypt(plaintext, &target.p256dh, &target.auth) {
            Ok(body) => body,
            Err(e) => return Outcome::Rejected(e.to_string()),
        };
        let authorization = self.authorization(&target.endpoint);
        let client = &self.client;
        let endpoint = &target.endpoint;
        deliver::retrying(budget, |timeout| {
            let request = client
                .post(endpoint.clone())
                .timeout(timeout)
                .header("content-encoding", "aes128gcm")
                .header("content-type", "application/octet-stream")
                .header("ttl", ttl.to_string())
                .header("urgency", "high")
                .header("authorization", authorization.as_str())
                .body(body.clone());
            async move {
                let (status, headers, _) = match deliver::send(request, "the push service").await {
                    Ok(answer) => answer,
                    Err(step) => return step,
                };
                if status.is_success() {
                    Step::Done(Outcome::Delivered)
                } else if status == reqwest::StatusCode::NOT_FOUND
                    || status == reqwest::StatusCode::GONE
                {
                    Step::Done(Outcome::Gone)
                } else {
                    deliver::retry_or_refuse(status, "the push service", &headers)
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    use serde_json::Value;

    fn webpush() -> WebPush {
        WebPush::new(
            WebPushConfig {
                key: SigningKey::from_slice(&[7; 32]).unwrap(),
                subject: "mailto:admin@example.org".into(),
            },
            false,
        )
        .unwrap()
    }

    /// RFC 8292 §2-3: `t` an ES256 JWT for the push service's origin (RFC 6454: no default
    /// port, a non-default one kept), `k` the public key; verified with ring, another library.
    #[test]
    fn vapid_header_verifies_with_ring() {
        let wp = webpush();
        for (endpoint, audience) in [
            (
                "https://push.example.org:443/wpush/v2/abc",
                "https://push.example.org",
            ),
            (
                "https://Push.Example.org:8443/x?y=1",
                "https://push.example.org:8443",
            ),
        ] {
            let header = wp.authorization(&Url::parse(endpoint).unwrap());
            let rest = header.strip_prefix("vapid t=").unwrap();
            let (jwt, k) = rest.split_once(", k=").unwrap();
            let public = B64.decode(k).unwrap();
            assert_eq!(public.len(), 65);
            let (input, sig) = jwt.rsplit_once('.').unwrap();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
                .verify(input.as_bytes(), &B64.decode(sig).unwrap())
                .unwrap();
            let claims: Value =
                serde_json::from_slice(&B64.decode(input.split_once('.').unwrap().1).unwrap())
                    .unwrap();
            assert_eq!(claims["aud"], audience);
            assert_eq!(claims["sub"], "mailto:admin@example.org");
            let exp = claims["exp"].as_u64().unwrap();
            let now = deliver::unix_now();
            assert!(exp > now && exp <= now + 24 * 3600);
        }
    }

    #[test]
    fn private_endpoints_refused_unless_allowed() {
        let wp = webpush();
        for endpoint in [
            "http://push.example.org/x",
            "https://127.0.0.1/x",
            "https://10.0.0.8/x",
            "https://[::1]:8443/x",
            "https://[fd00::1]/x",
        ] {
            assert!(
                wp.check_endpoint(&Url::parse(endpoint).unwrap()).is_err(),
                "{endpoint}"
            );
        }
        assert!(
            wp.check_endpoint(&Url::parse("https://push.example.org/x").unwrap())
                .is_ok()
        );
    }
}
