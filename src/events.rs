//! Engine events: every decision, order change, fill and position change, published on one
//! in-process bus so HTTP, Redis and tests can follow what the engine does.
//!
//! The bus is a `tokio::sync::broadcast` channel: publishing never blocks the hot path; a
//! subscriber that falls behind loses the oldest events and is told how many (`Lagged`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::broadcast;

use actix::Recipient;

use crate::domain::{Fill, Order, Position};
use crate::journal::Record;
use crate::journal::events::entry_for;

/// How many events a slow subscriber may fall behind before it starts losing them.
const BUS_CAPACITY: usize = 4096;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// What the engine decided about a signal: `submitted`, `duplicate`, `invalid`,
    /// `rejected`, `unavailable`, `failed` or `unknown`.
    SignalDecision {
        signal_id: String,
        status: &'static str,
        client_order_id: Option<String>,
        reason: Option<String>,
        detail: Option<String>,
        ts: DateTime<Utc>,
    },
    OrderUpdated {
        order: Order,
    },
    FillApplied {
        fill: Fill,
    },
    PositionUpdated {
        position: Position,
    },
    BreakerChanged {
        state: &'static str,
        ts: DateTime<Utc>,
    },
    TradingStateChanged {
        state: &'static str,
        reason: String,
        ts: DateTime<Utc>,
    },
    /// Risk limits changed at runtime (`PUT /v1/risk/limits`): who, and the fields they set.
    RiskLimitsChanged {
        by: String,
        changes: serde_json::Value,
        ts: DateTime<Utc>,
    },
    /// A trading day began (00:00 UTC, or the first day's start): the daily loss limit counts
    /// from `start_equity`. Journaled so a restart continues the day rather than resetting it.
    RiskDayStarted {
        day: chrono::NaiveDate,
        start_equity: rust_decimal::Decimal,
        ts: DateTime<Utc>,
    },
    /// The consecutive-loss breaker paused a strategy.
    StrategyPaused {
        strategy: String,
        losses: u32,
        ts: DateTime<Utc>,
    },
    StrategyResumed {
        strategy: String,
        by: String,
        ts: DateTime<Utc>,
    },
    /// An operator pulled the kill switch: trading is halted (latched) and what was cancelled,
    /// flattened and failed is counted here (the full answer went to the caller).
    EmergencyStop {
        by: String,
        reason: String,
        flatten: bool,
        cancelled: usize,
        flattened: usize,
        failed: usize,
        ts: DateTime<Utc>,
    },
    /// `POST /v1/resume` (or the Redis `resume` command) lifted the emergency stop.
    EmergencyStopLifted {
        by: String,
        reason: String,
        ts: DateTime<Utc>,
    },
    ActorRestarted {
        actor: &'static str,
        restarts: u64,
        ts: DateTime<Utc>,
    },
    /// Reconciliation found the venue and the engine disagreeing, and what it did.
    Discrepancy {
        kind: &'static str,
        client_order_id: String,
        symbol: String,
        action: String,
        ts: DateTime<Utc>,
    },
    /// A protective exit was placed for a signal's entry (`replaced`: the exit it took over
    /// from, canceled first, when the entry filled further).
    ExitPlaced {
        entry: String,
        /// The exit's list id (an OCO) or order id (a single stop or take-profit).
        exit: String,
        legs: Vec<String>,
        quantity: String,
        stop_loss: Option<String>,
        take_profit: Option<String>,
        replaced: Option<String>,
        ts: DateTime<Utc>,
    },
    /// An exit was canceled: `replace` (the entry filled further), `close` (the position is
    /// being closed).
    ExitCanceled {
        entry: String,
        exit: String,
        why: &'static str,
        ts: DateTime<Utc>,
    },
    /// An exit could not be placed; the position is not protected until the next attempt.
    ExitFailed {
        entry: String,
        reason: String,
        ts: DateTime<Utc>,
    },
    /// A reconciliation run finished.
    Reconciled {
        reason: &'static str,
        discrepancies: usize,
        ts: DateTime<Utc>,
    },
}

/// Cheap-to-clone handle for publishing and subscribing. With a journal attached, every event
/// is also recorded there, whoever else listens.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<EngineEvent>>,
    journal: Option<Recipient<Record>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("journal", &self.journal.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(BUS_CAPACITY);
        Self { tx, journal: None }
    }

    /// A bus that also records every event in `journal` (the journal keeps them all; bus
    /// subscribers that fall behind may lose some).
    pub fn with_journal(journal: Recipient<Record>) -> Self {
        Self {
            journal: Some(journal),
            ..Self::new()
        }
    }

    /// Publishes to the journal and every current subscriber.
    pub fn publish(&self, event: EngineEvent) {
        if let Some(journal) = &self.journal {
            journal.do_send(Record(entry_for(&event)));
        }
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::new(event));
        }
    }

    /// Builds and publishes the event only if the journal or someone else takes it, so the hot
    /// path does not clone orders for nobody.
    pub fn publish_with(&self, make: impl FnOnce() -> EngineEvent) {
        if self.journal.is_some() || self.tx.receiver_count() > 0 {
            self.publish(make());
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EngineEvent>> {
        self.tx.subscribe()
    }
}
