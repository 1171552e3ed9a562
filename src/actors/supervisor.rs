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
use std::sync::{Arc, Mutex, OnceLock};

use crate::clock::SharedClock;
use crate::events::{EngineEvent, EventBus};

use super::risk_gate::{SetTradingState, TradingState};

#[derive(Debug, Clone, Serialize, Default)]
pub struct ActorStats {
    pub restarts: u64,
    pub last_restart: Option<DateTime<Utc>>,
}

pub struct Supervision {
    clock: SharedClock,
    events: EventBus,
    max_restarts: u32,
    window: Duration,
    stats: DashMap<&'static str, ActorStats>,
    /// Recent restart times per actor, for the budget.
    recent: Mutex<Vec<(&'static str, VecDeque<DateTime<Utc>>)>>,
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
            recent: Mutex::new(Vec::new()),
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
        let restarts = {
            let mut s = self.stats.entry(actor).or_default();
            s.restarts += 1;
            s.last_restart = Some(now);
            s.restarts
        };
        tracing::warn!(actor, restarts, "actor restarted by its supervisor");
        self.events.publish(EngineEvent::ActorRestarted {
            actor,
            restarts,
            ts: now,
        });

        let over_budget = {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let idx = match recent.iter().position(|(a, _)| *a == actor) {
                Some(i) => i,
                None => {
                    recent.push((actor, VecDeque::new()));
                    recent.len() - 1
                }
            };
            let times = &mut recent[idx].1;
            times.push_back(now);
            while times.front().is_some_and(|t| now - *t > self.window) {
                times.pop_front();
            }
            times.len() > self.max_restarts as usize
        };
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
