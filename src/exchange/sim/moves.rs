//! Price moves: `set_price` from outside, `step_feed` from the random walk, and what both do
//! (`apply_price`): rebuild the synthetic levels, push the price, fill every resting order
//! the new price crosses completely at its limit, as maker.

use chrono::{DateTime, Utc};

use super::order::{Execution, bad_symbol, filter_failure, overflow};
use super::venue::{EventSink, Venue};
use super::views::{OrderChange, SimUpdate, push_order};
use crate::domain::{OrderStatus, Price, Qty, Side, Symbol};
use crate::exchange::{ExchangeError, ExchangeEvent};

impl Venue {
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
    pub(super) fn apply_price(
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
        if sink.detailed() {
            sink.update(SimUpdate::Price {
                symbol: symbol.clone(),
                price,
                ts: now,
                best_bid: market.book.best(Side::Sell),
                best_ask: market.book.best(Side::Buy),
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
            let change = OrderChange::Traded;
            push_order(sink, rec, change, &fills, &self.account, &market.rules);
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
}
