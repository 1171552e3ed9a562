//! Serving until told to stop, and what the engine does on the way out: intake stops (Redis,
//! then HTTP, which finishes the requests in flight within `shutdown.timeout_secs`), open
//! orders are cancelled if configured, and what must be kept is flushed.

use serde::Serialize;
use std::future::Future;
use std::net::TcpListener;

use super::Engine;
use crate::control::{CancelledOrder, StopFailure, cancel_everywhere};
use crate::web::{self, ApiToken};

/// What shutdown did.
#[derive(Debug, Clone, Serialize)]
pub struct ShutdownReport {
    /// Orders cancelled because `shutdown.cancel_open_orders` is set (empty otherwise).
    pub cancelled: Vec<CancelledOrder>,
    pub failed: Vec<StopFailure>,
}

impl Engine {
    /// Serves the HTTP API on `listener` and the Redis bridge (if configured) until
    /// `shutdown` completes (`redline run` passes SIGTERM/SIGINT; tests pass a channel) or
    /// the HTTP server ends by itself, then shuts down as configured. Answers what shutdown did.
    pub async fn serve_until(
        &self,
        listener: TcpListener,
        token: ApiToken,
        workers: usize,
        shutdown: impl Future<Output = String>,
    ) -> std::io::Result<ShutdownReport> {
        let redis = crate::bus::spawn_for(self);
        let server = web::serve(listener, self.clone(), token, workers)?;
        let handle = server.handle();
        let mut serving = actix_rt::spawn(server);
        tokio::select! {
            ended = &mut serving => {
                tracing::error!(result = ?ended, "HTTP server ended by itself; shutting down");
                drop(redis);
            }
            why = shutdown => {
                // Intake stops: Redis first (no new signals or commands), then HTTP, which
                // lets the requests in flight finish within shutdown.timeout_secs.
                tracing::info!(%why, "shutting down: intake stopped, finishing requests in flight");
                drop(redis);
                handle.stop(true).await;
                if let Ok(Err(e)) = serving.await {
                    tracing::error!(error = %e, "HTTP server ended with an error");
                }
            }
        }
        Ok(self.shutdown(self.config.shutdown.cancel_open_orders).await)
    }

    /// Winds the engine down once intake has stopped. With `cancel_open_orders`, every open
    /// order on every symbol is cancelled (through the same limiter- and breaker-free path as
    /// the emergency stop); otherwise open orders stay on the venue, as a restart expects.
    /// Trading is not halted: a restart carries on unless an emergency stop is latched.
    pub async fn shutdown(&self, cancel_open_orders: bool) -> ShutdownReport {
        let (cancelled, failed) = if cancel_open_orders {
            cancel_everywhere(self).await
        } else {
            (Vec::new(), Vec::new())
        };
        for f in &failed {
            tracing::error!(symbol = ?f.symbol, action = f.action, error = %f.error, "shutdown: could not cancel open orders");
        }
        // Every entry recorded so far (the cancels above included) is committed before the
        // process exits.
        if let Some(journal) = &self.journal {
            match journal.writer.send(crate::journal::writer::Flush).await {
                Ok(Ok(())) => tracing::info!("journal flushed"),
                Ok(Err(e)) => tracing::error!(error = %e, "journal flush failed on shutdown"),
                Err(e) => tracing::error!(error = %e, "journal unavailable on shutdown"),
            }
        }
        tracing::info!(
            cancelled = cancelled.len(),
            failed = failed.len(),
            "engine shut down"
        );
        ShutdownReport { cancelled, failed }
    }
}
