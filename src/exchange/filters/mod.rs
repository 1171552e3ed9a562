//! Symbol trading rules in Binance's `exchangeInfo` shape, and the checks an order must pass
//! before it is sent. Parsed straight from the venue's strings into `Decimal`.
//!
//! The same rules serve the simulated exchange (loaded from `config/exchange_info.json`) and
//! the Binance adapter (loaded from `GET /api/v3/exchangeInfo`).

use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::domain::Symbol;

mod params;
mod rules;
#[cfg(test)]
mod tests;

pub use params::{
    CODE_BAD_PARAM_COMBO, CODE_MANDATORY_PARAM, CODE_PARAM_NOT_REQUIRED, ParamViolation,
    check_params,
};
pub use rules::{Bounds, FilterViolation, PriceBand, SymbolRules, TrailingBounds};

/// The subset of `exchangeInfo` redline reads. Unknown fields and filter types are ignored,
/// as the venue adds them over time.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    pub symbols: Vec<SymbolInfo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    pub symbol: String,
    pub status: String,
    pub base_asset: String,
    pub quote_asset: String,
    #[serde(default)]
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "filterType")]
pub enum Filter {
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        min_price: Decimal,
        max_price: Decimal,
        tick_size: Decimal,
    },
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        min_qty: Decimal,
        max_qty: Decimal,
        step_size: Decimal,
    },
    #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
    MarketLotSize {
        min_qty: Decimal,
        max_qty: Decimal,
        step_size: Decimal,
    },
    #[serde(rename = "NOTIONAL", rename_all = "camelCase")]
    Notional {
        min_notional: Decimal,
        apply_min_to_market: bool,
        max_notional: Decimal,
        apply_max_to_market: bool,
    },
    #[serde(rename = "MIN_NOTIONAL", rename_all = "camelCase")]
    MinNotional {
        min_notional: Decimal,
        apply_to_market: bool,
    },
    #[serde(rename = "PERCENT_PRICE", rename_all = "camelCase")]
    PercentPrice {
        multiplier_up: Decimal,
        multiplier_down: Decimal,
    },
    #[serde(rename = "PERCENT_PRICE_BY_SIDE", rename_all = "camelCase")]
    PercentPriceBySide {
        bid_multiplier_up: Decimal,
        bid_multiplier_down: Decimal,
        ask_multiplier_up: Decimal,
        ask_multiplier_down: Decimal,
    },
    #[serde(rename = "MAX_NUM_ORDERS", rename_all = "camelCase")]
    MaxNumOrders { max_num_orders: u32 },
    #[serde(rename = "TRAILING_DELTA", rename_all = "camelCase")]
    TrailingDelta {
        min_trailing_above_delta: u32,
        max_trailing_above_delta: u32,
        min_trailing_below_delta: u32,
        max_trailing_below_delta: u32,
    },
    #[serde(other)]
    Other,
}

/// All symbols' rules, keyed by symbol. Immutable once loaded; shared by `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Instruments {
    by_symbol: BTreeMap<Symbol, SymbolRules>,
}

impl Instruments {
    pub fn from_exchange_info_json(json: &str) -> Result<Self, String> {
        let info: ExchangeInfo =
            serde_json::from_str(json).map_err(|e| format!("exchangeInfo: {e}"))?;
        Self::from_exchange_info(&info)
    }

    pub fn from_exchange_info(info: &ExchangeInfo) -> Result<Self, String> {
        let mut by_symbol = BTreeMap::new();
        for s in &info.symbols {
            let rules = SymbolRules::from_info(s)?;
            by_symbol.insert(rules.symbol.clone(), rules);
        }
        Ok(Self { by_symbol })
    }

    pub fn get(&self, symbol: &Symbol) -> Option<&SymbolRules> {
        self.by_symbol.get(symbol)
    }

    pub fn symbols(&self) -> impl Iterator<Item = &Symbol> {
        self.by_symbol.keys()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SymbolRules> {
        self.by_symbol.values()
    }

    pub fn len(&self) -> usize {
        self.by_symbol.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }
}
