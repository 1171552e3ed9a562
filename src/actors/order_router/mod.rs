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
use crate::control::EmergencyLatch;
use crate::domain::{
    Action, ClientOrderId, DomainError, Order, OrderReport, OrderRequest, OrderStatus, OrderType,
    Price, Qty, Side, Signal, SignalId, Symbol, TimeInForce,
};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::ExchangeError;
use crate::exchange::filters::Instruments;
use crate::intake;
use crate::journal::writer::commit;
use crate::journal::{Entry, EntryKind, JournalWriter};
use crate::market::MarketView;

use super::circuit_breaker::{CircuitBreaker, Permit, PermitUnused};
use super::exchange_gateway::{Cancel, ExchangeGateway, FetchBalances, Query, Submit};
use super::messages::{ApplyFill, RiskReason, RiskRefusal, SubmitOutcome, VenueUpdate};
use super::position::{GetPosition, PositionRegistry};
use super::risk_gate::{CheckOrder, MessageSent, OrderDone, RecordFill, RiskGate};
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
    /// An identical recent order is intended (the risk gate's duplicate check does not apply).
    pub allow_duplicate: bool,
    /// Trigger price of a stop-loss / take-profit order.
    pub stop_price: Option<Price>,
    /// Trailing stop distance in basis points, for stop-loss / take-profit orders.
    pub trailing_delta: Option<u32>,
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

/// Reconciliation found that the venue has never heard of this UNKNOWN order (queried after a
/// grace period): it was never placed, so it ends REJECTED. Its id stays taken (a replayed
/// signal is still a duplicate); a strategy that wants the trade sends a new signal.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ResolveNotAtVenue(pub ClientOrderId);

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
    /// Venue reports for orders this engine does not hold and could not adopt (no terms and
    /// no fills to learn the side from).
    pub unmatched_reports: u64,
    /// Orders the engine did not place itself, taken over from their first report (the
    /// emergency stop's closing orders, orders placed on the venue by hand).
    pub adopted_orders: u64,
    pub orders_in_memory: usize,
    pub open_orders: usize,
}

/// Delays before each query that resolves an UNKNOWN order.
const UNKNOWN_RETRY_DELAYS_MS: [u64; 4] = [100, 1_000, 5_000, 30_000];
/// How often expired de-duplication entries and old terminal orders are dropped from memory.
const EVICTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

mod exits;
mod lists;
mod modify;
mod placing;
mod sending;
mod tracking;

pub use lists::{CancelOrderList, GetOrderList, ListOutcome, OcoLegInput, OrderListView, PlaceOco};
pub use modify::{ModifyOrder, ModifyOutcome};

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
    journal: Option<Addr<JournalWriter>>,
    /// Checked again just before an approved order is handed to the gateway, so approvals
    /// still queued when an emergency stop comes in are not sent.
    latch: Arc<EmergencyLatch>,
    orders: HashMap<ClientOrderId, Order>,
    /// Ids claimed by an order still passing the breaker and risk gate, so a second request
    /// with the same id cannot slip in while the first awaits.
    reserved: HashSet<ClientOrderId>,
    /// Orders that were open when last looked at, by symbol: the MAX_NUM_ORDERS count. Pruned
    /// lazily when counted, so status changes need not update it.
    live: HashMap<Symbol, HashSet<ClientOrderId>>,
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
    /// Order lists placed through this router, by list client order id.
    lists: HashMap<ClientOrderId, lists::TrackedList>,
    /// Protective exits, by the client order id of the entry they protect.
    exits: HashMap<ClientOrderId, exits::ExitPlan>,
    /// Exit leg id → its entry, so an exit's fill is recognised.
    exit_legs: HashMap<ClientOrderId, ClientOrderId>,
    /// This actor's address (set when it starts), for the messages it sends itself.
    myself: Option<Addr<OrderRouter>>,
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
    /// Where order intents are committed before they are sent; `None` runs without a journal
    /// (benchmarks, unit tests).
    pub journal: Option<Addr<JournalWriter>>,
    pub latch: Arc<EmergencyLatch>,
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
            journal: d.journal,
            latch: d.latch,
            orders: HashMap::new(),
            reserved: HashSet::new(),
            live: HashMap::new(),
            closing: HashSet::new(),
            seen_signals: HashMap::new(),
            seen_order: VecDeque::new(),
            terminal_order: VecDeque::new(),
            manual_seq: 0,
            lists: HashMap::new(),
            exits: HashMap::new(),
            exit_legs: HashMap::new(),
            myself: None,
            stats: RouterStats::default(),
        }
    }

    /// Takes back the orders recovered from the journal: open and UNKNOWN ones are tracked
    /// (UNKNOWN ones are queried as soon as the router starts), terminal ones within the
    /// retention period stay visible, and every signal id behind an order is remembered so a
    /// replayed signal is still a duplicate after the restart.
    pub fn restore(&mut self, orders: impl IntoIterator<Item = Order>) {
        let now = self.clock.now();
        let mut restored: Vec<Order> = orders.into_iter().collect();
        restored.sort_by_key(|o| o.created_at);
        for order in restored {
            let id = order.client_order_id.clone();
            if let Some(signal) = &order.signal_id
                && now - order.created_at < self.settings.dedup_window
            {
                self.seen_order
                    .push_back((order.created_at, signal.clone()));
                self.seen_signals
                    .insert(signal.clone(), (id.clone(), order.created_at));
            }
            if order.status.is_terminal() {
                if now - order.updated_at >= self.settings.order_retention {
                    continue; // Stays in the journal; GET /v1/orders/{id} finds it there.
                }
                self.terminal_order
                    .push_back((order.updated_at, id.clone()));
            } else {
                self.live
                    .entry(order.symbol.clone())
                    .or_default()
                    .insert(id.clone());
            }
            self.orders.insert(id, order);
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
}

impl Actor for OrderRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.myself = Some(ctx.address());
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
        self.resume_exits(ctx);
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
            VenueUpdate::OrderList(list) => self.apply_list(&list),
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
        // Counted toward the message throttle the moment it is sent.
        self.risk.do_send(MessageSent);
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

impl Handler<ResolveNotAtVenue> for OrderRouter {
    type Result = ();

    fn handle(&mut self, msg: ResolveNotAtVenue, _: &mut Context<Self>) {
        let Some(order) = self.orders.get(&msg.0) else {
            return;
        };
        if order.status != OrderStatus::Unknown {
            return;
        }
        let report = OrderReport {
            client_order_id: order.client_order_id.clone(),
            exchange_order_id: order.exchange_order_id.unwrap_or(0),
            symbol: order.symbol.clone(),
            status: OrderStatus::Rejected,
            executed_qty: order.filled_quantity,
            cumulative_quote: order.cumulative_quote,
            fills: Vec::new(),
            ts: self.clock.now(),
            terms: None,
        };
        if let Some(order) = self.orders.get_mut(&msg.0) {
            order.reason = Some("the venue has no such order: it was never placed".into());
        }
        tracing::warn!(id = %msg.0, "UNKNOWN order not at the venue; resolved as never placed");
        self.apply_report(&report);
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
