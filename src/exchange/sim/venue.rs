//! The simulated venue's state and every transition of it: submits, cancels, queries, and price
//! updates that fill resting orders and trigger conditional ones. Plain data behind the one lock
//! `SimExchange` holds; events go out through an `EventSink` while that lock is held, so every
//! subscriber sees changes in the order they happened.
//!
//! The transitions are split by concern: `admission` validates a new order, `taker` works a live
//! order against the book, `resting` fills crossed resting orders as maker, `conditional` fires
//! triggers on price updates, `oco` places and resolves order lists, `moves` applies price
//! updates. This file holds the state and the entry points.
//!
//! Every order change goes out twice when someone listens: as `ExchangeEvent::Order` to the
//! `Exchange` port's subscribers (`active`), and in full as `SimUpdate::Order` through
//! `push_order` to the simulator server (`detailed`); list changes as `ExchangeEvent::OrderList`
//! and `SimUpdate::List`. `announce` does both for one order.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::account::{Account, AccountError};
use super::admission::Admission;
use super::book::{Book, Take};
use super::feed::PriceWalk;
use super::oco::ListRecord;
use super::order::{OrderRecord, bad_symbol, overflow, rejected};
use super::trigger::Trigger;
use super::views::{OrderChange, OrderRef, OrderView, SimUpdate, push_order};
use super::{SimSettings, settings_ok};
use crate::domain::{
    ClientOrderId, Fill, OrderReport, OrderRequest, OrderStatus, Price, Qty, Symbol,
};
use crate::exchange::filters::SymbolRules;
use crate::exchange::{
    Balance, CODE_CANCEL_REJECTED, CODE_NEW_ORDER_REJECTED, CODE_NO_SUCH_ORDER, ExchangeError,
    ExchangeEvent,
};

/// Where pushed events go. `active` lets the venue skip cloning reports nobody will read;
/// `detailed` does the same for the full updates (`SimUpdate`) the simulator server renders.
pub trait EventSink {
    fn active(&self) -> bool;
    fn publish(&mut self, event: ExchangeEvent);
    fn detailed(&self) -> bool {
        false
    }
    fn update(&mut self, _update: SimUpdate) {}
}

/// One symbol: its rules, its matching engine, its price walk, and its client-id indexes.
pub(super) struct Market {
    /// Filters and assets, for validation and for knowing which balances an order moves.
    pub(super) rules: SymbolRules,
    /// Synthetic levels and resting orders.
    pub(super) book: Book,
    /// The random walk `step_feed` advances.
    pub(super) walk: PriceWalk,
    /// Latest order per client order id on this symbol: query/cancel look-ups and the
    /// duplicate check (only the latest can be open, since a reuse needs the previous closed).
    pub(super) by_client: HashMap<ClientOrderId, u64>,
    /// Conditional orders not yet triggered, by exchange order id (so they fire in the order
    /// they were placed), with their trigger state. They are not on the book.
    pub(super) pending: BTreeMap<u64, Trigger>,
    /// Latest order list per list client order id on this symbol.
    pub(super) lists_by_client: HashMap<ClientOrderId, u64>,
}

/// The whole simulated venue.
pub struct Venue {
    /// Markets by symbol (ordered, so `step_feed` walks them in a fixed order).
    pub(super) markets: BTreeMap<Symbol, Market>,
    /// The account's balances.
    pub(super) account: Account,
    /// Open orders and the most recent terminal ones, by exchange order id.
    pub(super) orders: HashMap<u64, OrderRecord>,
    /// Order lists by list id; a list goes when its legs are evicted.
    pub(super) lists: HashMap<u64, ListRecord>,
    /// Terminal order ids, oldest first: evicted past `retained_orders`.
    pub(super) terminal: VecDeque<u64>,
    /// How many terminal orders stay queryable.
    pub(super) retained_orders: usize,
    /// Fee rate for fills that take liquidity.
    pub(super) taker_fee_rate: Decimal,
    /// Fee rate for resting orders filled by a price move.
    pub(super) maker_fee_rate: Decimal,
    /// Largest relative move of one feed step.
    pub(super) volatility: Decimal,
    /// Next exchange order id.
    pub(super) next_order_id: u64,
    /// Next order list id.
    pub(super) next_list_id: u64,
    /// Next trade id (one counter for all symbols, so ids are unique per symbol too).
    pub(super) next_trade_id: u64,
    /// Orders ever accepted.
    pub(super) accepted: u64,
    /// Scratch buffer for a sweep's per-level takes, reused so a submit does not allocate it.
    pub(super) takes: Vec<Take>,
}

impl Venue {
    pub fn new(settings: SimSettings) -> Result<Self, String> {
        let SimSettings {
            seed,
            taker_fee_rate,
            maker_fee_rate,
            volatility,
            book_levels,
            retained_orders,
            balances,
            markets: sim_markets,
        } = settings;
        settings_ok(taker_fee_rate, maker_fee_rate, volatility, book_levels)?;
        let levels = usize::try_from(book_levels).map_err(|e| e.to_string())?;
        let mut markets = BTreeMap::new();
        for m in sim_markets {
            let symbol = m.rules.symbol.clone();
            if markets.contains_key(&symbol) {
                return Err(format!("{symbol}: duplicate market"));
            }
            m.validate()?;
            let book = Book::new(
                m.rules.price,
                m.start_price,
                m.level_qty,
                m.level_spacing,
                levels,
            )
            .ok_or_else(|| format!("{symbol}: level prices overflow"))?;
            let market = Market {
                walk: PriceWalk::new(seed, &symbol),
                rules: m.rules,
                book,
                by_client: HashMap::new(),
                pending: BTreeMap::new(),
                lists_by_client: HashMap::new(),
            };
            markets.insert(symbol, market);
        }
        Ok(Self {
            markets,
            account: Account::new(&balances)?,
            orders: HashMap::new(),
            lists: HashMap::new(),
            terminal: VecDeque::new(),
            retained_orders,
            taker_fee_rate,
            maker_fee_rate,
            volatility,
            next_order_id: 1,
            next_list_id: 1,
            next_trade_id: 1,
            accepted: 0,
            takes: Vec::with_capacity(levels),
        })
    }

    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Every symbol's last price, in symbol order.
    pub fn prices(&self) -> Vec<(Symbol, Price)> {
        self.markets
            .iter()
            .map(|(s, m)| (s.clone(), m.book.price()))
            .collect()
    }

    pub fn price(&self, symbol: &Symbol) -> Option<Price> {
        self.markets.get(symbol).map(|m| m.book.price())
    }

    /// Validates and executes a new order. A rejection changes nothing.
    pub fn submit(
        &mut self,
        order: OrderRequest,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderReport, ExchangeError> {
        self.submit_full(order, now, sink, false)
            .map(|(report, _)| report)
    }

    /// The checks on an order alone, before duplicates, triggers, balances and ids: symbol,
    /// trading status, parameters per type, positive quantity and price, filters against the
    /// last price (a quote-sized market order sized first). Answers the limit price (`None`
    /// for types without one). Binance's `order/test`.
    pub fn validate(&mut self, order: &OrderRequest) -> Result<Option<Price>, ExchangeError> {
        self.check_alone(order.clone()).map(|o| o.price)
    }

    /// `submit`, also answering with the order's full view when `want_view`.
    pub fn submit_full(
        &mut self,
        order: OrderRequest,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
        want_view: bool,
    ) -> Result<(OrderReport, Option<OrderView>), ExchangeError> {
        let admission = self.admit(order)?;
        reserve(&mut self.account, &admission.lock_asset, admission.need)?;
        let id = self.open_record(admission, None, now);
        let outcome = self.start(id, now);
        let rec = self.orders.get(&id).ok_or_else(overflow)?;
        let report = rec.report(rec.fills.clone());
        let view = want_view.then(|| rec.view());
        self.announce(id, OrderChange::Submitted, &report.fills, sink);
        if report.status.is_terminal() {
            self.retire(id);
        }
        outcome.map(|()| (report, view))
    }

    /// Records an admitted order (its balance already reserved) as NEW and returns its id.
    /// Its trigger, if any, is kept aside for `start`.
    pub(super) fn open_record(
        &mut self,
        admission: Admission,
        list_id: Option<u64>,
        now: DateTime<Utc>,
    ) -> u64 {
        let Admission {
            order,
            lock_asset,
            need,
            trigger,
        } = admission;
        let id = self.next_order_id;
        self.next_order_id += 1;
        self.accepted += 1;
        let working = trigger.is_none().then_some(now);
        if let Some(market) = self.markets.get_mut(&order.symbol) {
            market.by_client.insert(order.client_order_id.clone(), id);
            if let Some(trigger) = trigger {
                market.pending.insert(id, trigger);
            }
        }
        let rec = OrderRecord {
            lock_asset,
            exchange_order_id: id,
            status: OrderStatus::New,
            executed_qty: Qty::ZERO,
            cumulative_quote: Decimal::ZERO,
            fills: Vec::new(),
            locked: need,
            updated: now,
            created: now,
            working,
            list_id,
            request: order,
        };
        self.orders.insert(id, rec);
        id
    }

    /// Starts a just-recorded order: a conditional one waits for its trigger, any other works
    /// against the book now.
    pub(super) fn start(&mut self, id: u64, now: DateTime<Utc>) -> Result<(), ExchangeError> {
        let Some(rec) = self.orders.get(&id) else {
            return Ok(());
        };
        let waiting = self
            .markets
            .get(&rec.request.symbol)
            .is_some_and(|m| m.pending.contains_key(&id));
        if waiting {
            return Ok(());
        }
        self.work(id, now)
    }

    /// Publishes order `id` as it is now, with `fills` (those of this change): its report to
    /// the `Exchange` subscribers, its detailed update to the simulator server.
    pub(super) fn announce(
        &self,
        id: u64,
        change: OrderChange,
        fills: &[Fill],
        sink: &mut impl EventSink,
    ) {
        let Some(rec) = self.orders.get(&id) else {
            return;
        };
        if sink.active() {
            sink.publish(ExchangeEvent::Order(rec.report(fills.to_vec())));
        }
        if let Some(market) = self.markets.get(&rec.request.symbol) {
            push_order(sink, rec, change, fills, &self.account, &market.rules);
        }
    }

    /// Cancels an open order, releasing what it reserved.
    pub fn cancel(
        &mut self,
        symbol: &Symbol,
        id: &ClientOrderId,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderReport, ExchangeError> {
        let order = OrderRef::Client(id.clone());
        self.cancel_full(symbol, &order, None, now, sink)
            .map(|(report, _)| report)
    }

    /// Cancels an open order found by either id; `cancel_id` is the id of the cancel request
    /// itself (Binance's `newClientOrderId` on a cancel), carried to the detailed update.
    /// Canceling one leg of an executing order list cancels the whole list, as on Binance; a
    /// leg still working after its list ended (a partly filled stop-limit) is canceled alone.
    pub fn cancel_full(
        &mut self,
        symbol: &Symbol,
        order: &OrderRef,
        cancel_id: Option<&ClientOrderId>,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(OrderReport, OrderView), ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        let unknown = || rejected(CODE_CANCEL_REJECTED, "Unknown order sent.");
        let order_id = match order {
            OrderRef::Client(id) => *market.by_client.get(id).ok_or_else(unknown)?,
            OrderRef::Id(id) => *id,
        };
        let rec = self
            .orders
            .get(&order_id)
            .filter(|r| r.status.is_open() && &r.request.symbol == symbol)
            .ok_or_else(unknown)?;
        let executing = rec
            .list_id
            .filter(|l| self.lists.get(l).is_some_and(|l| !l.done));
        let closed = match executing {
            Some(list_id) => self
                .cancel_list_by_id(list_id, cancel_id, now, sink)
                .map(|_| ()),
            None => {
                let (_, closed) = self.close_open(order_id, OrderStatus::Canceled, now)?;
                let change = OrderChange::Canceled {
                    cancel_id: cancel_id.cloned(),
                };
                self.announce(order_id, change, &[], sink);
                self.retire(order_id);
                closed
            }
        };
        let rec = self.orders.get(&order_id).ok_or_else(unknown)?;
        let answer = (rec.report(Vec::new()), rec.view());
        closed.map(|()| answer)
    }

    /// Takes an open order off the book (or out of the pending triggers) and ends it in
    /// `status`, releasing its reservation. Returns its report (no fills) and whether the
    /// release worked; the caller publishes and retires.
    pub(super) fn close_open(
        &mut self,
        order_id: u64,
        status: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<(OrderReport, Result<(), ExchangeError>), ExchangeError> {
        let rec = self.orders.get_mut(&order_id).ok_or_else(overflow)?;
        if let Some(market) = self.markets.get_mut(&rec.request.symbol) {
            market.pending.remove(&order_id);
            if let Some(l) = rec.request.price {
                market.book.unrest(rec.request.side, l, order_id);
            }
        }
        rec.updated = now;
        let closed = rec.close(&mut self.account, status);
        Ok((rec.report(Vec::new()), closed))
    }

    /// The order's latest state with all of its fills.
    pub fn query(&self, symbol: &Symbol, id: &ClientOrderId) -> Result<OrderReport, ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        market
            .by_client
            .get(id)
            .and_then(|order_id| self.orders.get(order_id))
            .map(|rec| rec.report(rec.fills.clone()))
            .ok_or_else(|| rejected(CODE_NO_SUCH_ORDER, "Order does not exist."))
    }

    /// Every open order (with all its fills), oldest first. Conditional orders waiting for
    /// their trigger are open (NEW), as on Binance.
    pub fn open_orders(&self) -> Vec<OrderReport> {
        let mut open: Vec<&OrderRecord> = self
            .orders
            .values()
            .filter(|r| r.status.is_open())
            .collect();
        open.sort_unstable_by_key(|r| r.exchange_order_id);
        open.into_iter()
            .map(|r| r.report(r.fills.clone()))
            .collect()
    }

    /// The price at which a waiting conditional order would trigger now (for a trailing stop,
    /// where it has trailed to); `None` for orders not waiting on a trigger.
    pub fn trigger_price(&self, symbol: &Symbol, id: &ClientOrderId) -> Option<Price> {
        let market = self.markets.get(symbol)?;
        let order_id = market.by_client.get(id)?;
        market.pending.get(order_id)?.current_stop()
    }

    pub fn balances(&self) -> Vec<Balance> {
        self.account.balances()
    }

    /// Records that an order reached a terminal state; evicts the oldest terminal orders past
    /// `retained_orders` (and an order list with its first evicted leg).
    pub(super) fn retire(&mut self, id: u64) {
        self.terminal.push_back(id);
        while self.terminal.len() > self.retained_orders {
            let Some(old) = self.terminal.pop_front() else {
                break;
            };
            let Some(rec) = self.orders.remove(&old) else {
                continue;
            };
            let Some(m) = self.markets.get_mut(&rec.request.symbol) else {
                continue;
            };
            let cid = &rec.request.client_order_id;
            if m.by_client.get(cid) == Some(&old) {
                m.by_client.remove(cid);
            }
            if let Some(list) = rec.list_id.and_then(|l| self.lists.remove(&l)) {
                let lcid = &list.list_client_order_id;
                if m.lists_by_client.get(lcid) == rec.list_id.as_ref() {
                    m.lists_by_client.remove(lcid);
                }
            }
        }
    }
}

/// Moves `need` of `asset` from free to locked, as Binance's balance refusal when it cannot.
pub(super) fn reserve(
    account: &mut Account,
    asset: &Arc<str>,
    need: Decimal,
) -> Result<(), ExchangeError> {
    account.reserve(asset, need).map_err(|e| match e {
        AccountError::Insufficient => rejected(
            CODE_NEW_ORDER_REJECTED,
            "Account has insufficient balance for requested action.",
        ),
        AccountError::Overflow => overflow(),
    })
}
