//! Graceful shutdown: one [`CancellationToken`] cancelled on Ctrl-C or SIGTERM.
//!
//! Long-running tasks (gRPC server, relay, consumers) take the token as a
//! parameter rather than listening to signals themselves, so tests can stop a
//! service deterministically by cancelling the token.

use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled when the process receives Ctrl-C or SIGTERM.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen to SIGTERM, only Ctrl-C stops the process");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
