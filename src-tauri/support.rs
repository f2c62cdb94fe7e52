//! Helpers every domain of the shell shares: blocking work off the async workers, the error of
//! a transport failure. One copy each.

use twofold_http::HttpError;

use crate::error::{AppError, AppResult, ErrorKind};

/// The kind and message of a transport failure.
pub fn http_error(e: HttpError) -> AppError {
    let kind = match e {
        HttpError::InvalidUrl(_) | HttpError::Insecure(_) | HttpError::Ambiguous { .. } => {
            ErrorKind::InvalidInput
        }
        HttpError::Redirect { .. } | HttpError::TooLarge(_) => ErrorKind::Server,
        HttpError::Timeout(_) | HttpError::Network { .. } => ErrorKind::Network,
    };
    AppError::new(kind, e.to_string())
}

/// Runs blocking work (HTTP, RSA key generation) off the async runtime's workers.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
}
