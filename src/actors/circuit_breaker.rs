//! The circuit breaker: after `failure_threshold` consecutive venue failures it opens and new
//! orders are refused; after `cooldown` it lets one trial order through (half-open); that
//! order's success closes it, its failure opens it again. Time comes from the injected clock, so
//! the cooldown is evaluated when asked, with no timers.

use actix::{Actor, Context, Handler, Message, MessageResult, Supervised};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::events::{EngineEvent, EventBus};

use super::supervisor::Supervision;

/// May an order go to the venue now? `Err` carries when to try again.
#[derive(Message)]
#[rtype(result = "Result<PermitKind, BreakerOpen>")]
pub struct Permit;

/// What a permit was: an ordinary one, or the single trial order of the half-open state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitKind {
    Normal,
    /// The half-open trial, numbered so a stale release cannot free a newer trial's slot.
    Trial(u64),
}

/// The outcome of a venue request: `venue_ok` is false for failures that say the venue or the
/// path to it is unwell (connectivity, unknown outcome, rate limit), true otherwise (including
/// definite rejections: the venue answered).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RecordOutcome {
    pub venue_ok: bool,
}

/// A permitted order was not sent after all (the risk gate refused it): if it was the trial,
/// free the trial slot.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PermitUnused(pub PermitKind);

#[derive(Message)]
#[rtype(result = "BreakerSnapshot")]
pub struct GetBreakerState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "circuit breaker open after {failures} consecutive exchange failures; retry after {retry_at}"
)]
pub struct BreakerOpen {
    pub failures: u32,
    pub retry_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    pub failure_threshold: u32,
    pub opened_at: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
}

pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    clock: SharedClock,
    events: EventBus,
    supervision: Arc<Supervision>,
    state: BreakerState,
    consecutive_failures: u32,
    opened_at: Option<DateTime<Utc>>,
    /// In half-open, the trial order out (its number and when it went), if any. A trial that
    /// never reports back expires after one cooldown, so the breaker cannot stick half-open.
    trial: Option<(u64, DateTime<Utc>)>,
    /// Numbers trials.
    trial_seq: u64,
}

impl CircuitBreaker {
    pub fn new(
        threshold: u32,
        cooldown: Duration,
        clock: SharedClock,
        events: EventBus,
        supervision: Arc<Supervision>,
    ) -> Self {
        Self {
            threshold,
            cooldown,
            clock,
            events,
            supervision,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            opened_at: None,
            trial: None,
            trial_seq: 0,
        }
    }

    fn set_state(&mut self, state: BreakerState) {
        if self.state != state {
            self.state = state;
            let ts = self.clock.now();
            tracing::warn!(
                state = state.as_str(),
                failures = self.consecutive_failures,
                "circuit breaker"
            );
            self.events.publish(EngineEvent::BreakerChanged {
                state: state.as_str(),
                ts,
            });
        }
    }

    fn retry_at(&self) -> Option<DateTime<Utc>> {
        self.opened_at.map(|t| t + self.cooldown)
    }

    /// Moves Open to HalfOpen once the cooldown has passed, and expires a lost trial.
    fn refresh(&mut self) {
        let now = self.clock.now();
        if self.state == BreakerState::Open && self.retry_at().is_some_and(|t| now >= t) {
            self.trial = None;
            self.set_state(BreakerState::HalfOpen);
        }
        if self
            .trial
            .is_some_and(|(_, since)| now - since >= self.cooldown)
        {
            tracing::warn!("circuit breaker trial order never reported back; allowing another");
            self.trial = None;
        }
    }

    fn open(&mut self) {
        self.opened_at = Some(self.clock.now());
        self.trial = None;
        self.set_state(BreakerState::Open);
    }
}

impl Actor for CircuitBreaker {
    type Context = Context<Self>;
}

impl Supervised for CircuitBreaker {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The breaker's state is what it learned about the venue; keep it across a restart.
        self.supervision.record_restart("circuit_breaker");
    }
}

impl Handler<Permit> for CircuitBreaker {
    type Result = Result<PermitKind, BreakerOpen>;

    fn handle(&mut self, _: Permit, _: &mut Context<Self>) -> Self::Result {
        self.refresh();
        let refused = BreakerOpen {
            failures: self.consecutive_failures,
            retry_at: self.retry_at().unwrap_or_else(|| self.clock.now()),
        };
        match self.state {
            BreakerState::Closed => Ok(PermitKind::Normal),
            BreakerState::Open => Err(refused),
            BreakerState::HalfOpen if self.trial.is_some() => Err(refused),
            BreakerState::HalfOpen => {
                self.trial_seq += 1;
                self.trial = Some((self.trial_seq, self.clock.now()));
                Ok(PermitKind::Trial(self.trial_seq))
            }
        }
    }
}

impl Handler<PermitUnused> for CircuitBreaker {
    type Result = ();

    fn handle(&mut self, msg: PermitUnused, _: &mut Context<Self>) {
        if let PermitKind::Trial(n) = msg.0
            && self.trial.is_some_and(|(current, _)| current == n)
        {
            self.trial = None;
        }
    }
}

impl Handler<RecordOutcome> for CircuitBreaker {
    type Result = ();

    fn handle(&mut self, msg: RecordOutcome, _: &mut Context<Self>) {
        self.refresh();
        if msg.venue_ok && self.state == BreakerState::Open {
            // An answer to some other request (a balance fetch, a query) during the cooldown
            // does not cut it short: only the cooldown moves an open breaker on.
            return;
        }
        if msg.venue_ok {
            self.consecutive_failures = 0;
            self.trial = None;
            self.opened_at = None;
            self.set_state(BreakerState::Closed);
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match self.state {
            BreakerState::Closed if self.consecutive_failures >= self.threshold => self.open(),
            BreakerState::HalfOpen => self.open(),
            _ => {}
        }
    }
}

impl Handler<GetBreakerState> for CircuitBreaker {
    type Result = MessageResult<GetBreakerState>;

    fn handle(&mut self, _: GetBreakerState, _: &mut Context<Self>) -> Self::Result {
        self.refresh();
        MessageResult(BreakerSnapshot {
            state: self.state,
            consecutive_failures: self.consecutive_failures,
            failure_threshold: self.threshold,
            opened_at: self.opened_at,
            retry_at: self.retry_at(),
        })
    }
}
