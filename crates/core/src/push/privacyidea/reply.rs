//! privacyIDEA's reply envelope, read once for every request.

use serde_json::Value;

use crate::push::ServerError;

pub(super) enum Reply {
    Server(ServerError),
    Bad(String),
}

/// privacyIDEA's reply envelope: `{"result": {"status": true, "value": ...}, "detail": ...}`,
/// or `{"result": {"status": false, "error": {"code", "message"}}}`.
pub(super) fn reply(body: &[u8]) -> Result<Value, Reply> {
    let json: Value =
        serde_json::from_slice(body).map_err(|_| Reply::Bad("the reply is not JSON".to_owned()))?;
    let result = json
        .get("result")
        .ok_or_else(|| Reply::Bad("the reply has no result".to_owned()))?;
    match result.get("status").and_then(Value::as_bool) {
        Some(true) => Ok(json),
        Some(false) => {
            let err = result.get("error").unwrap_or(&Value::Null);
            Err(Reply::Server(ServerError {
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .chars()
                    .take(300)
                    .collect(),
            }))
        }
        None => Err(Reply::Bad("the reply has no status".to_owned())),
    }
}

/// privacyIDEA's refusal of a poll whose timestamp is more than a minute off its clock:
/// `privacyIDEAError` (code 10) "Timestamp ... not in valid range.".
pub(super) fn is_timestamp_refusal(e: &ServerError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == 10 && m.contains("timestamp") && m.contains("range")
}

pub(super) fn value(json: &Value) -> &Value {
    json.get("result")
        .and_then(|r| r.get("value"))
        .unwrap_or(&Value::Null)
}
