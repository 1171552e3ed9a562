//! Price moves: `set_price` from outside, `step_feed` from the random walk, and what both do
//! (`apply_price`): rebuild the synthetic levels, push the price, fill every resting order
//! the new price crosses completely at its limit, as maker (`resting`), then fire the
//! conditional orders whose trigger the price meets (`conditional`).

use chrono::{DateTime, Utc};

use super::order::{bad_symbol, filter_failure, overflow};
use super::venue::{EventSink, Venue};
use super::views::SimUpdate;
use crate::domain::{Price, Side, Symbol};
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

    /// Moves the book to `price` (refilling the levels), pushes the price, fills every resting
    /// order it crosses completely at its limit price, as maker, then fires the conditional
    /// orders whose trigger the price meets.
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
        let filled = self.fill_crossed(symbol, now, sink);
        let fired = self.fire_triggers(symbol, price, now, sink);
        filled.and(fired)
    }
}
