//! One symbol's rules, flattened from its filters, and the checks an order must pass.

use rust_decimal::Decimal;
use std::sync::Arc;

use super::{Filter, SymbolInfo};
use crate::domain::{OrderRequest, OrderType, Price, Qty, Side, Symbol};

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
    /// PERCENT_PRICE / PERCENT_PRICE_BY_SIDE: how far a limit price may sit from the reference
    /// price, per side. `None` when the venue sets neither.
    pub price_band: Option<PriceBand>,
    /// MAX_NUM_ORDERS: open orders allowed on the symbol at once. `None` = no limit.
    pub max_open_orders: Option<u32>,
    /// TRAILING_DELTA: the allowed `trailing_delta` range in BIPS. `None` = not checked.
    pub trailing: Option<TrailingBounds>,
}

/// TRAILING_DELTA's bounds. "Above" applies to orders whose stop sits above the market
/// (STOP_LOSS(_LIMIT) buy, TAKE_PROFIT(_LIMIT) sell), "below" to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailingBounds {
    pub min_above: u32,
    pub max_above: u32,
    pub min_below: u32,
    pub max_below: u32,
}

/// The allowed range of a limit price as multiples of the reference price, by side (Binance's
/// PERCENT_PRICE_BY_SIDE; PERCENT_PRICE gives both sides the same range).
///
/// Binance's reference is the symbol's reference price or its `avgPriceMins` average; redline
/// checks against the last price it knows, the closest it sees. The venue still checks its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBand {
    pub bid_up: Decimal,
    pub bid_down: Decimal,
    pub ask_up: Decimal,
    pub ask_down: Decimal,
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
            price_band: None,
            max_open_orders: None,
            trailing: None,
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
                Filter::PercentPrice {
                    multiplier_up,
                    multiplier_down,
                } => {
                    // PERCENT_PRICE_BY_SIDE is the finer rule; keep it if both are present.
                    rules.price_band.get_or_insert(PriceBand {
                        bid_up: multiplier_up,
                        bid_down: multiplier_down,
                        ask_up: multiplier_up,
                        ask_down: multiplier_down,
                    });
                }
                Filter::PercentPriceBySide {
                    bid_multiplier_up,
                    bid_multiplier_down,
                    ask_multiplier_up,
                    ask_multiplier_down,
                } => {
                    rules.price_band = Some(PriceBand {
                        bid_up: bid_multiplier_up,
                        bid_down: bid_multiplier_down,
                        ask_up: ask_multiplier_up,
                        ask_down: ask_multiplier_down,
                    })
                }
                Filter::MaxNumOrders { max_num_orders } => {
                    rules.max_open_orders = Some(max_num_orders)
                }
                Filter::TrailingDelta {
                    min_trailing_above_delta,
                    max_trailing_above_delta,
                    min_trailing_below_delta,
                    max_trailing_below_delta,
                } => {
                    rules.trailing = Some(TrailingBounds {
                        min_above: min_trailing_above_delta,
                        max_above: max_trailing_above_delta,
                        min_below: min_trailing_below_delta,
                        max_below: max_trailing_below_delta,
                    })
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
        self.check_price_of("price", price)
    }

    /// Checks `field` (`price` or `stop_price`: PRICE_FILTER applies to both) against
    /// PRICE_FILTER.
    pub fn check_price_of(&self, field: &'static str, price: Price) -> Result<(), FilterViolation> {
        let p = price.0;
        let b = self.price;
        if !b.min.is_zero() && p < b.min {
            return Err(violation(
                "PRICE_FILTER",
                field,
                format!("{field} {p} is below the minimum {}", b.min.normalize()),
            ));
        }
        if !b.max.is_zero() && p > b.max {
            return Err(violation(
                "PRICE_FILTER",
                field,
                format!("{field} {p} is above the maximum {}", b.max.normalize()),
            ));
        }
        if !b.on_step(p) {
            return Err(violation(
                "PRICE_FILTER",
                field,
                format!(
                    "{field} {p} is not a multiple of the tick size {}",
                    b.step.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// Checks a trailing stop's delta against TRAILING_DELTA, on the bound for its side.
    pub fn check_trailing_delta(
        &self,
        order_type: OrderType,
        side: Side,
        delta: u32,
    ) -> Result<(), FilterViolation> {
        let Some(t) = self.trailing else {
            return Ok(());
        };
        let (min, max) = if order_type.fires_above(side) {
            (t.min_above, t.max_above)
        } else {
            (t.min_below, t.max_below)
        };
        if delta < min || delta > max {
            return Err(violation(
                "TRAILING_DELTA",
                "trailing_delta",
                format!("trailing_delta {delta} is outside {min}..={max} basis points"),
            ));
        }
        Ok(())
    }

    /// Checks a market order sized by quote amount: only the notional filters apply before the
    /// venue turns the amount into a quantity (it then keeps to MARKET_LOT_SIZE itself).
    fn check_quote_order(&self, quote: Decimal) -> Result<(), FilterViolation> {
        if self.min_notional_applies_to_market && quote < self.min_notional {
            return Err(violation(
                "NOTIONAL",
                "quote_quantity",
                format!(
                    "quote amount {} is below the minimum notional {}",
                    quote.normalize(),
                    self.min_notional.normalize()
                ),
            ));
        }
        if !self.max_notional.is_zero()
            && self.max_notional_applies_to_market
            && quote > self.max_notional
        {
            return Err(violation(
                "NOTIONAL",
                "quote_quantity",
                format!(
                    "quote amount {} is above the maximum notional {}",
                    quote.normalize(),
                    self.max_notional.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// Checks an order's quantity, price, stop price, trailing delta and notional.
    /// `reference_price` values market orders (the last price); without one, market-order
    /// notional checks are skipped. Stop-market orders are valued at their stop price.
    pub fn check_order(
        &self,
        order: &OrderRequest,
        reference_price: Option<Price>,
    ) -> Result<(), FilterViolation> {
        if let Some(stop) = order.stop_price {
            self.check_price_of("stop_price", stop)?;
        }
        if let Some(delta) = order.trailing_delta {
            self.check_trailing_delta(order.order_type, order.side, delta)?;
        }
        if let Some(quote) = order.quote_quantity {
            return self.check_quote_order(quote);
        }
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
            if let Some(reference) = reference_price {
                self.check_band(order.side, p, reference)?;
            }
        }
        let is_market = order.order_type.working_type() == OrderType::Market;
        let Some(price) = order.price.or(order.stop_price).or(reference_price) else {
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

    /// Checks a limit price against PERCENT_PRICE(_BY_SIDE) around `reference` (the last
    /// price). A band bound that overflows is treated as no bound.
    fn check_band(
        &self,
        side: Side,
        price: Price,
        reference: Price,
    ) -> Result<(), FilterViolation> {
        let Some(band) = self.price_band else {
            return Ok(());
        };
        let (up, down) = match side {
            Side::Buy => (band.bid_up, band.bid_down),
            Side::Sell => (band.ask_up, band.ask_down),
        };
        let (p, r) = (price.0, reference.0);
        let name = "PERCENT_PRICE_BY_SIDE";
        if let Some(max) = r.checked_mul(up).filter(|_| !up.is_zero())
            && p > max
        {
            return Err(violation(
                name,
                "price",
                format!(
                    "price {p} is more than {}x the last price {r} (above {})",
                    up.normalize(),
                    max.normalize()
                ),
            ));
        }
        if let Some(min) = r.checked_mul(down)
            && p < min
        {
            return Err(violation(
                name,
                "price",
                format!(
                    "price {p} is less than {}x the last price {r} (below {})",
                    down.normalize(),
                    min.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// Checks MAX_NUM_ORDERS: whether one more order may rest when `open` already are.
    pub fn check_open_orders(&self, open: usize) -> Result<(), FilterViolation> {
        match self.max_open_orders {
            Some(max) if open >= max as usize => Err(violation(
                "MAX_NUM_ORDERS",
                "symbol",
                format!(
                    "{} already has {open} open orders, the venue's maximum is {max}",
                    self.symbol
                ),
            )),
            _ => Ok(()),
        }
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
