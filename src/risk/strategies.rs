//! Round trips per strategy for the consecutive-loss breaker: each (strategy, symbol) keeps a
//! `Position` of the strategy's own fills; when it returns to flat (or flips through it) the
//! round trip's realized PnL, fees included, is a win or a loss.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

use crate::domain::{Fill, Position, Symbol};

use super::book::SymbolBook;

#[derive(Debug, Clone)]
struct Trip {
    position: Position,
    /// Realized PnL when the current round trip began.
    realized_at_start: Decimal,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StrategyRecord {
    pub losses_in_a_row: u32,
    pub round_trips: u64,
    pub paused_since: Option<DateTime<Utc>>,
    #[serde(skip)]
    trips: HashMap<Symbol, Trip>,
}

#[derive(Debug, Clone, Default)]
pub struct Strategies {
    by_name: BTreeMap<String, StrategyRecord>,
}

impl Strategies {
    pub fn is_paused(&self, strategy: &str) -> bool {
        self.by_name
            .get(strategy)
            .is_some_and(|s| s.paused_since.is_some())
    }

    /// Folds a fill made by `strategy` in. Returns `true` when this fill completes the
    /// `max_losses`-th losing round trip in a row and so pauses the strategy.
    pub fn on_fill(
        &mut self,
        strategy: &str,
        fill: &Fill,
        symbol: &SymbolBook,
        max_losses: u32,
        now: DateTime<Utc>,
    ) -> bool {
        let record = self.by_name.entry(strategy.to_string()).or_default();
        let trip = record
            .trips
            .entry(fill.symbol.clone())
            .or_insert_with(|| Trip {
                position: Position::new(
                    fill.symbol.clone(),
                    symbol.base_asset.clone(),
                    symbol.quote_asset.clone(),
                ),
                realized_at_start: Decimal::ZERO,
            });
        let before = trip.position.quantity;
        if trip.position.apply_fill(fill).is_err() {
            return false;
        }
        let after = trip.position.quantity;
        let was_open = before.abs() >= symbol.min_lot && !before.is_zero();
        let now_flat = after.is_zero() || after.abs() < symbol.min_lot;
        let flipped = !before.is_zero()
            && !after.is_zero()
            && before.is_sign_positive() != after.is_sign_positive();
        if !(was_open && (now_flat || flipped)) {
            return false;
        }
        let pnl = trip.position.realized_pnl - trip.realized_at_start;
        trip.realized_at_start = trip.position.realized_pnl;
        record.round_trips += 1;
        if pnl < Decimal::ZERO {
            record.losses_in_a_row += 1;
        } else {
            record.losses_in_a_row = 0;
        }
        if max_losses > 0 && record.losses_in_a_row >= max_losses && record.paused_since.is_none() {
            record.paused_since = Some(now);
            return true;
        }
        false
    }

    /// Lets a paused strategy trade again; its loss count starts over. `false` if not paused.
    pub fn resume(&mut self, strategy: &str) -> bool {
        match self.by_name.get_mut(strategy) {
            Some(r) if r.paused_since.is_some() => {
                r.paused_since = None;
                r.losses_in_a_row = 0;
                true
            }
            _ => false,
        }
    }

    /// Pauses `strategy` as recorded before a restart (the journal's `StrategyPaused`).
    pub fn restore_paused(&mut self, strategy: &str, since: DateTime<Utc>) {
        let record = self.by_name.entry(strategy.to_string()).or_default();
        record.paused_since.get_or_insert(since);
    }

    pub fn records(&self) -> &BTreeMap<String, StrategyRecord> {
        &self.by_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Side;
    use crate::risk::book::Book;
    use crate::risk::state::tests::{btc_fill, instruments};

    #[test]
    fn losing_round_trips_in_a_row_pause_the_strategy_and_a_win_resets_the_count() {
        let book = Book::new(&instruments(), "USDT");
        let btc = book.symbol(book.index_of(&Symbol::new("BTCUSDT").unwrap()).unwrap());
        let mut s = Strategies::default();
        let now = Utc::now();
        let trip = |s: &mut Strategies, buy: &str, sell: &str| {
            let a = s.on_fill(
                "m",
                &btc_fill("a", Side::Buy, "1", buy, "0", "USDT"),
                btc,
                2,
                now,
            );
            let b = s.on_fill(
                "m",
                &btc_fill("b", Side::Sell, "1", sell, "0", "USDT"),
                btc,
                2,
                now,
            );
            a || b
        };
        assert!(!trip(&mut s, "100", "90"), "one loss");
        assert!(!trip(&mut s, "100", "101"), "a win resets");
        assert!(!trip(&mut s, "100", "99"));
        assert!(trip(&mut s, "100", "99"), "second loss in a row pauses");
        assert!(s.is_paused("m"));
        assert!(!s.is_paused("other"));
        assert!(s.resume("m"));
        assert!(!s.is_paused("m"));
    }

    #[test]
    fn fees_can_turn_a_flat_trip_into_a_loss() {
        let book = Book::new(&instruments(), "USDT");
        let btc = book.symbol(book.index_of(&Symbol::new("BTCUSDT").unwrap()).unwrap());
        let mut s = Strategies::default();
        let now = Utc::now();
        s.on_fill(
            "m",
            &btc_fill("a", Side::Buy, "1", "100", "0.1", "USDT"),
            btc,
            1,
            now,
        );
        assert!(s.on_fill(
            "m",
            &btc_fill("b", Side::Sell, "1", "100", "0.1", "USDT"),
            btc,
            1,
            now
        ));
    }
}
