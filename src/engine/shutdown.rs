//! What the engine does on the way out, after the HTTP server and the Redis intake have
//! stopped taking signals: optionally cancel every open order, then flush what must be kept.

use serde::Serialize;

use super::Engine;
use crate::control::{CancelledOrder, StopFailure, cancel_everywhere};

/// What shutdown did.
#[derive(Debug, Clone, Serialize)]
pub struct ShutdownReport {
    /// Orders cancelled because `shutdown.cancel_open_orders` is set (empty otherwise).
    pub cancelled: Vec<CancelledOrder>,
    pub failed: Vec<StopFailure>,
}

impl Engine {
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
        // The journal flush goes here once the journal writer is part of the engine: every
        // entry recorded so far must be committed before the process exits.
        tracing::info!(
            cancelled = cancelled.len(),
            failed = failed.len(),
            "engine shut down"
        );
        ShutdownReport { cancelled, failed }
    }
}
