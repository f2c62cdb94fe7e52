//! twofold-relay: carries privacyIDEA's PUSH challenges, posted by its HTTP gateway, to each
//! device through Web Push, FCM or APNs. It keeps no state: the device token says where and
//! how (docs/relay.md).

#![forbid(unsafe_code)]

pub mod apns;
pub mod config;
pub mod deliver;
pub mod ece;
pub mod fcm;
pub mod jwt;
pub mod metrics;
pub mod server;
pub mod token;
pub mod webpush;

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::time::Duration;

/// How long deliveries in flight may finish after SIGTERM or SIGINT.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Start(#[from] server::StartError),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("cannot wait for signals: {0}")]
    Signals(std::io::Error),
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// Reads the config and builds everything a run needs, without listening (`--check-config`).
pub fn check(path: &std::path::Path) -> Result<(), RunError> {
    server::Relay::new(config::load(path)?)?;
    Ok(())
}

/// Serves until SIGTERM or SIGINT, then lets deliveries in flight finish for at most
/// [`SHUTDOWN_GRACE`].
pub async fn run(path: &std::path::Path) -> Result<(), RunError> {
    let config = config::load(path)?;
    let listen = config.listen;
    let relay = Arc::new(server::Relay::new(config)?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| RunError::Listen {
            addr: listen.to_string(),
            reason: e.to_string(),
        })?;
    let local = listener.local_addr().map_err(RunError::Serve)?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(RunError::Signals)?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(RunError::Signals)?;
    tracing::info!(
        "twofold-relay {} listening on {local}",
        env!("CARGO_PKG_VERSION")
    );
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, server::router(relay))
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stopping: finishing the deliveries in flight");
            let _ = stopping_tx.send(());
        })
        .into_future();
    let grace = async move {
        match stopping_rx.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        served = server => served.map_err(RunError::Serve)?,
        () = grace => tracing::warn!("deliveries still in flight after 10 s were cut"),
    }
    tracing::info!("stopped");
    Ok(())
}
