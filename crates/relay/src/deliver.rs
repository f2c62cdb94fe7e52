//! What every provider shares: the outcome of one delivery, the retry rule (429, 5xx and
//! connection failures, with backoff, within the budget), capped replies, the address rule.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The most of a push service's reply the relay reads.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;
/// The longest one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service accepted the message (2xx).
    Delivered,
    /// The push service says the device is gone.
    Gone,
    /// The push service refused the message; the text names its status.
    Refused(String),
    /// 429, 5xx or no connection until the retries ran out; the text names the last failure.
    Unreachable(String),
    /// This config does not deliver it (an endpoint it does not allow, a message too large).
    Rejected(String),
}

impl Outcome {
    /// The `outcome` label of the metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Gone => "gone",
            Outcome::Refused(_) => "refused",
            Outcome::Unreachable(_) => "unreachable",
            Outcome::Rejected(_) => "rejected",
        }
    }
}

/// One attempt's result.
pub enum Step {
    Done(Outcome),
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// Runs `attempt` until it is done, retrying with exponential backoff (or the service's
/// `Retry-After`) while the next try can still start within `budget`.
pub async fn retrying<F, Fut>(budget: Duration, mut attempt: F) -> Outcome
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Step>,
{
    let deadline = Instant::now() + budget;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = ATTEMPT_TIMEOUT.min(left.max(Duration::from_secs(1)));
        let (reason, after) = match tokio::time::timeout(timeout, attempt(timeout)).await {
            Ok(Step::Done(outcome)) => return outcome,
            Ok(Step::Retry { reason, after }) => (reason, after),
            Err(_) => ("no answer in time".to_string(), None),
        };
        let wait = after.unwrap_or(backoff);
        if Instant::now() + wait >= deadline {
            return Outcome::Unreachable(reason);
        }
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Maps a status that is not a success: 429 and 5xx are retried, the rest refused.
pub fn retry_or_refuse(
    status: reqwest::StatusCode,
    service: &str,
    headers: &reqwest::header::HeaderMap,
) -> Step {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)));
        Step::Retry {
            reason: format!("{service} answered HTTP {}", status.as_u16()),
            after,
        }
    } else {
        Step::Done(Outcome::Refused(format!(
            "{service} refused the message: HTTP {}",
            status.as_u16()
        )))
    }
}

/// Maps a transport error: an address this config refuses is final, the rest is retried.
pub fn transport_failure(err: &reqwest::Error, service: &str) -> Step {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<PrivateAddress>().is_some() {
            return Step::Done(Outcome::Rejected(PrivateAddress.to_string()));
        }
        source = e.source();
    }
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    Step::Retry {
        reason: format!("{service}: {what}"),
        after: None,
    }
}

/// Sends one attempt: the status, headers and capped reply, or the step a transport failure
/// leads to.
pub async fn send(
    request: reqwest::RequestBuilder,
    service: &str,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), Step> {
    let response = request
        .send()
        .await
        .map_err(|e| transport_failure(&e, service))?;
    let status = response.status();
    let headers = response.headers().clone();
    Ok((status, headers, read_capped(response).await))
}

/// Reads at most [`MAX_REPLY_BYTES`] of a reply.
pub async fn read_capped(mut response: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let take = (MAX_REPLY_BYTES - out.len()).min(chunk.len());
        out.extend_from_slice(&chunk[..take]);
        if out.len() >= MAX_REPLY_BYTES {
            break;
        }
    }
    out
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, RFC 4193),
/// link-local, shared (RFC 6598), unspecified, broadcast, multicast or documentation.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// The error of a name that resolves only to addresses this config refuses.
#[derive(Debug, thiserror::Error)]
#[error("the endpoint's host is on a private or loopback address, which this relay does not allow")]
pub struct PrivateAddress;

/// The Web Push client's resolver: keeps only public addresses (unless allowed), so a name
/// cannot lead the relay into the operator's network, also not by changing its answer
/// between a check and the connection.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    // Tokio's paused clock: the sleeps advance it, so the count is exact on any machine.
    #[tokio::test(start_paused = true)]
    async fn retries_end_within_the_budget() {
        let mut tries = 0;
        let outcome = retrying(Duration::from_millis(350), |_| {
            tries += 1;
            async {
                Step::Retry {
                    reason: "svc answered HTTP 503".into(),
                    after: None,
                }
            }
        })
        .await;
        assert_eq!(
            outcome,
            Outcome::Unreachable("svc answered HTTP 503".into())
        );
        // 100 + 200 ms of backoff fit, the next 400 ms do not.
        assert_eq!(tries, 3);
    }
}
