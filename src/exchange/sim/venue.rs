//! The simulated venue's state and every transition of it: validating and executing submits,
//! cancels, queries, and price updates that fill resting orders. Plain data behind the one lock
//! `SimExchange` holds; events go out through an `EventSink` while that lock is held, so every
//! subscriber sees changes in the order they happened.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::account::{Account, AccountError};
use super::book::{Book, Take};
use super::feed::PriceWalk;
use super::order::{Execution, OrderRecord, bad_symbol, filter_failure, overflow, rejected};
use super::{SimSettings, settings_ok};
use crate::domain::{
    ClientOrderId, OrderReport, OrderRequest, OrderStatus, OrderType, Price, Qty, Side, Symbol,
    TimeInForce,
};
use crate::exchange::filters::SymbolRules;
use crate::exchange::{
    Balance, CODE_CANCEL_REJECTED, CODE_INVALID_MESSAGE, CODE_NEW_ORDER_REJECTED,
    CODE_NO_SUCH_ORDER, ExchangeError, ExchangeEvent,
};

/// Binance's code for a missing mandatory parameter (a LIMIT order without a price).
const CODE_MANDATORY_PARAM: i64 = -1102;

/// Where pushed events go. `active` lets the venue skip cloning reports nobody will read.
pub trait EventSink {
    fn active(&self) -> bool;
    fn publish(&mut self, event: ExchangeEvent);
}

/// One symbol: its rules, its matching engine, its price walk, and its client-id index.
struct Market {
    /// Filters and assets, for validation and for knowing which balances an order moves.
    rules: SymbolRules,
    /// Synthetic levels and resting orders.
    book: Book,
    /// The random walk `step_feed` advances.
    walk: PriceWalk,
    /// Latest order per client order id on this symbol: query/cancel look-ups and the
    /// duplicate check (only the latest can be open, since a reuse needs the previous closed).
    by_client: HashMap<ClientOrderId, u64>,
}

/// The whole simulated venue.
pub struct Venue {
    /// Markets by symbol (ordered, so `step_feed` walks them in a fixed order).
    markets: BTreeMap<Symbol, Market>,
    /// The account's balances.
    account: Account,
    /// Open orders and the most recent terminal ones, by exchange order id.
    orders: HashMap<u64, OrderRecord>,
    /// Terminal order ids, oldest first: evicted past `retained_orders`.
    terminal: VecDeque<u64>,
    /// How many terminal orders stay queryable.
    retained_orders: usize,
    /// Fee rate for fills that take liquidity.
    taker_fee_rate: Decimal,
    /// Fee rate for resting orders filled by a price move.
    maker_fee_rate: Decimal,
    /// Largest relative move of one feed step.
    volatility: Decimal,
    /// Next exchange order id.
    next_order_id: u64,
    /// Next trade id (one counter for all symbols, so ids are unique per symbol too).
    next_trade_id: u64,
    /// Orders ever accepted.
    accepted: u64,
    /// Scratch buffer for a sweep's per-level takes, reused so a submit does not allocate it.
    takes: Vec<Take>,
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
            };
            markets.insert(symbol, market);
        }
        Ok(Self {
            markets,
            account: Account::new(&balances)?,
            orders: HashMap::new(),
            terminal: VecDeque::new(),
            retained_orders,
            taker_fee_rate,
            maker_fee_rate,
            volatility,
            next_order_id: 1,
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
        let market = self.markets.get_mut(&order.symbol).ok_or_else(bad_symbol)?;
        if !market.rules.trading {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Market is closed."));
        }
        let limit = match order.order_type {
            OrderType::Market => None,
            OrderType::Limit => Some(order.price.ok_or_else(|| {
                rejected(
                    CODE_MANDATORY_PARAM,
                    "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
                )
            })?),
            _ => return Err(rejected(-1014, "Unsupported order combination.")),
        };
        if !order.quantity.is_positive() {
            return Err(rejected(CODE_INVALID_MESSAGE, "Invalid quantity."));
        }
        if limit.is_some_and(|l| !l.is_positive()) {
            return Err(rejected(CODE_INVALID_MESSAGE, "Invalid price."));
        }
        let last = market.book.price();
        market
            .rules
            .check_order(&order, Some(last))
            .map_err(|v| filter_failure(v.filter))?;
        let open_twin = market
            .by_client
            .get(&order.client_order_id)
            .and_then(|id| self.orders.get(id))
            .is_some_and(|o| o.status.is_open());
        if open_twin {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Duplicate order sent."));
        }
        let (side, qty) = (order.side, order.quantity);
        let mut sweep = market
            .book
            .plan(side, qty, limit, &mut self.takes)
            .ok_or_else(overflow)?;
        let fill_or_kill = limit.is_some() && order.time_in_force == TimeInForce::Fok;
        if fill_or_kill && sweep.filled < qty {
            self.takes.clear();
            sweep = Default::default();
        }
        let (lock_asset, need) = match (side, limit) {
            (Side::Buy, Some(l)) => {
                let cost = qty.0.checked_mul(l.0).ok_or_else(overflow)?;
                (&market.rules.quote_asset, cost)
            }
            (Side::Buy, None) => (&market.rules.quote_asset, sweep.quote),
            (Side::Sell, _) => (&market.rules.base_asset, qty.0),
        };
        self.account
            .reserve(lock_asset, need)
            .map_err(|e| match e {
                AccountError::Insufficient => rejected(
                    CODE_NEW_ORDER_REJECTED,
                    "Account has insufficient balance for requested action.",
                ),
                AccountError::Overflow => overflow(),
            })?;

        // Accepted: from here on the order exists whatever happens. A market order's price
        // (if sent) played no part in matching; dropping it keeps settlement at fill prices.
        let mut order = order;
        if limit.is_none() {
            order.price = None;
        }
        let id = self.next_order_id;
        self.next_order_id += 1;
        self.accepted += 1;
        market.book.commit(side, &self.takes);
        let mut rec = OrderRecord {
            lock_asset: Arc::clone(lock_asset),
            request: order,
            exchange_order_id: id,
            status: OrderStatus::New,
            executed_qty: Qty::ZERO,
            cumulative_quote: Decimal::ZERO,
            fills: Vec::with_capacity(self.takes.len()),
            locked: need,
            updated: now,
        };
        let mut outcome = Ok(());
        for take in &self.takes {
            let exec = Execution {
                price: take.price,
                qty: take.qty,
                fee_rate: self.taker_fee_rate,
                is_maker: false,
                trade_id: self.next_trade_id,
                ts: now,
            };
            self.next_trade_id += 1;
            if let Err(e) = rec.execute(&mut self.account, &market.rules, exec) {
                outcome = Err(e);
                break;
            }
        }
        let status = if rec.executed_qty == qty {
            OrderStatus::Filled
        } else if limit.is_none() || rec.request.time_in_force != TimeInForce::Gtc {
            OrderStatus::Expired
        } else if rec.executed_qty.is_positive() {
            OrderStatus::PartiallyFilled
        } else {
            OrderStatus::New
        };
        if status.is_terminal() {
            if let Err(e) = rec.close(&mut self.account, status) {
                outcome = outcome.and(Err(e));
            }
        } else {
            rec.status = status;
            if let Some(l) = limit {
                market.book.rest(side, l, id);
            }
        }
        let report = rec.report(rec.fills.clone());
        if sink.active() {
            sink.publish(ExchangeEvent::Order(report.clone()));
        }
        market
            .by_client
            .insert(rec.request.client_order_id.clone(), id);
        self.orders.insert(id, rec);
        if status.is_terminal() {
            self.retire(id);
        }
        outcome.map(|()| report)
    }

    /// Cancels an open order, releasing what it reserved.
    pub fn cancel(
        &mut self,
        symbol: &Symbol,
        id: &ClientOrderId,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderReport, ExchangeError> {
        let market = self.markets.get_mut(symbol).ok_or_else(bad_symbol)?;
        let unknown = || rejected(CODE_CANCEL_REJECTED, "Unknown order sent.");
        let order_id = *market.by_client.get(id).ok_or_else(unknown)?;
        let rec = self
            .orders
            .get_mut(&order_id)
            .filter(|r| r.status.is_open())
            .ok_or_else(unknown)?;
        if let Some(l) = rec.request.price {
            market.book.unrest(rec.request.side, l, order_id);
        }
        rec.updated = now;
        let closed = rec.close(&mut self.account, OrderStatus::Canceled);
        let report = rec.report(Vec::new());
        if sink.active() {
            sink.publish(ExchangeEvent::Order(report.clone()));
        }
        self.retire(order_id);
        closed.map(|()| report)
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

    /// Every open order (with all its fills), oldest first.
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

    pub fn balances(&self) -> Vec<Balance> {
        self.account.balances()
    }

    /// Validates a price against the symbol's PRICE_FILTER, then applies it.
    pub fn set_price(
        &mut self,
        symbol: &Symbol,
        price: Price,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(), ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        if !price.is_positive() || market.rules.check_price(price).is_err() {
            return Err(filter_failure("PRICE_FILTER"));
        }
        self.apply_price(symbol, price, now, sink)
    }

    /// One random-walk step for every market, applied like `set_price`.
    pub fn step_feed(&mut self, now: DateTime<Utc>, sink: &mut impl EventSink) {
        let symbols: Vec<Symbol> = self.markets.keys().cloned().collect();
        for symbol in symbols {
            let Some(market) = self.markets.get_mut(&symbol) else {
                continue;
            };
            let next = market
                .walk
                .step(market.book.price(), self.volatility, &market.rules.price);
            // Errors are only reachable through overflow; the feed carries on with the next.
            let _ = self.apply_price(&symbol, next, now, sink);
        }
    }

    /// Moves the book to `price` (refilling the levels), pushes the price, and fills every
    /// resting order it crosses completely at its limit price, as maker.
    fn apply_price(
        &mut self,
        symbol: &Symbol,
        price: Price,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(), ExchangeError> {
        let market = self.markets.get_mut(symbol).ok_or_else(bad_symbol)?;
        market.book.set_price(price).ok_or_else(overflow)?;
        if sink.active() {
            sink.publish(ExchangeEvent::Price {
                symbol: symbol.clone(),
                price,
                ts: now,
            });
        }
        let crossed = market.book.take_crossed();
        let mut outcome = Ok(());
        let mut filled = Vec::with_capacity(crossed.len());
        for (_, limit, id) in crossed {
            let Some(rec) = self.orders.get_mut(&id) else {
                continue;
            };
            let exec = Execution {
                price: limit,
                qty: Qty(rec.request.quantity.0 - rec.executed_qty.0),
                fee_rate: self.maker_fee_rate,
                is_maker: true,
                trade_id: self.next_trade_id,
                ts: now,
            };
            self.next_trade_id += 1;
            let fill = rec.execute(&mut self.account, &market.rules, exec);
            let closed = rec.close(&mut self.account, OrderStatus::Filled);
            let fills = match fill {
                Ok(fill) => vec![fill],
                Err(e) => {
                    outcome = Err(e);
                    Vec::new()
                }
            };
            if let Err(e) = closed {
                outcome = Err(e);
            }
            if sink.active() {
                sink.publish(ExchangeEvent::Order(rec.report(fills)));
            }
            filled.push(id);
        }
        for id in filled {
            self.retire(id);
        }
        outcome
    }

    /// Records that an order reached a terminal state; evicts the oldest terminal orders past
    /// `retained_orders`.
    fn retire(&mut self, id: u64) {
        self.terminal.push_back(id);
        while self.terminal.len() > self.retained_orders {
            let Some(old) = self.terminal.pop_front() else {
                break;
            };
            let Some(rec) = self.orders.remove(&old) else {
                continue;
            };
            if let Some(m) = self.markets.get_mut(&rec.request.symbol) {
                let cid = &rec.request.client_order_id;
                if m.by_client.get(cid) == Some(&old) {
                    m.by_client.remove(cid);
                }
            }
        }
    }
}
