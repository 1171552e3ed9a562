//! One symbol's matching engine: synthetic liquidity around the last price, plus the index of
//! the account's resting limit orders. Pure logic: no locks, no balances, no ids of its own.
//!
//! Synthetic book around the last price `P`, for levels `i = 0..book_levels`:
//! - ask `i` at `P × (1 + level_spacing × i)` rounded UP to the tick,
//! - bid `i` at `P × (1 − level_spacing × i)` rounded DOWN to the tick (levels at or below
//!   zero do not exist).
//!
//! Level 0 is `P` on both sides, so a small market order fills exactly at `P`. Every level holds
//! `level_qty`; what is taken stays taken until the next price update, which rebuilds the levels
//! at full size. Takers walk levels from the best outward; a limit stops at its price.
//!
//! Resting orders are not part of the synthetic liquidity (the account never trades with
//! itself). A price update to `P'` crosses every resting buy with limit `≥ P'` and every resting
//! sell with limit `≤ P'`; the caller fills those completely at their limit price.

use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeSet;

use crate::domain::{Price, Qty, Side};
use crate::exchange::filters::Bounds;

/// `value` snapped to PRICE_FILTER's tick grid (anchored at `min`) with `strategy`; unchanged
/// when there is no tick. `None` on overflow.
fn snap(value: Decimal, bounds: &Bounds, strategy: RoundingStrategy) -> Option<Decimal> {
    if bounds.step.is_zero() {
        return Some(value);
    }
    let ticks = value
        .checked_sub(bounds.min)?
        .checked_div(bounds.step)?
        .round_dp_with_strategy(0, strategy);
    ticks
        .checked_mul(bounds.step)?
        .checked_add(bounds.min)
        .map(|v| v.normalize())
}

/// Rounds down to the tick.
pub fn tick_floor(value: Decimal, bounds: &Bounds) -> Option<Decimal> {
    snap(value, bounds, RoundingStrategy::ToNegativeInfinity)
}

/// Rounds up to the tick.
pub fn tick_ceil(value: Decimal, bounds: &Bounds) -> Option<Decimal> {
    snap(value, bounds, RoundingStrategy::ToPositiveInfinity)
}

/// Rounds to the nearest tick (half away from zero).
pub fn tick_round(value: Decimal, bounds: &Bounds) -> Option<Decimal> {
    snap(value, bounds, RoundingStrategy::MidpointAwayFromZero)
}

/// One level's share of a taker order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    /// Index of the level on the opposite side, so `commit` can mark the liquidity taken.
    pub level: usize,
    /// The level's price: the fill price.
    pub price: Price,
    /// Quantity taken at this level.
    pub qty: Qty,
}

/// The totals of a planned sweep (its per-level takes are written to the caller's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sweep {
    /// Total base quantity the sweep fills.
    pub filled: Qty,
    /// Total quote value (Σ price × qty) of the sweep.
    pub quote: Decimal,
}

/// The synthetic book and resting-order index of one symbol.
#[derive(Debug, Clone)]
pub struct Book {
    /// PRICE_FILTER bounds: the tick that level prices are rounded to.
    bounds: Bounds,
    /// Liquidity each synthetic level holds after a price update.
    level_qty: Qty,
    /// Relative distance between adjacent levels.
    level_spacing: Decimal,
    /// How many levels each side has.
    levels: usize,
    /// The last price `P`, centre of the synthetic levels.
    price: Price,
    /// Ask level prices for the current `P`, best (lowest) first; rebuilt on each update.
    ask_prices: Vec<Price>,
    /// Bid level prices for the current `P`, best (highest) first; rebuilt on each update.
    bid_prices: Vec<Price>,
    /// Quantity already taken from each ask level since the last price update.
    ask_taken: Vec<Decimal>,
    /// Quantity already taken from each bid level since the last price update.
    bid_taken: Vec<Decimal>,
    /// Resting buys as (limit, exchange order id): ordered so crossed ones split off in one go.
    resting_buys: BTreeSet<(Price, u64)>,
    /// Resting sells as (limit, exchange order id).
    resting_sells: BTreeSet<(Price, u64)>,
}

impl Book {
    /// A book centred on `price`. `None` if a level price overflows.
    pub fn new(
        bounds: Bounds,
        price: Price,
        level_qty: Qty,
        level_spacing: Decimal,
        levels: usize,
    ) -> Option<Self> {
        let mut book = Self {
            bounds,
            level_qty,
            level_spacing,
            levels,
            price,
            ask_prices: Vec::with_capacity(levels),
            bid_prices: Vec::with_capacity(levels),
            ask_taken: Vec::with_capacity(levels),
            bid_taken: Vec::with_capacity(levels),
            resting_buys: BTreeSet::new(),
            resting_sells: BTreeSet::new(),
        };
        book.set_price(price)?;
        Some(book)
    }

    pub fn price(&self) -> Price {
        self.price
    }

    /// Moves the centre to `price` and refills every level. `None` (book unchanged) on overflow.
    pub fn set_price(&mut self, price: Price) -> Option<()> {
        let mut asks = Vec::with_capacity(self.levels);
        let mut bids = Vec::with_capacity(self.levels);
        for i in 0..self.levels {
            let offset = self.level_spacing.checked_mul(Decimal::from(i))?;
            let up = price.0.checked_mul(Decimal::ONE.checked_add(offset)?)?;
            asks.push(Price(tick_ceil(up, &self.bounds)?));
            let down = price.0.checked_mul(Decimal::ONE.checked_sub(offset)?)?;
            let bid = tick_floor(down, &self.bounds)?;
            if bid > Decimal::ZERO {
                bids.push(Price(bid));
            }
        }
        self.price = price;
        self.ask_taken.clear();
        self.ask_taken.resize(asks.len(), Decimal::ZERO);
        self.bid_taken.clear();
        self.bid_taken.resize(bids.len(), Decimal::ZERO);
        self.ask_prices = asks;
        self.bid_prices = bids;
        Some(())
    }

    /// The best level a taker of `side` would hit (the best ask for a buy, the best bid for a
    /// sell) with what is left of it, skipping levels already taken.
    pub fn best(&self, side: Side) -> Option<(Price, Qty)> {
        let (prices, taken) = match side {
            Side::Buy => (&self.ask_prices, &self.ask_taken),
            Side::Sell => (&self.bid_prices, &self.bid_taken),
        };
        prices
            .iter()
            .zip(taken.iter())
            .map(|(&p, &used)| (p, Qty(self.level_qty.0 - used)))
            .find(|(_, left)| left.is_positive())
    }

    /// Level prices a taker of `side` walks (asks for a buy, bids for a sell), best first.
    #[cfg(test)]
    pub fn levels_for(&self, side: Side) -> &[Price] {
        match side {
            Side::Buy => &self.ask_prices,
            Side::Sell => &self.bid_prices,
        }
    }

    /// Plans a taker order of `side` for `qty`, no worse than `limit` if given, without taking
    /// anything. Writes one `Take` per level touched into `takes` (cleared first). `None` on
    /// overflow.
    pub fn plan(
        &self,
        side: Side,
        qty: Qty,
        limit: Option<Price>,
        takes: &mut Vec<Take>,
    ) -> Option<Sweep> {
        takes.clear();
        let (prices, taken) = match side {
            Side::Buy => (&self.ask_prices, &self.ask_taken),
            Side::Sell => (&self.bid_prices, &self.bid_taken),
        };
        let mut remaining = qty.0;
        let mut sweep = Sweep::default();
        for (level, (&price, &used)) in prices.iter().zip(taken.iter()).enumerate() {
            if remaining <= Decimal::ZERO {
                break;
            }
            let beyond = match (side, limit) {
                (Side::Buy, Some(l)) => price > l,
                (Side::Sell, Some(l)) => price < l,
                (_, None) => false,
            };
            if beyond {
                break;
            }
            let available = self.level_qty.0.checked_sub(used)?;
            let take = remaining.min(available);
            if take <= Decimal::ZERO {
                continue;
            }
            remaining = remaining.checked_sub(take)?;
            sweep.filled = Qty(sweep.filled.0.checked_add(take)?);
            sweep.quote = sweep.quote.checked_add(take.checked_mul(price.0)?)?;
            takes.push(Take {
                level,
                price,
                qty: Qty(take),
            });
        }
        Some(sweep)
    }

    /// The base quantity a market order of `side` gets for `quote` of the quote asset (spent
    /// by a buy, received by a sell), walking the levels from the best as `plan` would, before
    /// any rounding to the lot step. Less than that when the levels run out. `None` on
    /// overflow.
    pub fn quantity_for_quote(&self, side: Side, quote: Decimal) -> Option<Decimal> {
        let (prices, taken) = match side {
            Side::Buy => (&self.ask_prices, &self.ask_taken),
            Side::Sell => (&self.bid_prices, &self.bid_taken),
        };
        let mut remaining = quote;
        let mut qty = Decimal::ZERO;
        for (&price, &used) in prices.iter().zip(taken.iter()) {
            if remaining <= Decimal::ZERO {
                break;
            }
            let available = self.level_qty.0.checked_sub(used)?;
            let level_quote = available.checked_mul(price.0)?;
            if level_quote <= remaining {
                qty = qty.checked_add(available)?;
                remaining = remaining.checked_sub(level_quote)?;
            } else {
                qty = qty.checked_add(remaining.checked_div(price.0)?)?;
                remaining = Decimal::ZERO;
            }
        }
        Some(qty)
    }

    /// Takes the liquidity a `plan` of the same `side` found (call with the plan's takes,
    /// before any other change to the book).
    pub fn commit(&mut self, side: Side, takes: &[Take]) {
        let taken = match side {
            Side::Buy => &mut self.ask_taken,
            Side::Sell => &mut self.bid_taken,
        };
        for t in takes {
            if let Some(used) = taken.get_mut(t.level) {
                // Bounded by level_qty (the plan checked), so this cannot overflow.
                *used += t.qty.0;
            }
        }
    }

    /// Adds a resting order to the index.
    pub fn rest(&mut self, side: Side, limit: Price, id: u64) {
        match side {
            Side::Buy => self.resting_buys.insert((limit, id)),
            Side::Sell => self.resting_sells.insert((limit, id)),
        };
    }

    /// Removes a resting order from the index; false if it was not there.
    pub fn unrest(&mut self, side: Side, limit: Price, id: u64) -> bool {
        match side {
            Side::Buy => self.resting_buys.remove(&(limit, id)),
            Side::Sell => self.resting_sells.remove(&(limit, id)),
        }
    }

    /// Removes and returns the ids of resting orders the current price crosses: buys with limit
    /// `≥ P` (highest first), then sells with limit `≤ P` (lowest first).
    pub fn take_crossed(&mut self) -> Vec<(Side, Price, u64)> {
        let p = self.price;
        let buys = self.resting_buys.split_off(&(p, 0));
        let keep = self.resting_sells.split_off(&(p, u64::MAX));
        let sells = std::mem::replace(&mut self.resting_sells, keep);
        let mut out = Vec::with_capacity(buys.len() + sells.len());
        out.extend(buys.into_iter().rev().map(|(l, id)| (Side::Buy, l, id)));
        out.extend(sells.into_iter().map(|(l, id)| (Side::Sell, l, id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn cent() -> Bounds {
        Bounds {
            min: d("0.01"),
            max: d("1000000"),
            step: d("0.01"),
        }
    }

    fn book(price: &str) -> Book {
        Book::new(cent(), Price(d(price)), Qty(d("0.5")), d("0.0001"), 3).unwrap()
    }

    #[test]
    fn levels_round_away_from_the_centre_to_the_tick() {
        let b = book("3333.33");
        // 3333.33 × 1.0001 = 3333.663333 → 3333.67; × 1.0002 = 3333.996666 → 3334.00
        assert_eq!(
            b.levels_for(Side::Buy),
            &[Price(d("3333.33")), Price(d("3333.67")), Price(d("3334"))]
        );
        // 3333.33 × 0.9999 = 3332.996667 → 3332.99; × 0.9998 = 3332.663334 → 3332.66
        assert_eq!(
            b.levels_for(Side::Sell),
            &[
                Price(d("3333.33")),
                Price(d("3332.99")),
                Price(d("3332.66"))
            ]
        );
    }

    #[test]
    fn sweeps_walk_levels_and_taken_liquidity_stays_taken_until_the_price_moves() {
        let mut b = book("50000");
        let mut takes = Vec::new();
        let s = b.plan(Side::Buy, Qty(d("1.2")), None, &mut takes).unwrap();
        assert_eq!(s.filled, Qty(d("1.2")));
        assert_eq!(s.quote, d("60004.5")); // 25000 + 25002.5 + 10002
        assert_eq!(
            takes
                .iter()
                .map(|t| (t.price.0, t.qty.0))
                .collect::<Vec<_>>(),
            vec![
                (d("50000"), d("0.5")),
                (d("50005"), d("0.5")),
                (d("50010"), d("0.2"))
            ]
        );
        b.commit(Side::Buy, &takes);
        let s = b.plan(Side::Buy, Qty(d("1")), None, &mut takes).unwrap();
        assert_eq!(s.filled, Qty(d("0.3"))); // only level 2's rest is left
        assert_eq!(takes[0].price, Price(d("50010")));
        // A limit stops at its price.
        let s = b.plan(Side::Sell, Qty(d("1")), Some(Price(d("50000"))), &mut takes);
        assert_eq!(s.unwrap().filled, Qty(d("0.5")));
        // A new price refills the levels.
        b.set_price(Price(d("50000"))).unwrap();
        let s = b.plan(Side::Buy, Qty(d("1.5")), None, &mut takes).unwrap();
        assert_eq!(s.filled, Qty(d("1.5")));
    }

    #[test]
    fn a_price_update_crosses_resting_orders_on_the_right_side() {
        let mut b = book("100");
        b.rest(Side::Buy, Price(d("99")), 1);
        b.rest(Side::Buy, Price(d("98")), 2);
        b.rest(Side::Sell, Price(d("101")), 3);
        b.set_price(Price(d("99"))).unwrap();
        assert_eq!(b.take_crossed(), vec![(Side::Buy, Price(d("99")), 1)]);
        b.set_price(Price(d("101"))).unwrap();
        assert_eq!(b.take_crossed(), vec![(Side::Sell, Price(d("101")), 3)]);
        assert!(b.unrest(Side::Buy, Price(d("98")), 2));
        b.set_price(Price(d("1"))).unwrap();
        assert!(b.take_crossed().is_empty());
    }

    #[test]
    fn bid_levels_at_or_below_zero_do_not_exist() {
        let b = Book::new(cent(), Price(d("0.01")), Qty(d("1")), d("0.5"), 3).unwrap();
        assert_eq!(b.levels_for(Side::Sell), &[Price(d("0.01"))]);
        assert_eq!(b.levels_for(Side::Buy).len(), 3);
    }
}
