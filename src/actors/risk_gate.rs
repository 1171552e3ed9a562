//! The risk gate: every order passes here before it may leave. It owns a [`RiskState`] (the
//! limits, the book of holdings and open-order reservations, the throttle windows, the trading
//! state) and is told the facts it needs: fills and order ends by the router, cancels as they
//! are sent, balances from the venue at start and whenever no order is open. A refusal is a
//! `RiskRefusal` with a stable reason code; every change of state is published as an event.

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, MessageResult, Recipient,
    Supervised, WrapFuture,
};
use std::collections::VecDeque;
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::control::EmergencyLatch;
use crate::domain::{ClientOrderId, Fill};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::filters::Instruments;
use crate::market::MarketView;
use crate::risk::{
    CheckRequest, Effect, LimitProblem, LimitsChange, LimitsPatch, RiskConfig, RiskReport,
    RiskState,
};

use super::exchange_gateway::FetchBalances;
use super::messages::RiskRefusal;
use super::supervisor::Supervision;

pub use crate::risk::TradingState;

/// The halt reason an emergency stop shows.
pub fn stop_reason(reason: &str) -> String {
    format!("emergency stop: {reason}")
}

/// May this order go out? Approval counts it as sent and reserves what it may use.
#[derive(Message)]
#[rtype(result = "Result<(), RiskRefusal>")]
pub struct CheckOrder(pub CheckRequest);

/// A fill, once, with the strategy whose order it filled.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RecordFill {
    pub fill: Fill,
    pub strategy: Option<String>,
}

/// An approved order reached a terminal state (or never reached the venue): release what it
/// still reserves.
#[derive(Message)]
#[rtype(result = "()")]
pub struct OrderDone(pub ClientOrderId);

/// A cancel (or modify) is being sent now: it counts toward the message throttle. Never refused.
#[derive(Message)]
#[rtype(result = "()")]
pub struct MessageSent;

#[derive(Message)]
#[rtype(result = "()")]
pub struct SetTradingState {
    pub state: TradingState,
    pub reason: String,
}

/// An emergency stop is latched (see [`crate::control`]): halt with its reason. Only
/// [`ReleaseStop`] lifts it; `SetTradingState` cannot while the latch is engaged.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EngageStop {
    pub reason: String,
}

/// The emergency stop was lifted (`POST /v1/resume`): trading becomes active.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseStop {
    pub reason: String,
}

#[derive(Message)]
#[rtype(result = "RiskReport")]
pub struct GetRiskState;

/// Changes some limits, all or none, recorded with who asked.
#[derive(Message)]
#[rtype(result = "Result<RiskConfig, Vec<LimitProblem>>")]
pub struct UpdateLimits {
    pub patch: LimitsPatch,
    pub by: String,
}

/// Lets a strategy paused by the consecutive-loss breaker trade again. `false` if not paused.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct ResumeStrategy {
    pub strategy: String,
    pub by: String,
}

/// Where to load balances from; loaded at once and again whenever no order is open.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AttachAccount(pub Recipient<FetchBalances>);

/// How often marks are refreshed from the market view and the UTC day is checked.
const MARK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// How often balances are re-synced from the venue (only while no approved order is open).
const BALANCE_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// Limit changes kept in memory for `GET /v1/risk`.
const KEPT_LIMIT_CHANGES: usize = 20;

pub struct RiskGate {
    risk: RiskState,
    market: Arc<MarketView>,
    clock: SharedClock,
    events: EventBus,
    supervision: Arc<Supervision>,
    account: Option<Recipient<FetchBalances>>,
    changes: VecDeque<LimitsChange>,
    /// Read on every check, so an emergency stop refuses orders still queued in this mailbox.
    latch: Arc<EmergencyLatch>,
}

impl RiskGate {
    pub fn new(
        limits: RiskConfig,
        instruments: &Instruments,
        market: Arc<MarketView>,
        clock: SharedClock,
        events: EventBus,
        supervision: Arc<Supervision>,
        latch: Arc<EmergencyLatch>,
    ) -> Self {
        let mut risk = RiskState::new(limits, instruments);
        if let Some(stop) = latch.record() {
            risk.halt_for_stop(stop_reason(&stop.reason));
        }
        Self {
            risk,
            market,
            clock,
            events,
            supervision,
            account: None,
            changes: VecDeque::new(),
            latch,
        }
    }

    fn publish(&self, effect: Effect) {
        let ts = self.clock.now();
        match effect {
            Effect::StateChanged { state, reason } => {
                tracing::warn!(state = state.as_str(), %reason, "trading state changed");
                self.events.publish(EngineEvent::TradingStateChanged {
                    state: state.as_str(),
                    reason,
                    ts,
                });
            }
            Effect::StrategyPaused { strategy, losses } => {
                tracing::warn!(%strategy, losses, "strategy paused after consecutive losses");
                self.events.publish(EngineEvent::StrategyPaused {
                    strategy,
                    losses,
                    ts,
                });
            }
        }
    }

    fn refresh_marks(&mut self) {
        for i in 0..self.risk.book.symbols().len() {
            let symbol = self.risk.book.symbol(i).symbol.clone();
            if let Some((p, ts)) = self.market.last(&symbol) {
                self.risk.book.set_mark(i, p.0, ts);
            }
        }
        self.risk.roll_day(self.clock.now());
        self.announce_day();
    }

    /// Journals the start of a new trading day (via the event bus), once per day.
    fn announce_day(&mut self) {
        if let Some((day, start_equity)) = self.risk.new_day() {
            self.events.publish(EngineEvent::RiskDayStarted {
                day,
                start_equity,
                ts: self.clock.now(),
            });
        }
    }

    fn sync_balances(&mut self, ctx: &mut Context<Self>) {
        let Some(account) = self.account.clone() else {
            return;
        };
        if self.risk.book.account_known && !self.risk.book.is_idle() {
            return;
        }
        ctx.spawn(
            account
                .send(FetchBalances)
                .into_actor(self)
                .map(|res, act, _| match res {
                    // An order approved meanwhile may already be changing the venue's balances.
                    Ok(Ok(balances)) if act.risk.book.is_idle() || !act.risk.book.account_known => {
                        act.refresh_marks();
                        act.risk.sync_balances(&balances, act.clock.now());
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "risk gate could not load balances"),
                    Err(e) => tracing::warn!(error = %e, "risk gate could not reach the gateway"),
                }),
        );
    }
}

impl Actor for RiskGate {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(MARK_INTERVAL, |act, _| act.refresh_marks());
        ctx.run_interval(BALANCE_SYNC_INTERVAL, |act, ctx| act.sync_balances(ctx));
        self.sync_balances(ctx);
    }
}

impl Supervised for RiskGate {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // The limits, book, windows and trading state are kept: a restart must not reopen a
        // halt, forget a reservation or reset a throttle.
        self.supervision.record_restart("risk_gate");
    }
}

impl Handler<CheckOrder> for RiskGate {
    type Result = Result<(), RiskRefusal>;

    fn handle(&mut self, msg: CheckOrder, _: &mut Context<Self>) -> Self::Result {
        if let Some(stop) = self.latch.record().filter(|_| self.latch.is_engaged()) {
            return Err(RiskRefusal {
                reason: crate::actors::messages::RiskReason::TradingHalted,
                detail: format!(
                    "trading is halted: {} (lifted only by POST /v1/resume)",
                    stop_reason(&stop.reason)
                ),
            });
        }
        let last = self
            .market
            .last(&msg.0.order.symbol)
            .map(|(p, ts)| (p.0, ts));
        self.risk.decide(&msg.0, last, self.clock.now())
    }
}

impl Handler<RecordFill> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: RecordFill, _: &mut Context<Self>) {
        let now = self.clock.now();
        for effect in self.risk.on_fill(&msg.fill, msg.strategy.as_deref(), now) {
            self.publish(effect);
        }
        self.announce_day();
    }
}

/// Continues today's limits from before a restart (from the journal): the day's starting
/// equity, the trades made so far, and the strategies the consecutive-loss breaker paused.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RestoreDay {
    pub day: Option<(chrono::NaiveDate, rust_decimal::Decimal)>,
    pub trades_today: u32,
    pub paused: Vec<(String, chrono::DateTime<chrono::Utc>)>,
}

impl Handler<RestoreDay> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: RestoreDay, _: &mut Context<Self>) {
        if let Some((day, equity)) = msg.day {
            self.risk.restore_day(day, equity, msg.trades_today);
        }
        for (strategy, since) in msg.paused {
            self.risk.restore_paused(&strategy, since);
        }
    }
}

impl Handler<OrderDone> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: OrderDone, _: &mut Context<Self>) {
        self.risk.book.release(&msg.0);
    }
}

impl Handler<MessageSent> for RiskGate {
    type Result = ();

    fn handle(&mut self, _: MessageSent, _: &mut Context<Self>) {
        self.risk.record_message(self.clock.now());
    }
}

impl Handler<SetTradingState> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: SetTradingState, _: &mut Context<Self>) {
        if self.latch.is_engaged() && msg.state != TradingState::Halted {
            tracing::warn!(state = msg.state.as_str(), reason = %msg.reason, "trading state not changed: an emergency stop is latched (POST /v1/resume lifts it)");
            return;
        }
        if let Some(effect) = self.risk.set_state(msg.state, msg.reason) {
            self.publish(effect);
        }
    }
}

impl Handler<EngageStop> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: EngageStop, _: &mut Context<Self>) {
        if let Some(effect) = self.risk.halt_for_stop(stop_reason(&msg.reason)) {
            self.publish(effect);
        }
    }
}

impl Handler<ReleaseStop> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: ReleaseStop, _: &mut Context<Self>) {
        if self.latch.is_engaged() {
            tracing::error!("ReleaseStop while the latch is still engaged; ignored");
            return;
        }
        if let Some(effect) = self.risk.set_state(TradingState::Active, msg.reason) {
            self.publish(effect);
        }
    }
}

impl Handler<GetRiskState> for RiskGate {
    type Result = MessageResult<GetRiskState>;

    fn handle(&mut self, _: GetRiskState, _: &mut Context<Self>) -> Self::Result {
        let changes = self.changes.iter().cloned().collect();
        let mut report = self.risk.report(self.clock.now(), changes);
        // The latch blocks orders before this mailbox reaches its `EngageStop`: show it.
        if let Some(stop) = self.latch.record().filter(|_| self.latch.is_engaged()) {
            report.trading_state = TradingState::Halted;
            report.halt_reason = Some(stop_reason(&stop.reason));
            report.halt_code = Some("trading_halted");
        }
        MessageResult(report)
    }
}

impl Handler<UpdateLimits> for RiskGate {
    type Result = MessageResult<UpdateLimits>;

    fn handle(&mut self, msg: UpdateLimits, _: &mut Context<Self>) -> Self::Result {
        let limits = match self.risk.update_limits(&msg.patch) {
            Ok(l) => l.clone(),
            Err(problems) => return MessageResult(Err(problems)),
        };
        let change = LimitsChange {
            by: msg.by,
            at: self.clock.now(),
            changes: serde_json::to_value(&msg.patch).unwrap_or_default(),
        };
        tracing::warn!(by = %change.by, changes = %change.changes, "risk limits changed");
        self.events.publish(EngineEvent::RiskLimitsChanged {
            by: change.by.clone(),
            changes: change.changes.clone(),
            ts: change.at,
        });
        self.changes.push_back(change);
        while self.changes.len() > KEPT_LIMIT_CHANGES {
            self.changes.pop_front();
        }
        MessageResult(Ok(limits))
    }
}

impl Handler<ResumeStrategy> for RiskGate {
    type Result = bool;

    fn handle(&mut self, msg: ResumeStrategy, _: &mut Context<Self>) -> bool {
        let resumed = self.risk.resume_strategy(&msg.strategy);
        if resumed {
            tracing::warn!(strategy = %msg.strategy, by = %msg.by, "strategy resumed");
            self.events.publish(EngineEvent::StrategyResumed {
                strategy: msg.strategy,
                by: msg.by,
                ts: self.clock.now(),
            });
        }
        resumed
    }
}

impl Handler<AttachAccount> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: AttachAccount, ctx: &mut Context<Self>) {
        self.account = Some(msg.0);
        self.sync_balances(ctx);
    }
}
