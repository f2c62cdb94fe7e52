//! privacyIDEA's PUSH token (`pipush`), byte-exact as privacyIDEA 3.14 speaks it
//! (`docs/privacyidea.md`; flows in `docs/push.md`).
//!
//! Every string either side signs is built by one named function (in `messages`)
//! ([`poll_message`], [`challenge_message`], [`capabilities_message`], [`accept_message`],
//! [`accept_option_message`], [`decline_message`], [`token_update_message`]), each with golden
//! tests.
//!
//! The map: `messages` (the signed strings), `enrolment` (the scanned URI to the enrolled
//! account), `reply` (the server's reply envelope); here the challenges' verification and
//! the [`PrivacyIdea`] protocol.

mod enrolment;
mod messages;
mod reply;

use serde_json::Value;

use super::{
    Answer, AnswerError, AnswerOutcome, Challenge, ChallengeError, Method, PendingAnswer,
    PendingTokenUpdate, PollError, PollOutcome, PushAccount, PushProtocol, Request, UpdateError,
};
use crate::uri::excerpt;
use reply::{Reply, is_timestamp_refusal, reply, value};

pub use enrolment::{EnrolError, EnrolWarning, Enrolment, PendingEnrolment};
pub use messages::{
    accept_message, accept_option_message, capabilities_message, challenge_message,
    decline_message, poll_message, timestamp, token_update_message,
};

/// The protocol's name in [`PushAccount::protocol`].
pub const NAME: &str = "privacyidea";

/// What a poll-only phone sends as its push token.
pub const NO_PUSH_TOKEN: &str = "no_firebase_token";

/// The enrolment URI's `ttl` when it has none, in minutes (privacyIDEA's default).
pub const DEFAULT_TTL_MINUTES: u64 = 10;

/// Verifies one challenge of a poll reply against `account`'s server key.
pub fn verify_challenge(
    account: &PushAccount,
    c: &Value,
    received_at: u64,
) -> Result<Challenge, ChallengeError> {
    let s = |k: &'static str| {
        c.get(k)
            .and_then(Value::as_str)
            .ok_or(ChallengeError::Missing(k))
    };
    let nonce = s("nonce")?;
    let question = s("question")?;
    let serial = s("serial")?;
    let title = s("title")?;
    let sslverify = s("sslverify")?;
    let url = s("url")?;
    let signature = s("signature")?;
    let require_presence = match c.get("require_presence") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .ok_or(ChallengeError::Missing("require_presence"))?,
        ),
    };
    if serial != account.serial {
        return Err(ChallengeError::WrongSerial(excerpt(serial)));
    }
    let message = challenge_message(
        nonce,
        url,
        serial,
        question,
        title,
        sslverify,
        require_presence,
    );
    if !account.server_key.verify(message.as_bytes(), signature) {
        return Err(ChallengeError::BadSignature);
    }
    let decline_reasons = match (c.get("capabilities"), c.get("capabilities_signature")) {
        (None | Some(Value::Null), None | Some(Value::Null)) => false,
        (Some(caps), Some(sig)) => {
            let caps = caps.as_str().ok_or(ChallengeError::BadCapabilities(
                "they are not a JSON string",
            ))?;
            let sig = sig.as_str().ok_or(ChallengeError::BadCapabilities(
                "the signature is not a string",
            ))?;
            let parsed: Value = serde_json::from_str(caps)
                .map_err(|_| ChallengeError::BadCapabilities("they are not JSON"))?;
            if !parsed.is_object() {
                return Err(ChallengeError::BadCapabilities(
                    "they are not a JSON object",
                ));
            }
            let signed = capabilities_message(&parsed, nonce)?;
            if !account.server_key.verify(&signed, sig) {
                return Err(ChallengeError::BadCapabilities(
                    "the signature does not verify",
                ));
            }
            parsed.get("decline_reason") == Some(&Value::Bool(true))
        }
        (Some(_), None) => return Err(ChallengeError::BadCapabilities("no signature")),
        (None, Some(_)) => {
            return Err(ChallengeError::BadCapabilities(
                "a signature without capabilities",
            ));
        }
    };
    let options = match require_presence {
        None => None,
        Some(p) => {
            let opts: Vec<String> = p.split(',').map(str::to_owned).collect();
            if opts.iter().any(String::is_empty) {
                return Err(ChallengeError::Missing("require_presence"));
            }
            Some(opts)
        }
    };
    Ok(Challenge {
        serial: serial.to_owned(),
        nonce: nonce.to_owned(),
        title: title.to_owned(),
        question: question.to_owned(),
        url: url.to_owned(),
        verify_tls: sslverify != "0",
        options,
        decline_reasons,
        received_at,
        signed: Some(c.to_string()),
    })
}

// ---------------------------------------------------------------------------------------------
// The protocol.

/// privacyIDEA's PUSH token protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivacyIdea;

impl PushProtocol for PrivacyIdea {
    fn name(&self) -> &'static str {
        NAME
    }

    fn poll(&self, account: &PushAccount, now: u64) -> Result<Request, PollError> {
        let ts = timestamp(now);
        let signature = account
            .phone_key
            .sign(poll_message(&account.serial, &ts).as_bytes())?;
        Ok(Request {
            method: Method::Get,
            url: account.url.clone(),
            params: vec![
                ("serial".to_owned(), account.serial.clone()),
                ("timestamp".to_owned(), ts),
                ("signature".to_owned(), signature),
            ],
            verify_tls: account.verify_tls,
        })
    }

    fn verify(
        &self,
        account: &PushAccount,
        signed: &str,
        received_at: u64,
    ) -> Result<Challenge, ChallengeError> {
        let c: Value =
            serde_json::from_str(signed).map_err(|_| ChallengeError::Missing("nonce"))?;
        verify_challenge(account, &c, received_at)
    }

    fn read_poll(
        &self,
        account: &PushAccount,
        body: &[u8],
        received_at: u64,
    ) -> Result<PollOutcome, PollError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) if is_timestamp_refusal(&s) => PollError::ClockOff(s),
            Reply::Server(s) => PollError::Server(s),
            Reply::Bad(m) => PollError::Response(m),
        })?;
        let list = value(&json)
            .as_array()
            .ok_or_else(|| PollError::Response("the challenges are not a list".into()))?;
        let mut out = PollOutcome {
            challenges: Vec::new(),
            rejected: Vec::new(),
        };
        for c in list {
            match verify_challenge(account, c, received_at) {
                Ok(ch) => out.challenges.push(ch),
                Err(e) => out.rejected.push(e),
            }
        }
        Ok(out)
    }

    fn answer(
        &self,
        account: &PushAccount,
        challenge: &Challenge,
        answer: Answer,
        now: u64,
    ) -> Result<PendingAnswer, AnswerError> {
        if challenge.serial != account.serial {
            return Err(AnswerError::WrongAccount);
        }
        if challenge.is_expired(now) {
            return Err(AnswerError::Expired);
        }
        let nonce = challenge.nonce.as_str();
        let serial = account.serial.as_str();
        let mut params = vec![
            ("nonce".to_owned(), nonce.to_owned()),
            ("serial".to_owned(), serial.to_owned()),
        ];
        let message = match (&answer, challenge.options()) {
            (Answer::Accept { option: None }, None) => accept_message(nonce, serial),
            (Answer::Accept { option: None }, Some(opts)) => {
                return Err(AnswerError::OptionRequired(opts.join(", ")));
            }
            (Answer::Accept { option: Some(_) }, None) => return Err(AnswerError::NoOptions),
            (Answer::Accept { option: Some(o) }, Some(opts)) => {
                if !opts.contains(o) {
                    return Err(AnswerError::NotAnOption(excerpt(o), opts.join(", ")));
                }
                params.push(("presence_answer".to_owned(), o.clone()));
                accept_option_message(nonce, serial, o)
            }
            (Answer::Decline { reason }, _) => {
                params.push(("decline".to_owned(), "1".to_owned()));
                if let Some(r) = reason {
                    if !challenge.decline_reasons {
                        return Err(AnswerError::ReasonNotAllowed);
                    }
                    params.push(("decline_reason".to_owned(), r.as_str().to_owned()));
                }
                decline_message(nonce, serial, reason.map(|r| r.as_str()))
            }
        };
        params.push((
            "signature".to_owned(),
            account.phone_key.sign(message.as_bytes())?,
        ));
        Ok(PendingAnswer {
            request: Request {
                method: Method::Post,
                url: challenge.url.clone(),
                params,
                verify_tls: challenge.verify_tls,
            },
            serial: account.serial.clone(),
            nonce: challenge.nonce.clone(),
            answer,
        })
    }

    fn read_answer(
        &self,
        _pending: &PendingAnswer,
        body: &[u8],
    ) -> Result<AnswerOutcome, AnswerError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => AnswerError::Server(s),
            Reply::Bad(m) => AnswerError::Response(m),
        })?;
        let accepted = value(&json)
            .as_bool()
            .ok_or_else(|| AnswerError::Response("the result is not true or false".into()))?;
        let display_code = json
            .get("detail")
            .and_then(|d| d.get("display_code"))
            .and_then(Value::as_str)
            .filter(|_| accepted)
            .map(str::to_owned);
        Ok(AnswerOutcome {
            accepted,
            display_code,
        })
    }

    fn update_token(
        &self,
        account: &PushAccount,
        new_token: &str,
        now: u64,
    ) -> Result<PendingTokenUpdate, UpdateError> {
        if new_token.is_empty() || new_token.contains('|') {
            return Err(UpdateError::InvalidToken);
        }
        let ts = timestamp(now);
        let signature = account
            .phone_key
            .sign(token_update_message(new_token, &account.serial, &ts).as_bytes())?;
        Ok(PendingTokenUpdate {
            request: Request {
                method: Method::Post,
                url: account.url.clone(),
                params: vec![
                    ("new_fb_token".to_owned(), new_token.to_owned()),
                    ("serial".to_owned(), account.serial.clone()),
                    ("timestamp".to_owned(), ts),
                    ("signature".to_owned(), signature),
                ],
                verify_tls: account.verify_tls,
            },
            serial: account.serial.clone(),
            new_token: new_token.to_owned(),
        })
    }

    fn read_update(&self, _pending: &PendingTokenUpdate, body: &[u8]) -> Result<(), UpdateError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => UpdateError::Server(s),
            Reply::Bad(m) => UpdateError::Response(m),
        })?;
        match value(&json).as_bool() {
            Some(true) => Ok(()),
            _ => Err(UpdateError::Response(
                "the server did not take the new token".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests;
