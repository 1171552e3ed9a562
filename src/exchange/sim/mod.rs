//! The built-in simulated exchange (paper-trading venue): `SimExchange`, its `Exchange` impl,
//! fault injection and event subscribers. It answers like Binance spot (same error codes and
//! messages, same order statuses, same commission rules) so the engine runs unchanged against it.
//!
//! Layout: `book` matches one symbol (synthetic levels + resting orders), `account` holds
//! free/locked balances, `feed` is the seeded random walk, `order` applies fills to one order,
//! `trigger` decides when a stop or trailing stop fires, and `venue` ties them into the state
//! behind one `std::sync::Mutex`, with its transitions split into `admission` (checks before an
//! order exists), `taker` (working an order against the book), `resting` (maker fills of
//! crossed resting orders), `conditional` (firing triggers on a price update), `oco` (order
//! lists) and `moves` (price updates). `views` is the second front door, the one the simulator
//! server (`exchange::sim_server`) uses: full order views, look-ups by order id, cancel-all,
//! and a detailed update stream (`SimUpdate`) rich enough to render Binance's executionReport
//! and listStatus; `list_views` adds order lists to it.
//! Every call is synchronous under the lock and returns a ready future; nothing does I/O.
//!
//! # Matching
//! - The book around the last price `P` has `book_levels` levels per side: ask `i` at
//!   `P × (1 + level_spacing × i)` rounded up to the tick, bid `i` at `P × (1 − level_spacing × i)`
//!   rounded down. Level 0 is `P` on both sides. Each level holds `level_qty`; liquidity taken
//!   stays taken until the next `set_price`/`step_feed` for the symbol, which rebuilds the levels.
//! - MARKET walks levels from the best, one `Fill` (own trade id) per level touched. If the
//!   levels run out it ends `EXPIRED` with what it got (possibly nothing).
//! - LIMIT buy at `L` takes ask levels `≤ L` (sell: bid levels `≥ L`) as taker. The rest:
//!   GTC rests (`NEW` or `PARTIALLY_FILLED`), IOC ends `EXPIRED`, FOK ends `EXPIRED` with no fills
//!   and no liquidity taken unless the whole quantity can fill now.
//! - LIMIT_MAKER rests like a GTC limit, and is refused (-2010 "Order would immediately match
//!   and take.") if any of it would take a level on arrival.
//! - MARKET by quote amount (`quote_quantity`, Binance's `quoteOrderQty`) walks the levels for
//!   the base quantity that amount buys (or must sell), rounds it down to the MARKET_LOT_SIZE
//!   step, then executes as a market order for that quantity.
//! - Resting orders never trade with the synthetic levels or with the account's own orders.
//!   Each price update to `P'` fills every resting buy with `L ≥ P'` and every resting sell
//!   with `L ≤ P'` completely, at `L`, as maker: one report and one fill per order.
//! - STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT) wait off the book (NEW) until a price update meets
//!   their trigger (see `trigger`: "last ≥ stop" for a stop-loss buy or take-profit sell,
//!   "last ≤ stop" for the others; a trailing delta in BIPS follows the best price and never
//!   moves back). Then a `*_LIMIT` works as a limit order at its price and the others as market
//!   orders, as takers at the new price. Resting fills are applied first, then triggers.
//! - OCO lists (see `oco`): when one leg triggers or starts filling, the other is EXPIRED and
//!   the list pushed `ALL_DONE`.
//!
//! # Validation (Binance's order, codes and messages; a rejection changes nothing)
//! Unknown symbol (-1121 "Invalid symbol."); symbol not TRADING (-2010 "Market is closed.");
//! parameters per type (-1102 / -1106 / -1128, see `filters::check_params`); quantity or limit
//! price not positive (-1013 "Invalid quantity." / "Invalid price."); filters against the last
//! price, stop price on PRICE_FILTER, TRAILING_DELTA (-1013 "Filter failure: NAME"); client
//! order id equal to an open order's on the symbol (-2010 "Duplicate order sent."); a stop
//! that would fire at once (-2010 "Order would trigger immediately."); a limit maker that would
//! take; balance (-2010 "Account has insufficient balance for requested action.").
//!
//! # Balances
//! A limit buy (any type with a limit price) reserves `qty × L` quote, a sell `qty` base, a
//! market buy exactly the cost of the fills it will get (so it is refused whole if free quote
//! cannot pay). A stop-market buy reserves nothing until it triggers, then the cost of its
//! fills; if free quote cannot pay then, it ends EXPIRED unfilled. An OCO reserves once for
//! both legs (a sell its base quantity, a buy `qty ×` its higher limit price) and the
//! reservation follows the leg that works. Fills pay from the
//! reservation (a buy filled below `L` gets the difference back), cancel and expiry release the
//! rest. Buys pay commission in base (`qty × rate`), sells in quote (`qty × price × rate`),
//! rounded to 8 places half away from zero; taker rate for fills during submit, maker rate for
//! resting orders filled by a price move.
//!
//! # Events and queries
//! Every order change (including the submit's own result) goes to every subscriber as
//! `ExchangeEvent::Order`, carrying the fills of that change; every price update (even to the
//! same price) as `ExchangeEvent::Price`, pushed before the fills it causes. `query` returns the
//! latest report with all fills. Terminal orders stay queryable, oldest evicted first, up to
//! `retained_orders`; open orders are always kept.

mod account;
mod admission;
mod book;
mod conditional;
mod faults;
mod feed;
mod list_views;
mod moves;
mod oco;
mod order;
mod resting;
mod subscribers;
mod taker;
mod trigger;
mod venue;
mod views;

pub use faults::SimFault;
pub use list_views::{ListRef, ListView};
pub use views::{BookTop, OrderChange, OrderRef, OrderUpdate, OrderView, SimUpdate};

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::future::ready;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;

use crate::domain::{
    ClientOrderId, OcoRequest, OrderListReport, OrderReport, OrderRequest, Price, Qty, Symbol,
};
use crate::exchange::filters::SymbolRules;
use crate::exchange::{Balance, BoxFuture, Exchange, ExchangeError, ExchangeEvent};
use faults::Faults;
use subscribers::Subscribers;
use venue::Venue;

/// Everything the simulator needs to start.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Seed of every symbol's random walk: the same seed gives the same price paths.
    pub seed: u64,
    /// Commission rate on fills that take liquidity (e.g. 0.001).
    pub taker_fee_rate: Decimal,
    /// Commission rate on resting orders filled by a price move (e.g. 0.001).
    pub maker_fee_rate: Decimal,
    /// Largest relative move of one feed step (e.g. 0.0005).
    pub volatility: Decimal,
    /// Synthetic levels per side (e.g. 5).
    pub book_levels: u32,
    /// Terminal orders kept for queries, oldest evicted first (e.g. 100_000).
    pub retained_orders: usize,
    /// Starting free balances by asset.
    pub balances: BTreeMap<String, Decimal>,
    /// The symbols traded, each once.
    pub markets: Vec<SimMarket>,
}

/// One simulated symbol.
#[derive(Debug, Clone)]
pub struct SimMarket {
    /// The symbol's filters and assets (from `exchange_info.json`).
    pub rules: SymbolRules,
    /// The first last-price; must pass PRICE_FILTER.
    pub start_price: Price,
    /// Liquidity at each synthetic level.
    pub level_qty: Qty,
    /// Relative distance between levels (e.g. 0.0001).
    pub level_spacing: Decimal,
}

/// Checks the venue-wide settings: rates in [0, 1), at least one level.
fn settings_ok(
    taker_fee_rate: Decimal,
    maker_fee_rate: Decimal,
    volatility: Decimal,
    book_levels: u32,
) -> Result<(), String> {
    for (name, v) in [
        ("taker_fee_rate", taker_fee_rate),
        ("maker_fee_rate", maker_fee_rate),
        ("volatility", volatility),
    ] {
        if v < Decimal::ZERO || v >= Decimal::ONE {
            return Err(format!("{name} must be in [0, 1), got {v}"));
        }
    }
    if book_levels == 0 {
        return Err("book_levels must be at least 1".into());
    }
    Ok(())
}

impl SimMarket {
    /// Checks one market: distinct assets, a positive start price on PRICE_FILTER, positive
    /// level quantity, non-negative spacing.
    fn validate(&self) -> Result<(), String> {
        let symbol = &self.rules.symbol;
        if self.rules.base_asset == self.rules.quote_asset {
            return Err(format!("{symbol}: base and quote asset are the same"));
        }
        if !self.start_price.is_positive() {
            return Err(format!("{symbol}: start_price must be positive"));
        }
        self.rules
            .check_price(self.start_price)
            .map_err(|v| format!("{symbol}: start_price: {v}"))?;
        if !self.level_qty.is_positive() {
            return Err(format!("{symbol}: level_qty must be positive"));
        }
        if self.level_spacing < Decimal::ZERO {
            return Err(format!("{symbol}: level_spacing must not be negative"));
        }
        Ok(())
    }
}

/// What the lock guards.
struct Shared {
    /// Markets, orders, balances.
    venue: Venue,
    /// Event streams.
    subscribers: Subscribers,
    /// Pending injected faults.
    faults: Faults,
}

/// The simulated exchange. Cheap to clone; clones share one venue.
#[derive(Clone)]
pub struct SimExchange {
    /// The venue state. `std::sync::Mutex`: every critical section is short and never awaits.
    inner: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for SimExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimExchange").finish_non_exhaustive()
    }
}

impl SimExchange {
    /// A venue with `settings`. Errors name the bad setting (duplicate market, non-positive
    /// price or level quantity, price off PRICE_FILTER, fee or volatility outside [0, 1), ...).
    pub fn new(settings: SimSettings) -> Result<Self, String> {
        let shared = Shared {
            venue: Venue::new(settings)?,
            subscribers: Subscribers::default(),
            faults: Faults::default(),
        };
        Ok(Self {
            inner: Arc::new(Mutex::new(shared)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Nothing panics while holding the lock, but a poisoned one still holds valid state.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets a symbol's last price (must pass PRICE_FILTER), refilling its levels and filling
    /// resting orders it crosses.
    pub fn set_price(&self, symbol: &Symbol, price: Price) -> Result<(), ExchangeError> {
        let now = chrono::Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        venue.set_price(symbol, price, now, subscribers)
    }

    pub fn price(&self, symbol: &Symbol) -> Option<Price> {
        self.lock().venue.price(symbol)
    }

    /// One random-walk step for every symbol.
    pub fn step_feed(&self) {
        let now = chrono::Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        venue.step_feed(now, subscribers);
    }

    /// Runs `step_feed` every `every` (at least 1 ms) on the tokio runtime; call it from within
    /// one (as `tokio::spawn` requires). The task ends by itself once every `SimExchange` handle
    /// is dropped, or when the handle is aborted.
    pub fn spawn_feed(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let every = every.max(Duration::from_millis(1));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate; the first step comes after `every`
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                SimExchange { inner }.step_feed();
            }
        })
    }

    pub fn inject(&self, fault: SimFault) {
        let mut guard = self.lock();
        let Shared {
            subscribers,
            faults,
            ..
        } = &mut *guard;
        match fault {
            SimFault::FailSubmits(n) => faults.fail_submits = faults.fail_submits.saturating_add(n),
            SimFault::UnknownAfterAccept(n) => {
                faults.unknown_after_accept = faults.unknown_after_accept.saturating_add(n)
            }
            SimFault::DropOrderEvents(n) => {
                subscribers.drop_order_events = subscribers.drop_order_events.saturating_add(n)
            }
            SimFault::LoseSubmits(n) => faults.lose_submits = faults.lose_submits.saturating_add(n),
        }
    }

    /// Closes every event stream, as if the push connection dropped.
    pub fn drop_subscribers(&self) {
        self.lock().subscribers.senders.clear();
    }

    /// Orders ever accepted (rejections and injected connectivity failures do not count).
    pub fn order_count(&self) -> u64 {
        self.lock().venue.accepted()
    }

    /// The price at which a waiting conditional order would trigger now (where a trailing
    /// stop has trailed to); `None` once it triggered or for other orders.
    pub fn trigger_price(&self, symbol: &Symbol, id: &ClientOrderId) -> Option<Price> {
        self.lock().venue.trigger_price(symbol, id)
    }

    /// An order list's latest state.
    pub fn order_list(
        &self,
        symbol: &Symbol,
        list_client_order_id: &ClientOrderId,
    ) -> Result<OrderListReport, ExchangeError> {
        self.lock().venue.order_list(symbol, list_client_order_id)
    }

    /// Runs a placement (`submit` or `submit_oco`) under the lock with the injected faults
    /// applied: `FailSubmits` refuses it untouched, `UnknownAfterAccept` runs it and hides
    /// the answer.
    fn place<T>(
        &self,
        run: impl FnOnce(&mut Venue, &mut Subscribers) -> Result<T, ExchangeError>,
    ) -> Result<T, ExchangeError> {
        let mut guard = self.lock();
        let Shared {
            venue,
            subscribers,
            faults,
        } = &mut *guard;
        if faults.fail_submits > 0 {
            faults.fail_submits -= 1;
            return Err(ExchangeError::Connectivity(
                "sim: injected connectivity failure".into(),
            ));
        }
        if faults.lose_submits > 0 {
            faults.lose_submits -= 1;
            return Err(ExchangeError::UnknownOutcome(
                "sim: injected timeout; the request never reached the venue".into(),
            ));
        }
        let result = run(venue, subscribers);
        if faults.unknown_after_accept > 0 {
            faults.unknown_after_accept -= 1;
            return Err(ExchangeError::UnknownOutcome(
                "sim: injected timeout after the order reached the venue".into(),
            ));
        }
        result
    }
}

impl Exchange for SimExchange {
    fn venue(&self) -> &'static str {
        "sim"
    }

    fn submit(&self, order: OrderRequest) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        let now = chrono::Utc::now();
        Box::pin(ready(self.place(|v, s| v.submit(order, now, s))))
    }

    fn submit_oco(&self, oco: OcoRequest) -> BoxFuture<Result<OrderListReport, ExchangeError>> {
        let now = chrono::Utc::now();
        Box::pin(ready(self.place(|v, s| v.submit_oco(oco, now, s))))
    }

    fn cancel_order_list(
        &self,
        symbol: Symbol,
        list_client_order_id: ClientOrderId,
    ) -> BoxFuture<Result<OrderListReport, ExchangeError>> {
        let now = chrono::Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let result = venue.cancel_order_list(&symbol, &list_client_order_id, now, subscribers);
        Box::pin(ready(result))
    }

    fn cancel(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        let now = chrono::Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        Box::pin(ready(venue.cancel(&symbol, &id, now, subscribers)))
    }

    fn cancel_all(&self, symbol: Symbol) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>> {
        let now = chrono::Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let result = match venue.cancel_all(&symbol, None, now, subscribers) {
            Ok(cancelled) => Ok(cancelled.into_iter().map(|(report, _)| report).collect()),
            Err(e) if e.is_nothing_to_cancel() => Ok(Vec::new()),
            Err(e) => Err(e),
        };
        Box::pin(ready(result))
    }

    fn query(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        Box::pin(ready(self.lock().venue.query(&symbol, &id)))
    }

    fn open_orders(&self) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>> {
        Box::pin(ready(Ok(self.lock().venue.open_orders())))
    }

    fn balances(&self) -> BoxFuture<Result<Vec<Balance>, ExchangeError>> {
        Box::pin(ready(Ok(self.lock().venue.balances())))
    }

    fn prices(&self) -> BoxFuture<Result<Vec<(Symbol, Price)>, ExchangeError>> {
        Box::pin(ready(Ok(self.lock().venue.prices())))
    }

    fn subscribe(&self) -> mpsc::UnboundedReceiver<ExchangeEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().subscribers.senders.push(tx);
        rx
    }
}
