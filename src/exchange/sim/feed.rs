//! The simulator's price feed: a seeded random walk per symbol.
//!
//! The generator is a hand-written splitmix64 (Steele, Lea & Flood, 2014), so a seed gives the
//! same path on every platform and across crate upgrades (no dependency on `rand`'s algorithms).
//! Each symbol's generator is seeded from the settings' seed mixed with an FNV-1a hash of the
//! symbol name, so adding a market does not change the other markets' paths.
//!
//! One step moves the price by `price × volatility × u`, with `u` uniform over
//! `{-1.000, -0.999, …, 0.999, 1.000}` (an exact `Decimal`, never a float), then rounds to the
//! nearest tick and keeps the result inside PRICE_FILTER, never below one tick.

use rust_decimal::Decimal;

use super::book::{tick_floor, tick_round};
use crate::domain::{Price, Symbol};
use crate::exchange::filters::Bounds;

/// splitmix64: a 64-bit state advanced by a fixed odd constant and scrambled on output.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    /// The whole generator state; the output sequence is a pure function of its initial value.
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// FNV-1a over the symbol's bytes, hand-written for the same stability reason as the generator.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// The random walk of one symbol.
#[derive(Debug, Clone)]
pub struct PriceWalk {
    /// This symbol's own generator (seeded from the global seed and the symbol name).
    rng: SplitMix64,
}

impl PriceWalk {
    pub fn new(seed: u64, symbol: &Symbol) -> Self {
        let mut mix = SplitMix64::new(seed ^ fnv1a(symbol.as_str().as_bytes()));
        Self {
            rng: SplitMix64::new(mix.next_u64()),
        }
    }

    /// A uniform draw from `[-1, 1]` in steps of 0.001, as an exact decimal.
    pub fn next_unit(&mut self) -> Decimal {
        // 2001 outcomes; the modulo bias (2001 / 2^64) is far below anything observable.
        let k = (self.rng.next_u64() % 2001) as i64 - 1000;
        Decimal::new(k, 3)
    }

    /// The next price after `price`: moved by at most `price × volatility`, rounded to the tick
    /// of `bounds`, clamped to PRICE_FILTER's range and never below one tick.
    pub fn step(&mut self, price: Price, volatility: Decimal, bounds: &Bounds) -> Price {
        let u = self.next_unit();
        let moved = price
            .0
            .checked_mul(volatility)
            .and_then(|m| m.checked_mul(u))
            .and_then(|delta| price.0.checked_add(delta))
            .unwrap_or(price.0);
        let mut next = tick_round(moved, bounds).unwrap_or(price.0);
        let floor = if bounds.step.is_zero() {
            bounds.min.max(Decimal::new(1, 8))
        } else {
            bounds.step.max(bounds.min)
        };
        if next < floor {
            next = floor;
        }
        if !bounds.max.is_zero() && next > bounds.max {
            next = tick_floor(bounds.max, bounds).unwrap_or(bounds.max);
        }
        Price(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn btc_bounds() -> Bounds {
        Bounds {
            min: d("0.01"),
            max: d("1000000"),
            step: d("0.01"),
        }
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of the reference splitmix64.c for this seed (the same vector
        // rand_xoshiro tests against).
        let mut g = SplitMix64::new(1477776061723855037);
        assert_eq!(g.next_u64(), 1985237415132408290);
        assert_eq!(g.next_u64(), 2979275885539914483);
        assert_eq!(g.next_u64(), 13511426838097143398);
    }

    #[test]
    fn same_seed_same_path_and_symbols_differ() {
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        let path = |seed: u64, sym: &Symbol| {
            let mut w = PriceWalk::new(seed, sym);
            let mut p = Price(d("50000.00"));
            (0..200)
                .map(|_| {
                    p = w.step(p, d("0.001"), &btc_bounds());
                    p
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(path(7, &btc), path(7, &btc));
        assert_ne!(path(7, &btc), path(8, &btc));
        assert_ne!(path(7, &btc), path(7, &eth));
    }

    #[test]
    fn units_are_exact_thousandths_within_bounds() {
        let mut w = PriceWalk::new(1, &Symbol::new("BTCUSDT").unwrap());
        for _ in 0..5000 {
            let u = w.next_unit();
            assert!(u >= d("-1") && u <= d("1"));
            assert!(u.scale() <= 3);
        }
    }

    #[test]
    fn steps_land_on_ticks_stay_within_volatility_and_floor_at_one_tick() {
        let bounds = btc_bounds();
        let mut w = PriceWalk::new(42, &Symbol::new("BTCUSDT").unwrap());
        let mut p = Price(d("50000.00"));
        for _ in 0..1000 {
            let next = w.step(p, d("0.0005"), &bounds);
            assert_eq!(next.0 % d("0.01"), Decimal::ZERO, "{next:?} off tick");
            // |move| ≤ p × vol, plus at most half a tick of rounding.
            assert!((next.0 - p.0).abs() <= p.0 * d("0.0005") + d("0.005"));
            p = next;
        }
        // A price of one tick with 100% volatility never goes below one tick.
        let mut p = Price(d("0.01"));
        for _ in 0..200 {
            p = w.step(p, Decimal::ONE, &bounds);
            assert!(p.0 >= d("0.01"));
        }
    }
}
