//! Symbol trading rules in Binance's `exchangeInfo` shape, and the checks an order must pass
//! before it is sent. Parsed straight from the venue's strings into `Decimal`.
//!
//! The same rules serve the simulated exchange (loaded from `config/exchange_info.json`) and
//! the Binance adapter (loaded from `GET /api/v3/exchangeInfo`).

use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::{OrderRequest, OrderType, Price, Qty, Symbol};

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
    #[serde(other)]
    Other,
}

/// Bounds on one value: `min`/`max` of zero mean "not set", `step` of zero means "any".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    pub min: Decimal,
    pub max: Decimal,
    pub step: Decimal,
}

impl Bounds {
    fn on_step(&self, v: Decimal) -> bool {
        self.step.is_zero()
            || v.checked_sub(self.min)
                .and_then(|d| d.checked_rem(self.step))
                .is_some_and(|r| r.is_zero())
    }
}

/// The rules for one symbol, flattened from its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    pub symbol: Symbol,
    pub trading: bool,
    pub base_asset: Arc<str>,
    pub quote_asset: Arc<str>,
    pub price: Bounds,
    pub lot: Bounds,
    /// MARKET_LOT_SIZE; falls back to `lot` where the venue leaves it at zero.
    pub market_lot: Bounds,
    pub min_notional: Decimal,
    pub min_notional_applies_to_market: bool,
    /// Zero means no maximum.
    pub max_notional: Decimal,
    pub max_notional_applies_to_market: bool,
}

/// Why an order fails a filter: the Binance filter name (as in "Filter failure: NAME"), the
/// order field at fault, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (Filter failure: {filter})")]
pub struct FilterViolation {
    pub filter: &'static str,
    pub field: &'static str,
    pub message: String,
}

fn violation(filter: &'static str, field: &'static str, message: String) -> FilterViolation {
    FilterViolation {
        filter,
        field,
        message,
    }
}

impl SymbolRules {
    pub fn from_info(info: &SymbolInfo) -> Result<Self, String> {
        let symbol = Symbol::new(&info.symbol).map_err(|e| e.to_string())?;
        let mut rules = SymbolRules {
            symbol,
            trading: info.status == "TRADING",
            base_asset: Arc::from(info.base_asset.as_str()),
            quote_asset: Arc::from(info.quote_asset.as_str()),
            price: Bounds::default(),
            lot: Bounds::default(),
            market_lot: Bounds::default(),
            min_notional: Decimal::ZERO,
            min_notional_applies_to_market: true,
            max_notional: Decimal::ZERO,
            max_notional_applies_to_market: false,
        };
        for filter in &info.filters {
            match *filter {
                Filter::Price {
                    min_price,
                    max_price,
                    tick_size,
                } => {
                    rules.price = Bounds {
                        min: min_price,
                        max: max_price,
                        step: tick_size,
                    }
                }
                Filter::LotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => {
                    rules.lot = Bounds {
                        min: min_qty,
                        max: max_qty,
                        step: step_size,
                    }
                }
                Filter::MarketLotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => {
                    rules.market_lot = Bounds {
                        min: min_qty,
                        max: max_qty,
                        step: step_size,
                    }
                }
                Filter::Notional {
                    min_notional,
                    apply_min_to_market,
                    max_notional,
                    apply_max_to_market,
                } => {
                    rules.min_notional = min_notional;
                    rules.min_notional_applies_to_market = apply_min_to_market;
                    rules.max_notional = max_notional;
                    rules.max_notional_applies_to_market = apply_max_to_market;
                }
                Filter::MinNotional {
                    min_notional,
                    apply_to_market,
                } => {
                    rules.min_notional = min_notional;
                    rules.min_notional_applies_to_market = apply_to_market;
                }
                Filter::Other => {}
            }
        }
        if rules.lot.step.is_zero() && rules.lot.max.is_zero() {
            return Err(format!("{}: no LOT_SIZE filter", info.symbol));
        }
        let fallback = rules.lot;
        let ml = &mut rules.market_lot;
        if ml.min.is_zero() {
            ml.min = fallback.min;
        }
        if ml.max.is_zero() {
            ml.max = fallback.max;
        }
        if ml.step.is_zero() {
            ml.step = fallback.step;
        }
        Ok(rules)
    }

    /// Checks a price against PRICE_FILTER.
    pub fn check_price(&self, price: Price) -> Result<(), FilterViolation> {
        let p = price.0;
        let b = self.price;
        if !b.min.is_zero() && p < b.min {
            return Err(violation(
                "PRICE_FILTER",
                "price",
                format!("price {p} is below the minimum {}", b.min.normalize()),
            ));
        }
        if !b.max.is_zero() && p > b.max {
            return Err(violation(
                "PRICE_FILTER",
                "price",
                format!("price {p} is above the maximum {}", b.max.normalize()),
            ));
        }
        if !b.on_step(p) {
            return Err(violation(
                "PRICE_FILTER",
                "price",
                format!(
                    "price {p} is not a multiple of the tick size {}",
                    b.step.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// Checks an order's quantity, price and notional. `reference_price` values market orders
    /// (the last price); without one, market-order notional checks are skipped.
    pub fn check_order(
        &self,
        order: &OrderRequest,
        reference_price: Option<Price>,
    ) -> Result<(), FilterViolation> {
        let is_market = order.order_type == OrderType::Market;
        let (lot, lot_name) = if is_market {
            (self.market_lot, "MARKET_LOT_SIZE")
        } else {
            (self.lot, "LOT_SIZE")
        };
        let q = order.quantity.0;
        if q < lot.min {
            return Err(violation(
                lot_name,
                "quantity",
                format!("quantity {q} is below the minimum {}", lot.min.normalize()),
            ));
        }
        if !lot.max.is_zero() && q > lot.max {
            return Err(violation(
                lot_name,
                "quantity",
                format!("quantity {q} is above the maximum {}", lot.max.normalize()),
            ));
        }
        if !lot.on_step(q) {
            return Err(violation(
                lot_name,
                "quantity",
                format!(
                    "quantity {q} is not a multiple of the step size {}",
                    lot.step.normalize()
                ),
            ));
        }
        if let Some(p) = order.price {
            self.check_price(p)?;
        }
        let Some(price) = order.price.or(reference_price) else {
            return Ok(());
        };
        let Some(notional) = order.quantity.notional(price) else {
            return Err(violation(
                "NOTIONAL",
                "quantity",
                "notional overflows".into(),
            ));
        };
        if (!is_market || self.min_notional_applies_to_market) && notional < self.min_notional {
            return Err(violation(
                "NOTIONAL",
                "quantity",
                format!(
                    "order value {} is below the minimum notional {}",
                    notional.normalize(),
                    self.min_notional.normalize()
                ),
            ));
        }
        if !self.max_notional.is_zero()
            && (!is_market || self.max_notional_applies_to_market)
            && notional > self.max_notional
        {
            return Err(violation(
                "NOTIONAL",
                "quantity",
                format!(
                    "order value {} is above the maximum notional {}",
                    notional.normalize(),
                    self.max_notional.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// Rounds a quantity down to the lot step (never up: an order must not exceed its intent).
    /// `None` only if the arithmetic overflows.
    pub fn floor_qty(&self, qty: Qty, market: bool) -> Option<Qty> {
        let step = if market {
            self.market_lot.step
        } else {
            self.lot.step
        };
        if step.is_zero() {
            return Some(qty);
        }
        qty.0.checked_div(step)?.floor().checked_mul(step).map(Qty)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientOrderId, Side, TimeInForce};
    use std::str::FromStr;

    const SHARED_FILTERS: &str = "../shared/binance/fixtures/rest/filters_all_examples.json";

    fn rules() -> SymbolRules {
        let filters = std::fs::read_to_string(SHARED_FILTERS)
            .expect("shared/binance fixtures must sit beside the checkout");
        let json = format!(
            r#"{{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC","filters":{filters}}}"#
        );
        SymbolRules::from_info(&serde_json::from_str(&json).unwrap()).unwrap()
    }

    fn order(kind: OrderType, qty: &str, price: Option<&str>) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new("c").unwrap(),
            symbol: Symbol::new("ETHBTC").unwrap(),
            side: Side::Buy,
            order_type: kind,
            quantity: Qty::from_str(qty).unwrap(),
            price: price.map(|p| Price::from_str(p).unwrap()),
            time_in_force: TimeInForce::Gtc,
        }
    }

    #[test]
    fn parses_every_binance_filter_example() {
        let r = rules();
        assert_eq!(r.price.step, Decimal::from_str("0.000001").unwrap());
        assert_eq!(r.lot.step, Decimal::from_str("0.001").unwrap());
        assert_eq!(r.min_notional, Decimal::from_str("10").unwrap());
        assert_eq!(r.max_notional, Decimal::from_str("10000").unwrap());
    }

    #[test]
    fn each_filter_blocks_and_passes() {
        let r = rules();
        let ok = order(OrderType::Limit, "1", Some("20"));
        assert_eq!(r.check_order(&ok, None), Ok(()));
        let cases = [
            (
                order(OrderType::Limit, "1.0005", Some("20")),
                "LOT_SIZE",
                "quantity",
            ),
            (
                order(OrderType::Limit, "0.0001", Some("20")),
                "LOT_SIZE",
                "quantity",
            ),
            (
                order(OrderType::Limit, "1", Some("20.0000001")),
                "PRICE_FILTER",
                "price",
            ),
            (
                order(OrderType::Limit, "1", Some("200000")),
                "PRICE_FILTER",
                "price",
            ),
            (
                order(OrderType::Limit, "1", Some("1")),
                "NOTIONAL",
                "quantity",
            ),
            (
                order(OrderType::Limit, "1000", Some("20")),
                "NOTIONAL",
                "quantity",
            ),
        ];
        for (o, filter, field) in cases {
            let v = r.check_order(&o, None).expect_err(filter);
            assert_eq!((v.filter, v.field), (filter, field), "{v}");
        }
        // NOTIONAL's applyMinToMarket=false: a small market order passes the notional check.
        let small_market = order(OrderType::Market, "0.001", None);
        assert_eq!(
            r.check_order(&small_market, Some(Price::from_str("1").unwrap())),
            Ok(())
        );
    }

    #[test]
    fn floor_qty_rounds_down_to_the_step() {
        let r = rules();
        let q = r
            .floor_qty(Qty::from_str("1.23456").unwrap(), false)
            .unwrap();
        assert_eq!(q, Qty::from_str("1.234").unwrap());
    }
}
