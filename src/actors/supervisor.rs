//! Supervision bookkeeping shared by every actor's `restarting` hook: restart counts per actor
//! (shown on `/v1/status`) and the restart budget. An actor that restarts more than
//! `max_restarts` times within `restart_window` is failing for a reason a restart will not fix,
//! so trading is halted and a person must look (the actor keeps being restarted, so the engine
//! still answers queries).

use actix::Recipient;
use chrono::{DateTime, Duration, Utc};
use dashmap::DashMap;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use crate::clock::SharedClock;
use crate::events::{EngineEvent, EventBus};

use super::risk_gate::{SetTradingState, TradingState};

#[derive(Debug, Clone, Serialize, Default)]
pub struct ActorStats {
    pub restarts: u64,
    pub last_restart: Option<DateTime<Utc>>,
    /// Restarts within the current window, oldest first, for the restart budget.
    #[serde(skip)]
    recent: VecDeque<DateTime<Utc>>,
}

pub struct Supervision {
    clock: SharedClock,
    events: EventBus,
    max_restarts: u32,
    window: Duration,
    stats: DashMap<&'static str, ActorStats>,
    /// Where escalations go; set once the risk gate has started.
    halt: OnceLock<Recipient<SetTradingState>>,
}

impl Supervision {
    pub fn new(
        clock: SharedClock,
        events: EventBus,
        max_restarts: u32,
        window: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            clock,
            events,
            max_restarts,
            window,
            stats: DashMap::new(),
            halt: OnceLock::new(),
        })
    }

    pub fn set_escalation(&self, halt: Recipient<SetTradingState>) {
        let _ = self.halt.set(halt);
    }

    /// Called from an actor's `restarting` hook. Returns true when the budget is exceeded (and
    /// trading has been told to halt).
    pub fn record_restart(&self, actor: &'static str) -> bool {
        let now = self.clock.now();
        let (restarts, over_budget) = {
            let mut s = self.stats.entry(actor).or_default();
            s.restarts += 1;
            s.last_restart = Some(now);
            s.recent.push_back(now);
            while s.recent.front().is_some_and(|t| now - *t > self.window) {
                s.recent.pop_front();
            }
            (s.restarts, s.recent.len() > self.max_restarts as usize)
        };
        tracing::warn!(actor, restarts, "actor restarted by its supervisor");
        self.events.publish(EngineEvent::ActorRestarted {
            actor,
            restarts,
            ts: now,
        });
        if over_budget {
            tracing::error!(actor, "restart budget exceeded; halting trading");
            if let Some(halt) = self.halt.get() {
                halt.do_send(SetTradingState {
                    state: TradingState::Halted,
                    reason: format!(
                        "actor {actor} restarted more than {} times in {}s",
                        self.max_restarts,
                        self.window.num_seconds()
                    ),
                });
            }
        }
        over_budget
    }

    pub fn snapshot(&self) -> Vec<(&'static str, ActorStats)> {
        let mut v: Vec<_> = self
            .stats
            .iter()
            .map(|e| (*e.key(), e.value().clone()))
            .collect();
        v.sort_by_key(|(a, _)| *a);
        v
    }

    pub fn restarts(&self, actor: &'static str) -> u64 {
        self.stats.get(actor).map_or(0, |s| s.restarts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn restarts_beyond_the_budget_in_the_window_escalate() {
        let clock = ManualClock::new(Utc::now());
        let sup = Supervision::new(clock.clone(), EventBus::new(), 2, Duration::seconds(10));
        assert!(!sup.record_restart("a"));
        assert!(!sup.record_restart("a"));
        assert!(
            sup.record_restart("a"),
            "third restart within 10 s exceeds a budget of 2"
        );
        clock.advance(Duration::seconds(11));
        assert!(!sup.record_restart("a"), "the window has moved on");
        assert!(!sup.record_restart("b"), "budgets are per actor");
        assert_eq!(sup.restarts("a"), 4);
    }
}
