//! The order router: turns signals and manual orders into orders and tracks every order from
//! intent to a terminal state. It de-duplicates signals by id (the same id never makes two
//! orders), builds the order (see [`crate::intake`]), asks the breaker and the risk gate, hands
//! approved orders to the gateway, and folds every venue report into the order, forwarding each
//! new fill (once, by trade id) to the symbol's position actor and the risk gate.

use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, MessageResult,
    ResponseActFuture, Supervised, WrapFuture,
};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::domain::{
    Action, ClientOrderId, DomainError, Order, OrderReport, OrderRequest, OrderStatus, OrderType,
    Price, Qty, Side, Signal, SignalId, Symbol, TimeInForce,
};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::ExchangeError;
use crate::exchange::filters::Instruments;
use crate::intake;
use crate::market::MarketView;

use super::circuit_breaker::{CircuitBreaker, Permit, PermitUnused};
use super::exchange_gateway::{Cancel, ExchangeGateway, Query, Submit};
use super::messages::{ApplyFill, RiskReason, RiskRefusal, SubmitOutcome, VenueUpdate};
use super::position::{GetPosition, PositionRegistry};
use super::risk_gate::{CheckOrder, RecordExposure, RiskGate};
use super::supervisor::Supervision;

#[derive(Message)]
#[rtype(result = "SubmitOutcome")]
pub struct SubmitSignal(pub Signal);

/// An order placed by hand through `POST /v1/orders`.
#[derive(Message, Debug, Clone)]
#[rtype(result = "SubmitOutcome")]
pub struct SubmitOrder {
    pub symbol: Symbol,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: Qty,
    pub price: Option<Price>,
    pub time_in_force: TimeInForce,
    pub client_order_id: Option<ClientOrderId>,
}

#[derive(Message)]
#[rtype(result = "Result<Order, CancelError>")]
pub struct CancelOrder(pub ClientOrderId);

#[derive(Debug, Clone, thiserror::Error)]
pub enum CancelError {
    #[error("no order with this client_order_id")]
    NotFound,
    #[error("the order is already {}", .0.as_str())]
    NotOpen(OrderStatus),
    #[error("{0}")]
    Exchange(ExchangeError),
}

#[derive(Message)]
#[rtype(result = "Option<Order>")]
pub struct GetOrder(pub ClientOrderId);

#[derive(Message)]
#[rtype(result = "Vec<Order>")]
pub struct ListOrders {
    pub open_only: bool,
    pub symbol: Option<Symbol>,
}

#[derive(Message)]
#[rtype(result = "RouterStats")]
pub struct GetRouterStats;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RouterStats {
    pub signals_received: u64,
    pub orders_sent: u64,
    pub duplicates: u64,
    pub invalid: u64,
    pub refused: u64,
    pub fills_applied: u64,
    /// Venue reports for orders this engine does not hold (external or already evicted).
    pub unmatched_reports: u64,
    pub orders_in_memory: usize,
    pub open_orders: usize,
}

/// Delays before each query that resolves an UNKNOWN order.
const UNKNOWN_RETRY_DELAYS_MS: [u64; 4] = [100, 1_000, 5_000, 30_000];
/// How often expired de-duplication entries and old terminal orders are dropped from memory.
const EVICTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

pub struct RouterSettings {
    pub max_signal_age: Duration,
    pub max_future_skew: Duration,
    pub dedup_window: Duration,
    pub order_retention: Duration,
}

pub struct OrderRouter {
    settings: RouterSettings,
    instruments: Arc<Instruments>,
    clock: SharedClock,
    events: EventBus,
    market: Arc<MarketView>,
    positions: Arc<PositionRegistry>,
    risk: Addr<RiskGate>,
    breaker: Addr<CircuitBreaker>,
    gateway: Addr<ExchangeGateway>,
    supervision: Arc<Supervision>,
    orders: HashMap<ClientOrderId, Order>,
    /// Ids claimed by an order still passing the breaker and risk gate, so a second request
    /// with the same id cannot slip in while the first awaits.
    reserved: HashSet<ClientOrderId>,
    /// Symbols with a close in flight: a second close would sell the same position twice.
    closing: HashSet<Symbol>,
    /// Signal id → the order it made and when the id was seen, for de-duplication.
    seen_signals: HashMap<SignalId, (ClientOrderId, DateTime<Utc>)>,
    /// When each signal id was first seen, oldest first, for expiry.
    seen_order: VecDeque<(DateTime<Utc>, SignalId)>,
    /// When each order became terminal, oldest first, for eviction.
    terminal_order: VecDeque<(DateTime<Utc>, ClientOrderId)>,
    /// Sequence for manual order ids.
    manual_seq: u64,
    stats: RouterStats,
}

pub struct RouterDeps {
    pub instruments: Arc<Instruments>,
    pub clock: SharedClock,
    pub events: EventBus,
    pub market: Arc<MarketView>,
    pub positions: Arc<PositionRegistry>,
    pub risk: Addr<RiskGate>,
    pub breaker: Addr<CircuitBreaker>,
    pub gateway: Addr<ExchangeGateway>,
    pub supervision: Arc<Supervision>,
}

type Outcome = ResponseActFuture<OrderRouter, SubmitOutcome>;

fn done(outcome: SubmitOutcome) -> Outcome {
    Box::pin(actix::fut::ready(outcome))
}

impl OrderRouter {
    pub fn new(settings: RouterSettings, d: RouterDeps) -> Self {
        Self {
            settings,
            instruments: d.instruments,
            clock: d.clock,
            events: d.events,
            market: d.market,
            positions: d.positions,
            risk: d.risk,
            breaker: d.breaker,
            gateway: d.gateway,
            supervision: d.supervision,
            orders: HashMap::new(),
            reserved: HashSet::new(),
            closing: HashSet::new(),
            seen_signals: HashMap::new(),
            seen_order: VecDeque::new(),
            terminal_order: VecDeque::new(),
            manual_seq: 0,
            stats: RouterStats::default(),
        }
    }

    fn remember_signal(&mut self, id: SignalId, order: ClientOrderId) {
        let now = self.clock.now();
        self.seen_order.push_back((now, id.clone()));
        self.seen_signals.insert(id, (order, now));
    }

    /// Forgets a signal whose order was never sent for a passing reason (breaker open, halted,
    /// venue unreachable, throttled), so the strategy can retry the same id.
    fn forget_signal(&mut self, id: &SignalId) {
        self.seen_signals.remove(id);
    }

    fn id_taken(&self, id: &ClientOrderId) -> bool {
        self.orders.contains_key(id) || self.reserved.contains(id)
    }

    fn invalid(&mut self, e: DomainError) -> Outcome {
        self.stats.invalid += 1;
        done(SubmitOutcome::Invalid(e))
    }

    fn on_signal(&mut self, signal: Signal) -> Outcome {
        self.stats.signals_received += 1;
        if let Some((existing, _)) = self.seen_signals.get(&signal.id) {
            self.stats.duplicates += 1;
            return done(SubmitOutcome::Duplicate(existing.clone()));
        }
        let s = &self.settings;
        if let Err(e) = intake::check_fresh(
            signal.timestamp,
            self.clock.now(),
            s.max_signal_age,
            s.max_future_skew,
        ) {
            return self.invalid(e);
        }
        let Some(rules) = self.instruments.get(&signal.symbol) else {
            let e = DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", signal.symbol),
            );
            return self.invalid(e);
        };
        let id = ClientOrderId::for_signal(&signal.id);
        if self.id_taken(&id) {
            // The signal id left the de-duplication window but its order is still known.
            self.stats.duplicates += 1;
            return done(SubmitOutcome::Duplicate(id));
        }
        let side = match signal.action {
            Action::Buy => Side::Buy,
            Action::Sell => Side::Sell,
            Action::Close => {
                self.remember_signal(signal.id.clone(), id.clone());
                return self.close_position(signal, id);
            }
        };
        let last = self.market.last_price(&signal.symbol);
        match intake::order_for_signal(&signal, side, rules, last) {
            Ok(request) => {
                self.remember_signal(signal.id.clone(), id);
                self.place(request, Some(signal.id), signal.strategy)
            }
            Err(e) => self.invalid(e),
        }
    }

    /// A close signal: ask the symbol's position actor what is held, then sell (or buy back) it.
    fn close_position(&mut self, signal: Signal, id: ClientOrderId) -> Outcome {
        let Some(actor) = self.positions.actor(&signal.symbol) else {
            return self.invalid(DomainError::invalid(
                "symbol",
                "not a configured instrument",
            ));
        };
        let symbol = signal.symbol.clone();
        if !self.closing.insert(symbol.clone()) {
            self.stats.refused += 1;
            self.forget_signal(&signal.id);
            return done(SubmitOutcome::Refused(RiskRefusal {
                reason: RiskReason::CloseInProgress,
                detail: format!("a close of {symbol} is already in flight"),
            }));
        }
        let closing = Box::pin(actor.send(GetPosition).into_actor(self).then(
            move |position, act, _| {
                let Some(rules) = act.instruments.get(&signal.symbol) else {
                    return done(SubmitOutcome::Invalid(DomainError::invalid(
                        "symbol",
                        "not a configured instrument",
                    )));
                };
                let qty = position.map(|p| p.quantity).unwrap_or_default();
                match intake::order_to_close(id, rules, qty) {
                    Some(request) => act.place(request, Some(signal.id), signal.strategy),
                    None => {
                        act.stats.refused += 1;
                        done(SubmitOutcome::Refused(RiskRefusal {
                            reason: RiskReason::NoPosition,
                            detail: format!(
                                "no {} position large enough to close (holding {qty})",
                                signal.symbol
                            ),
                        }))
                    }
                }
            },
        ));
        Box::pin(closing.map(move |outcome, act, _| {
            act.closing.remove(&symbol);
            outcome
        }))
    }

    fn on_manual(&mut self, msg: SubmitOrder) -> Outcome {
        let Some(rules) = self.instruments.get(&msg.symbol) else {
            let e = DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", msg.symbol),
            );
            return self.invalid(e);
        };
        let id = match msg.client_order_id {
            Some(id) if id.is_signal_derived() => {
                return self.invalid(DomainError::invalid(
                    "client_order_id",
                    "must not start with \"rl-\" (reserved for orders made from signals)",
                ));
            }
            Some(id) if self.id_taken(&id) => {
                return self.invalid(DomainError::invalid(
                    "client_order_id",
                    "is already used by another order",
                ));
            }
            Some(id) => id,
            None => {
                self.manual_seq += 1;
                let raw = format!(
                    "rlm-{}-{}",
                    self.clock.now().timestamp_millis(),
                    self.manual_seq
                );
                match ClientOrderId::new(&raw) {
                    Ok(id) => id,
                    Err(e) => return self.invalid(e),
                }
            }
        };
        let request = OrderRequest {
            client_order_id: id,
            symbol: msg.symbol,
            side: msg.side,
            order_type: msg.order_type,
            quantity: msg.quantity,
            price: msg.price,
            time_in_force: msg.time_in_force,
        };
        if let Err(e) =
            intake::check_rules(&request, rules, self.market.last_price(&request.symbol))
        {
            return self.invalid(e);
        }
        self.place(request, None, None)
    }

    /// Breaker, then risk gate, then the venue. The order is recorded (PENDING_NEW) before it is
    /// sent, so a report that races the venue's answer always finds it.
    fn place(
        &mut self,
        request: OrderRequest,
        signal: Option<SignalId>,
        strategy: Option<String>,
    ) -> Outcome {
        let id = request.client_order_id.clone();
        self.reserved.insert(id.clone());
        let (breaker, risk) = (self.breaker.clone(), self.risk.clone());
        let check = request.clone();
        let checks = async move {
            let permit = match breaker.send(Permit).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(open)) => {
                    return Err(SubmitOutcome::Unavailable {
                        reason: "breaker_open",
                        detail: open.to_string(),
                    });
                }
                Err(e) => {
                    return Err(SubmitOutcome::Unavailable {
                        reason: "engine_unavailable",
                        detail: e.to_string(),
                    });
                }
            };
            let refusal = match risk.send(CheckOrder(check)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(r)) if r.reason == RiskReason::TradingHalted => SubmitOutcome::Unavailable {
                    reason: "trading_halted",
                    detail: r.detail,
                },
                Ok(Err(r)) => SubmitOutcome::Refused(r),
                Err(e) => SubmitOutcome::Unavailable {
                    reason: "engine_unavailable",
                    detail: e.to_string(),
                },
            };
            breaker.do_send(PermitUnused(permit));
            Err(refusal)
        };
        Box::pin(checks.into_actor(self).then(move |checked, act, _| {
            act.reserved.remove(&id);
            if let Err(outcome) = checked {
                if matches!(outcome, SubmitOutcome::Refused(_)) {
                    act.stats.refused += 1;
                }
                if let Some(signal) = &signal
                    && outcome.is_retryable()
                {
                    act.forget_signal(signal);
                }
                return done(outcome);
            }
            let order = Order::new(&request, signal.clone(), strategy, act.clock.now());
            act.publish_order(&order);
            act.orders.insert(id.clone(), order);
            act.stats.orders_sent += 1;
            let sent = act.gateway.send(Submit(request));
            Box::pin(sent.into_actor(act).map(move |answer, act, ctx| {
                let outcome = act.on_submitted(id, answer, ctx);
                if let Some(signal) = &signal
                    && outcome.is_retryable()
                {
                    act.forget_signal(signal);
                }
                outcome
            }))
        }))
    }

    /// Folds the venue's answer to a submit into the order. Reports pushed meanwhile may already
    /// have moved the order on; an error answer never overrides what the venue has reported.
    fn on_submitted(
        &mut self,
        id: ClientOrderId,
        answer: Result<Result<OrderReport, ExchangeError>, actix::MailboxError>,
        ctx: &mut Context<Self>,
    ) -> SubmitOutcome {
        let error = match answer {
            Ok(Ok(report)) => {
                self.apply_report(&report);
                return self.order_outcome(&id, SubmitOutcome::Submitted);
            }
            Ok(Err(e)) => e,
            // The gateway died with the request in hand: it may or may not have been sent.
            Err(e) => ExchangeError::UnknownOutcome(format!("gateway: {e}")),
        };
        let now = self.clock.now();
        let Some(order) = self.orders.get_mut(&id) else {
            return SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: "order lost".into(),
            };
        };
        if order.status != OrderStatus::PendingNew {
            // The venue already reported on this order, so it did reach the venue: trust the
            // reports, and confirm by query.
            tracing::warn!(%id, error = %error, status = order.status.as_str(), "submit answered with an error after the venue reported the order; keeping the reported state");
            let (snapshot, symbol) = (Box::new(order.clone()), order.symbol.clone());
            self.refresh_order(symbol, id, ctx);
            return SubmitOutcome::Submitted(snapshot);
        }
        order.updated_at = now;
        let outcome = match &error {
            ExchangeError::Rejected { code, message } => {
                order.status = OrderStatus::Rejected;
                order.reason = Some(format!("{message} ({code})"));
                SubmitOutcome::ExchangeRejected {
                    order: Box::new(order.clone()),
                    code: *code,
                    message: message.clone(),
                }
            }
            ExchangeError::Connectivity(_) | ExchangeError::RateLimited { .. } => {
                order.status = OrderStatus::Rejected;
                order.reason = Some(format!("not sent: {error}"));
                SubmitOutcome::ExchangeFailed {
                    order: Box::new(order.clone()),
                    error: error.to_string(),
                }
            }
            ExchangeError::UnknownOutcome(_) => {
                order.status = OrderStatus::Unknown;
                order.reason = Some(error.to_string());
                SubmitOutcome::Unknown(Box::new(order.clone()))
            }
        };
        let order = order.clone();
        self.publish_order(&order);
        match &outcome {
            // Never reached the venue: nothing exists there, so nothing is kept here either
            // (the id may be used again by a retry of the same signal).
            SubmitOutcome::ExchangeFailed { .. } => {
                self.orders.remove(&id);
            }
            SubmitOutcome::Unknown(_) => self.resolve_unknown(id, 0, ctx),
            _ => self.terminal_order.push_back((now, id)),
        }
        outcome
    }

    /// Queries one order and folds the answer in.
    fn refresh_order(&mut self, symbol: Symbol, id: ClientOrderId, ctx: &mut Context<Self>) {
        let query = self.gateway.send(Query { symbol, id });
        ctx.spawn(query.into_actor(self).map(|res, act, _| match res {
            Ok(Ok(report)) => act.apply_report(&report),
            Ok(Err(e)) => tracing::warn!(error = %e, "order query failed"),
            Err(e) => tracing::warn!(error = %e, "order query not delivered"),
        }));
    }

    fn order_outcome(
        &self,
        id: &ClientOrderId,
        make: fn(Box<Order>) -> SubmitOutcome,
    ) -> SubmitOutcome {
        match self.orders.get(id) {
            Some(o) => make(Box::new(o.clone())),
            None => SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: "order evicted".into(),
            },
        }
    }

    /// Queries an UNKNOWN order until the venue says what became of it. Never re-sends it, and
    /// never concludes it failed: "no such order" may only mean the venue has not recorded it
    /// yet (or the request is still on its way), so after the last try it stays UNKNOWN.
    fn resolve_unknown(&mut self, id: ClientOrderId, attempt: usize, ctx: &mut Context<Self>) {
        let Some(delay) = UNKNOWN_RETRY_DELAYS_MS.get(attempt) else {
            tracing::error!(%id, "order still UNKNOWN after every query; left for reconciliation");
            return;
        };
        ctx.run_later(std::time::Duration::from_millis(*delay), move |act, ctx| {
            let Some(order) = act
                .orders
                .get(&id)
                .filter(|o| o.status == OrderStatus::Unknown)
            else {
                return;
            };
            let query = Query {
                symbol: order.symbol.clone(),
                id: id.clone(),
            };
            ctx.spawn(act.gateway.send(query).into_actor(act).map(
                move |res, act, ctx| match res {
                    Ok(Ok(report)) => act.apply_report(&report),
                    _ => act.resolve_unknown(id, attempt + 1, ctx),
                },
            ));
        });
    }

    /// Folds a venue report into its order and forwards each fill not seen before.
    fn apply_report(&mut self, report: &OrderReport) {
        let Some(order) = self.orders.get_mut(&report.client_order_id) else {
            self.stats.unmatched_reports += 1;
            // Until reconciliation adopts such orders, make a fill nobody tracks impossible to miss.
            if report.fills.is_empty() {
                tracing::warn!(id = %report.client_order_id, status = report.status.as_str(), "report for an order this engine does not hold");
            } else {
                tracing::error!(id = %report.client_order_id, fills = report.fills.len(), "FILLS for an order this engine does not hold: positions may differ from the venue until reconciled");
            }
            return;
        };
        let was_terminal = order.status.is_terminal();
        let before = (order.status, order.filled_quantity);
        let fresh = order.apply_report(report);
        let changed = before != (order.status, order.filled_quantity);
        let now_terminal = order.status.is_terminal();
        let order_snapshot = changed.then(|| order.clone());
        if !fresh.is_empty() {
            let base = self
                .instruments
                .get(&report.symbol)
                .map(|r| r.base_asset.clone());
            let actor = self.positions.actor(&report.symbol);
            for fill in fresh {
                self.stats.fills_applied += 1;
                if let Some(change) = base.as_ref().and_then(|b| fill.base_change(b)) {
                    self.risk.do_send(RecordExposure {
                        symbol: fill.symbol.clone(),
                        signed_qty: change,
                    });
                }
                self.events
                    .publish_with(|| EngineEvent::FillApplied { fill: fill.clone() });
                match &actor {
                    Some(a) => a.do_send(ApplyFill(fill)),
                    None => {
                        tracing::error!(symbol = %report.symbol, "fill for a symbol with no position actor")
                    }
                }
            }
        }
        if let Some(order) = order_snapshot {
            self.publish_order(&order);
        }
        if now_terminal && !was_terminal {
            self.terminal_order
                .push_back((self.clock.now(), report.client_order_id.clone()));
        }
    }

    fn publish_order(&self, order: &Order) {
        self.events.publish_with(|| EngineEvent::OrderUpdated {
            order: order.clone(),
        });
    }

    /// Re-queries every order the engine holds open; called when the venue stream (re)connects.
    fn resync(&mut self, ctx: &mut Context<Self>) {
        let open: Vec<(Symbol, ClientOrderId)> = self
            .orders
            .values()
            .filter(|o| o.status.is_open() && o.status != OrderStatus::PendingNew)
            .map(|o| (o.symbol.clone(), o.client_order_id.clone()))
            .collect();
        for (symbol, id) in open {
            self.refresh_order(symbol, id, ctx);
        }
    }

    fn evict(&mut self) {
        let now = self.clock.now();
        while let Some((t, _)) = self.seen_order.front() {
            if now - *t < self.settings.dedup_window {
                break;
            }
            if let Some((seen, id)) = self.seen_order.pop_front()
                && self.seen_signals.get(&id).is_some_and(|(_, t)| *t == seen)
            {
                self.seen_signals.remove(&id);
            }
        }
        while let Some((t, _)) = self.terminal_order.front() {
            if now - *t < self.settings.order_retention {
                break;
            }
            if let Some((_, id)) = self.terminal_order.pop_front()
                && self.orders.get(&id).is_some_and(|o| o.status.is_terminal())
            {
                self.orders.remove(&id);
            }
        }
    }
}

impl Actor for OrderRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(EVICTION_INTERVAL, |act, _| act.evict());
        // After a restart: resolve every order whose outcome the old instance did not see.
        let unknown: Vec<ClientOrderId> = self
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Unknown)
            .map(|o| o.client_order_id.clone())
            .collect();
        for id in unknown {
            self.resolve_unknown(id, 0, ctx);
        }
    }
}

impl Supervised for OrderRouter {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // Orders and the de-duplication memory are the router's state and are kept. Futures in
        // flight died with the old context: an order sent but not answered may or may not have
        // reached the venue, so it becomes UNKNOWN and is resolved by query in `started`.
        let now = self.clock.now();
        for order in self
            .orders
            .values_mut()
            .filter(|o| o.status == OrderStatus::PendingNew)
        {
            order.status = OrderStatus::Unknown;
            order.reason = Some("the router restarted before the venue answered".into());
            order.updated_at = now;
        }
        self.supervision.record_restart("order_router");
    }
}

impl Handler<SubmitSignal> for OrderRouter {
    type Result = ResponseActFuture<Self, SubmitOutcome>;

    fn handle(&mut self, msg: SubmitSignal, _: &mut Context<Self>) -> Self::Result {
        self.on_signal(msg.0)
    }
}

impl Handler<SubmitOrder> for OrderRouter {
    type Result = ResponseActFuture<Self, SubmitOutcome>;

    fn handle(&mut self, msg: SubmitOrder, _: &mut Context<Self>) -> Self::Result {
        self.on_manual(msg)
    }
}

impl Handler<VenueUpdate> for OrderRouter {
    type Result = ();

    fn handle(&mut self, msg: VenueUpdate, ctx: &mut Context<Self>) {
        match msg {
            VenueUpdate::Report(report) => self.apply_report(&report),
            VenueUpdate::Resubscribed => self.resync(ctx),
        }
    }
}

impl Handler<CancelOrder> for OrderRouter {
    type Result = ResponseActFuture<Self, Result<Order, CancelError>>;

    fn handle(&mut self, msg: CancelOrder, _: &mut Context<Self>) -> Self::Result {
        let id = msg.0;
        let symbol = match self.orders.get(&id) {
            None => return Box::pin(actix::fut::ready(Err(CancelError::NotFound))),
            Some(o) if o.status.is_terminal() => {
                return Box::pin(actix::fut::ready(Err(CancelError::NotOpen(o.status))));
            }
            Some(o) => o.symbol.clone(),
        };
        let sent = self.gateway.send(Cancel {
            symbol,
            id: id.clone(),
        });
        Box::pin(sent.into_actor(self).map(move |res, act, _| {
            match res {
                Ok(Ok(report)) => act.apply_report(&report),
                Ok(Err(e)) => return Err(CancelError::Exchange(e)),
                Err(e) => {
                    return Err(CancelError::Exchange(ExchangeError::UnknownOutcome(
                        e.to_string(),
                    )));
                }
            }
            act.orders.get(&id).cloned().ok_or(CancelError::NotFound)
        }))
    }
}

impl Handler<GetOrder> for OrderRouter {
    type Result = Option<Order>;

    fn handle(&mut self, msg: GetOrder, _: &mut Context<Self>) -> Self::Result {
        self.orders.get(&msg.0).cloned()
    }
}

impl Handler<ListOrders> for OrderRouter {
    type Result = MessageResult<ListOrders>;

    fn handle(&mut self, msg: ListOrders, _: &mut Context<Self>) -> Self::Result {
        let mut orders: Vec<Order> = self
            .orders
            .values()
            .filter(|o| !msg.open_only || o.status.is_open())
            .filter(|o| msg.symbol.as_ref().is_none_or(|s| *s == o.symbol))
            .cloned()
            .collect();
        orders.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.client_order_id.cmp(&b.client_order_id))
        });
        MessageResult(orders)
    }
}

impl Handler<GetRouterStats> for OrderRouter {
    type Result = MessageResult<GetRouterStats>;

    fn handle(&mut self, _: GetRouterStats, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats.clone();
        stats.orders_in_memory = self.orders.len();
        stats.open_orders = self.orders.values().filter(|o| o.status.is_open()).count();
        MessageResult(stats)
    }
}
