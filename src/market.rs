//! Last traded price per symbol: a read-mostly view. The exchange gateway is its only writer;
//! the router (sizing), risk gate (market-order notional) and HTTP layer read it.

use chrono::{DateTime, Utc};
use dashmap::DashMap;

use crate::domain::{Price, Symbol};

#[derive(Debug, Default)]
pub struct MarketView {
    last: DashMap<Symbol, (Price, DateTime<Utc>)>,
}

impl MarketView {
    pub fn update(&self, symbol: &Symbol, price: Price, ts: DateTime<Utc>) {
        self.last.insert(symbol.clone(), (price, ts));
    }

    pub fn last_price(&self, symbol: &Symbol) -> Option<Price> {
        self.last.get(symbol).map(|e| e.value().0)
    }

    /// The last price and when it was seen.
    pub fn last(&self, symbol: &Symbol) -> Option<(Price, DateTime<Utc>)> {
        self.last.get(symbol).map(|e| *e.value())
    }

    pub fn all(&self) -> Vec<(Symbol, Price, DateTime<Utc>)> {
        let mut v: Vec<_> = self
            .last
            .iter()
            .map(|e| (e.key().clone(), e.value().0, e.value().1))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}
