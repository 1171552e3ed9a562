//! Protective exits of a signal (a "bracket"): the stop-loss and take-profit a signal asks for,
//! checked against the entry when the signal arrives, and turned into exit prices and a
//! quantity once the entry fills. Pure functions; the order router places the exit
//! (`actors::order_router::exits`).
//!
//! # Prices
//! An absolute `stop_loss` / `take_profit` is used as given (it must be on the tick). A
//! percentage is taken from the entry's average fill price and rounded to the tick *away from
//! the entry*: a long's stop down and its take-profit up, a short's stop up and take-profit
//! down. The exit is then never nearer the entry than asked for (a 2% stop is at least 2%
//! away), and a stop always stays on the losing side of the fill even when the percentage is
//! smaller than a tick.
//!
//! # Quantity
//! What the entry's fills added to the holdings (net of any fee the venue took in the base
//! asset), rounded down to the lot step: the exit never sells more than the entry bought.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::{DomainError, Price, Qty, Side, Signal};
use crate::exchange::filters::SymbolRules;

/// Where one side of the bracket sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// An absolute price.
    Price(Price),
    /// A percentage away from the entry's average fill price.
    Pct(Decimal),
}

/// The exits a signal asks for; at least one of the two is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bracket {
    pub stop: Option<Level>,
    pub take: Option<Level>,
}

/// Exit prices for a filled entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitPrices {
    pub stop: Option<Price>,
    pub take: Option<Price>,
}

impl Bracket {
    /// The bracket of a buy or sell signal; `None` when it asks for no exit.
    pub fn of(signal: &Signal) -> Option<Self> {
        let stop = signal
            .stop_loss
            .map(Level::Price)
            .or(signal.stops.stop_loss_pct.map(Level::Pct));
        let take = signal
            .take_profit
            .map(Level::Price)
            .or(signal.stops.take_profit_pct.map(Level::Pct));
        (stop.is_some() || take.is_some()).then_some(Self { stop, take })
    }

    /// Checks absolute exit prices against the symbol's tick and the entry reference (limit
    /// price, stop price or last price): a buy's stop below it and take-profit above it, a
    /// sell's the other way round. Without a reference only the tick is checked.
    pub fn check(
        &self,
        side: Side,
        rules: &SymbolRules,
        entry: Option<Price>,
    ) -> Result<(), DomainError> {
        for (field, level, loss) in [
            ("stop_loss", self.stop, true),
            ("take_profit", self.take, false),
        ] {
            let Some(Level::Price(p)) = level else {
                continue;
            };
            rules
                .check_price_of(field, p)
                .map_err(|v| DomainError::invalid(field, v.to_string()))?;
            let Some(entry) = entry else {
                continue;
            };
            // A long loses below the entry, a short above it.
            let below = loss == (side == Side::Buy);
            let ok = if below { p < entry } else { p > entry };
            if !ok {
                let place = if below { "below" } else { "above" };
                return Err(DomainError::invalid(
                    field,
                    format!(
                        "must be {place} the entry price {} for a {side:?} entry",
                        entry.0.normalize()
                    )
                    .to_lowercase(),
                ));
            }
        }
        Ok(())
    }

    /// The exit prices for an entry of `side` filled at `average`. `None` on overflow or a
    /// price that rounds to zero or below.
    pub fn prices(&self, side: Side, average: Price, rules: &SymbolRules) -> Option<ExitPrices> {
        let long = side == Side::Buy;
        let level = |level: Option<Level>, loss: bool| -> Option<Option<Price>> {
            let pct = match level {
                None => return Some(None),
                Some(Level::Price(p)) => return Some(Some(p)),
                Some(Level::Pct(pct)) => pct.checked_div(Decimal::ONE_HUNDRED)?,
            };
            // Below the entry: a long's stop, a short's take-profit.
            let below = loss == long;
            let factor = if below {
                Decimal::ONE.checked_sub(pct)?
            } else {
                Decimal::ONE.checked_add(pct)?
            };
            let raw = average.0.checked_mul(factor)?;
            let strategy = if below {
                RoundingStrategy::ToNegativeInfinity
            } else {
                RoundingStrategy::ToPositiveInfinity
            };
            let p = to_tick(raw, rules, strategy)?;
            (p > Decimal::ZERO).then_some(Some(Price(p)))
        };
        Some(ExitPrices {
            stop: level(self.stop, true)?,
            take: level(self.take, false)?,
        })
    }
}

/// `value` on PRICE_FILTER's tick grid (anchored at its minimum), rounded with `strategy`.
fn to_tick(value: Decimal, rules: &SymbolRules, strategy: RoundingStrategy) -> Option<Decimal> {
    let b = rules.price;
    if b.step.is_zero() {
        return Some(value);
    }
    let ticks = value
        .checked_sub(b.min)?
        .checked_div(b.step)?
        .round_dp_with_strategy(0, strategy);
    Some(ticks.checked_mul(b.step)?.checked_add(b.min)?.normalize())
}

/// The exit quantity for `held` (what the entry's fills added to the holdings, unsigned):
/// rounded down to the lot step.
pub fn exit_quantity(held: Decimal, rules: &SymbolRules) -> Option<Qty> {
    rules.floor_qty(Qty(held.abs()), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SignalInput, Symbol};
    use crate::exchange::filters::Instruments;
    use std::str::FromStr;

    fn btc() -> SymbolRules {
        let i =
            Instruments::from_exchange_info_json(include_str!("../../config/exchange_info.json"))
                .unwrap();
        i.get(&Symbol::new("BTCUSDT").unwrap()).unwrap().clone()
    }

    fn p(s: &str) -> Price {
        Price::from_str(s).unwrap()
    }

    fn bracket(extra: &str) -> Option<Bracket> {
        let json = format!(r#"{{"id":"b","symbol":"BTCUSDT","action":"buy"{extra}}}"#);
        let signal = SignalInput::from_json(json.as_bytes())
            .unwrap()
            .validate()
            .unwrap();
        Bracket::of(&signal)
    }

    #[test]
    fn percentages_round_away_from_the_entry() {
        let b = bracket(r#","stop_loss_pct":"2","take_profit_pct":"3""#).unwrap();
        // 60000.03 × 0.98 = 58800.0294 → down; × 1.03 = 61800.0309 → up.
        let long = b.prices(Side::Buy, p("60000.03"), &btc()).unwrap();
        assert_eq!(long.stop, Some(p("58800.02")));
        assert_eq!(long.take, Some(p("61800.04")));
        let short = b.prices(Side::Sell, p("60000.03"), &btc()).unwrap();
        assert_eq!(short.stop, Some(p("61200.04")));
        assert_eq!(short.take, Some(p("58200.02")));
        // Exact values stay exact.
        let exact = b.prices(Side::Buy, p("60000"), &btc()).unwrap();
        assert_eq!(
            (exact.stop, exact.take),
            (Some(p("58800")), Some(p("61800")))
        );
    }

    #[test]
    fn absolute_prices_are_checked_against_the_entry_and_the_tick() {
        let rules = btc();
        let entry = Some(p("60000"));
        let b = bracket(r#","stop_loss":"59000","take_profit":"62000""#).unwrap();
        assert!(b.check(Side::Buy, &rules, entry).is_ok());
        assert_eq!(
            b.check(Side::Sell, &rules, entry).unwrap_err().field,
            "stop_loss"
        );
        let b = bracket(r#","take_profit":"59000""#).unwrap();
        assert_eq!(
            b.check(Side::Buy, &rules, entry).unwrap_err().field,
            "take_profit"
        );
        let b = bracket(r#","stop_loss":"59000.001""#).unwrap();
        assert_eq!(
            b.check(Side::Buy, &rules, None).unwrap_err().field,
            "stop_loss"
        );
        assert!(bracket("").is_none());
    }

    #[test]
    fn the_quantity_is_floored_to_the_step() {
        let q = exit_quantity(Decimal::from_str("0.0999").unwrap(), &btc()).unwrap();
        assert_eq!(q, Qty::from_str("0.0999").unwrap());
        let q = exit_quantity(Decimal::from_str("0.4995004").unwrap(), &btc()).unwrap();
        assert_eq!(q, Qty::from_str("0.4995").unwrap());
    }
}
