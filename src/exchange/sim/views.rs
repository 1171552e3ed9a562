//! The venue seen in full, as the simulator server (`exchange::sim_server`) renders it in
//! Binance's shapes: `OrderView` (every field of an order, not just the engine's
//! `OrderReport`), the detailed update stream (`SimUpdate`: what changed, the fills of that
//! change, the balances after it, and price moves with the top of the book), and the
//! look-ups by exchange order id that Binance offers besides the client order id.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio::sync::mpsc;

use super::account::Account;
use super::order::{OrderRecord, bad_symbol, rejected};
use super::venue::{EventSink, Venue};
use super::{Shared, SimExchange};
use crate::domain::{
    ClientOrderId, Fill, OrderListReport, OrderReport, OrderRequest, OrderStatus, OrderType, Price,
    Qty, Side, Symbol, TimeInForce,
};
use crate::exchange::filters::SymbolRules;
use crate::exchange::{Balance, CODE_CANCEL_REJECTED, CODE_NO_SUCH_ORDER, ExchangeError};

/// Everything the venue knows about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub symbol: Symbol,
    /// The venue's id (Binance's `orderId`).
    pub order_id: u64,
    pub client_order_id: ClientOrderId,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    /// Limit price; `None` for types without one (Binance renders "0.00000000").
    pub price: Option<Price>,
    /// Trigger price of a conditional order (`stopPrice`).
    pub stop_price: Option<Price>,
    /// Trailing delta in basis points (`trailingDelta`).
    pub trailing_delta: Option<u32>,
    /// The quote amount a market order was sized by (`origQuoteOrderQty`).
    pub quote_quantity: Option<Decimal>,
    /// The order list this order is a leg of (`orderListId`; Binance renders -1 for none).
    pub order_list_id: Option<u64>,
    pub orig_qty: Qty,
    pub executed_qty: Qty,
    /// Σ price × qty over the fills (`cummulativeQuoteQty`).
    pub cumulative_quote: Decimal,
    pub status: OrderStatus,
    /// When the venue accepted it (`time`, `workingTime`, executionReport `O`).
    pub time: DateTime<Utc>,
    /// Its latest change (`updateTime`).
    pub update_time: DateTime<Utc>,
    /// When it started working (`workingTime`, executionReport `W`): on acceptance, or for a
    /// conditional order when it triggered; `None` while it waits (Binance renders -1).
    pub working_time: Option<DateTime<Utc>>,
    /// Every fill so far, oldest first.
    pub fills: Vec<Fill>,
}

/// An order named the way a Binance request names it: `orderId` or `origClientOrderId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    Id(u64),
    Client(ClientOrderId),
}

/// What happened to the order in one `OrderUpdate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderChange {
    /// Accepted now; `OrderUpdate::fills` are the fills it took on arrival (as taker), and the
    /// status is where it ended (resting, filled, or expired).
    Submitted,
    /// A resting order traded because the price moved (as maker).
    Traded,
    /// A conditional order's trigger fired: it started working (as taker); `fills` are those
    /// it took then, the status is where it ended.
    Triggered,
    /// Ended by the venue, not by a request: the other leg of its OCO started working.
    Expired,
    /// Canceled by a request whose own client id (if it sent one) is `cancel_id`.
    Canceled { cancel_id: Option<ClientOrderId> },
}

/// One change to one order, in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The order after the change.
    pub order: OrderView,
    pub change: OrderChange,
    /// The fills of this change only.
    pub fills: Vec<Fill>,
    /// The order's base and quote balances after the change (Binance's
    /// `outboundAccountPosition` carries the assets that changed).
    pub balances: Vec<Balance>,
}

/// What the detailed stream (`SimExchange::subscribe_updates`) carries, in the order it
/// happened (a price move comes before the fills it causes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimUpdate {
    Order(OrderUpdate),
    /// An order list was placed or ended (Binance's `listStatus`).
    List(OrderListReport),
    Price {
        symbol: Symbol,
        price: Price,
        ts: DateTime<Utc>,
        /// The best bid level and its quantity after the move.
        best_bid: Option<(Price, Qty)>,
        /// The best ask level and its quantity after the move.
        best_ask: Option<(Price, Qty)>,
    },
}

/// Pushes the detailed update of one order change, if anyone listens for those.
pub(super) fn push_order(
    sink: &mut impl EventSink,
    rec: &OrderRecord,
    change: OrderChange,
    fills: &[Fill],
    account: &Account,
    rules: &SymbolRules,
) {
    if !sink.detailed() {
        return;
    }
    sink.update(SimUpdate::Order(OrderUpdate {
        order: rec.view(),
        change,
        fills: fills.to_vec(),
        balances: account.balances_of(&[&rules.base_asset, &rules.quote_asset]),
    }));
}

fn no_such_order() -> ExchangeError {
    rejected(CODE_NO_SUCH_ORDER, "Order does not exist.")
}

impl Venue {
    fn order_id(&self, symbol: &Symbol, order: &OrderRef) -> Result<u64, ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        let id = match order {
            OrderRef::Id(id) => Some(*id),
            OrderRef::Client(c) => market.by_client.get(c).copied(),
        };
        id.filter(|id| {
            self.orders
                .get(id)
                .is_some_and(|r| &r.request.symbol == symbol)
        })
        .ok_or_else(no_such_order)
    }

    /// One order (open or retained terminal), by either id.
    pub fn view(&self, symbol: &Symbol, order: &OrderRef) -> Result<OrderView, ExchangeError> {
        let id = self.order_id(symbol, order)?;
        self.orders
            .get(&id)
            .map(|r| r.view())
            .ok_or_else(no_such_order)
    }

    /// Open orders, of one symbol or all, oldest first.
    pub fn open_views(&self, symbol: Option<&Symbol>) -> Result<Vec<OrderView>, ExchangeError> {
        self.views(symbol, true)
    }

    /// Every order the venue still holds for `symbol` (open and retained terminal), oldest first.
    pub fn all_views(&self, symbol: &Symbol) -> Result<Vec<OrderView>, ExchangeError> {
        self.views(Some(symbol), false)
    }

    fn views(
        &self,
        symbol: Option<&Symbol>,
        open_only: bool,
    ) -> Result<Vec<OrderView>, ExchangeError> {
        if let Some(s) = symbol {
            self.markets.get(s).ok_or_else(bad_symbol)?;
        }
        let mut views: Vec<OrderView> = self
            .orders
            .values()
            .filter(|r| symbol.is_none_or(|s| &r.request.symbol == s))
            .filter(|r| !open_only || r.status.is_open())
            .map(|r| r.view())
            .collect();
        views.sort_unstable_by_key(|v| v.order_id);
        Ok(views)
    }

    /// Cancels every open order on `symbol`, oldest first, pushing each cancel like any other.
    /// Binance answers -2011 "Unknown order sent." when there is none.
    pub fn cancel_all(
        &mut self,
        symbol: &Symbol,
        cancel_id: Option<&ClientOrderId>,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<Vec<(OrderReport, OrderView)>, ExchangeError> {
        let open: Vec<u64> = self
            .open_views(Some(symbol))?
            .iter()
            .map(|v| v.order_id)
            .collect();
        if open.is_empty() {
            return Err(rejected(CODE_CANCEL_REJECTED, "Unknown order sent."));
        }
        for &id in &open {
            // Canceling one leg of an order list canceled its other leg too.
            if self.orders.get(&id).is_some_and(|r| r.status.is_open()) {
                self.cancel_full(symbol, &OrderRef::Id(id), cancel_id, now, sink)?;
            }
        }
        Ok(open
            .iter()
            .filter_map(|id| self.orders.get(id))
            .map(|r| (r.report(Vec::new()), r.view()))
            .collect())
    }

    /// Commission rates: (maker, taker).
    pub fn fee_rates(&self) -> (Decimal, Decimal) {
        (self.maker_fee_rate, self.taker_fee_rate)
    }
}

/// The venue's second front door: what the simulator server calls. Same lock, same matching,
/// same events as the `Exchange` port; these answer with full views. The in-process fault
/// injections (`SimFault`) apply to the `Exchange` port only; the server has its own.
impl SimExchange {
    /// A stream of every change in full. Unlike `subscribe`, `drop_subscribers` leaves these
    /// streams open (they feed the server, whose own admin API drops its connections).
    pub fn subscribe_updates(&self) -> mpsc::UnboundedReceiver<SimUpdate> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().subscribers.detailed.push(tx);
        rx
    }

    /// Validates and executes a new order, answering with its full view.
    pub fn submit_order(&self, order: OrderRequest) -> Result<OrderView, ExchangeError> {
        let now = Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let (report, view) = venue.submit_full(order, now, subscribers, true)?;
        // `submit_full` always returns the view when asked; the fallback keeps this total.
        view.ok_or_else(|| ExchangeError::UnknownOutcome(format!("sim: no view of {report:?}")))
    }

    /// Cancels an open order; `cancel_id` is the cancel request's own client id.
    pub fn cancel_order(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
        cancel_id: Option<&ClientOrderId>,
    ) -> Result<OrderView, ExchangeError> {
        let now = Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        venue
            .cancel_full(symbol, order, cancel_id, now, subscribers)
            .map(|(_, view)| view)
    }

    /// Cancels every open order on `symbol`; `cancel_id` is the request's own client id.
    pub fn cancel_all_orders(
        &self,
        symbol: &Symbol,
        cancel_id: Option<&str>,
    ) -> Result<Vec<OrderView>, ExchangeError> {
        let cancel_id = cancel_id.and_then(|c| ClientOrderId::new(c).ok());
        let now = Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let cancelled = venue.cancel_all(symbol, cancel_id.as_ref(), now, subscribers)?;
        Ok(cancelled.into_iter().map(|(_, view)| view).collect())
    }

    /// Runs the checks a new order must pass on its own (symbol, trading, prices,
    /// quantities, filters), executing nothing: Binance's `order/test`.
    pub fn check_order(&self, order: &OrderRequest) -> Result<(), ExchangeError> {
        self.lock().venue.validate(order).map(|_| ())
    }

    pub fn order_view(
        &self,
        symbol: &Symbol,
        order: &OrderRef,
    ) -> Result<OrderView, ExchangeError> {
        self.lock().venue.view(symbol, order)
    }

    pub fn open_order_views(
        &self,
        symbol: Option<&Symbol>,
    ) -> Result<Vec<OrderView>, ExchangeError> {
        self.lock().venue.open_views(symbol)
    }

    pub fn all_order_views(&self, symbol: &Symbol) -> Result<Vec<OrderView>, ExchangeError> {
        self.lock().venue.all_views(symbol)
    }

    /// Every symbol's last price, in symbol order.
    pub fn last_prices(&self) -> Vec<(Symbol, Price)> {
        self.lock().venue.prices()
    }

    /// Every balance that is not all zero, sorted by asset.
    pub fn account_balances(&self) -> Vec<Balance> {
        self.lock().venue.balances()
    }

    /// Commission rates: (maker, taker).
    pub fn fee_rates(&self) -> (Decimal, Decimal) {
        self.lock().venue.fee_rates()
    }

    /// The best bid and ask levels of `symbol` with what is left on them.
    pub fn top_of_book(&self, symbol: &Symbol) -> Option<BookTop> {
        self.lock().venue.top_of_book(symbol)
    }
}

/// The best bid and ask levels of one symbol and their remaining quantities.
pub type BookTop = (Option<(Price, Qty)>, Option<(Price, Qty)>);

impl Venue {
    pub fn top_of_book(&self, symbol: &Symbol) -> Option<BookTop> {
        self.markets
            .get(symbol)
            .map(|m| (m.book.best(Side::Sell), m.book.best(Side::Buy)))
    }
}
