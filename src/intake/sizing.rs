//! Position sizing: how much a buy or sell signal trades. Pure functions over the signal, the
//! symbol's rules, the entry price and the account's equity.
//!
//! # Precedence (the first one the signal gives wins)
//! 1. `quantity`: used as given (an off-step quantity is refused, not rounded: the strategy
//!    asked for exactly that).
//! 2. `quote_amount`: `quote_amount / entry`.
//! 3. `size_pct`: `equity × size_pct / 100 / entry`.
//! 4. `risk_pct`: `equity × risk_pct / 100 / |entry − stop|`, where the stop is `stop_loss` or
//!    `entry × (1 ∓ stop_loss_pct / 100)` (below the entry for a buy, above for a sell). A
//!    signal with neither is refused.
//! 5. nothing: the smallest quantity the symbol accepts at the entry price (LOT_SIZE minimum
//!    or minimum notional, rounded up to the step).
//!
//! Sizes 2-4 are rounded down to the lot step (never more than asked); size 5 up. The order
//! built from the size is then checked against every filter, and a size that fails one is
//! refused with the field it came from (`quote_amount`, `size_pct`, `risk_pct`).
//!
//! The entry price is the limit price, else the stop price of a stop-market entry, else the
//! last price. Equity is the account's total (free + locked) in the symbol's quote asset,
//! other assets valued at their last price ([`equity_in`]); the router fetches the balances
//! from the venue (`FetchBalances`) only for signals sized by `size_pct` or `risk_pct`.

use rust_decimal::Decimal;

use crate::domain::{DomainError, Price, Qty, Side, Signal, Symbol};
use crate::exchange::Balance;
use crate::exchange::filters::SymbolRules;

/// Which input decided the size, so a refusal names the field the strategy sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSource {
    Quantity,
    QuoteAmount,
    SizePct,
    RiskPct,
    /// Nothing given: the symbol's minimum.
    Minimum,
}

impl SizeSource {
    /// The signal field to blame when the size fails a filter.
    pub fn field(self) -> &'static str {
        match self {
            SizeSource::Quantity | SizeSource::Minimum => "quantity",
            SizeSource::QuoteAmount => "quote_amount",
            SizeSource::SizePct => "size_pct",
            SizeSource::RiskPct => "risk_pct",
        }
    }

    /// Which input a signal's size will come from.
    pub fn of(signal: &Signal) -> Self {
        let s = &signal.sizing;
        if signal.quantity.is_some() {
            SizeSource::Quantity
        } else if s.quote_amount.is_some() {
            SizeSource::QuoteAmount
        } else if s.size_pct.is_some() {
            SizeSource::SizePct
        } else if s.risk_pct.is_some() {
            SizeSource::RiskPct
        } else {
            SizeSource::Minimum
        }
    }

    /// Whether sizing needs the account's equity.
    pub fn needs_equity(self) -> bool {
        matches!(self, SizeSource::SizePct | SizeSource::RiskPct)
    }
}

fn overflow(field: &'static str) -> DomainError {
    DomainError::invalid(field, "the size overflows")
}

/// The quantity for a buy or sell `signal` entering at `entry`, and where it came from.
/// `equity` is needed (and only used) for `size_pct` and `risk_pct`.
pub fn size(
    signal: &Signal,
    side: Side,
    rules: &SymbolRules,
    entry: Price,
    equity: Option<Decimal>,
) -> Result<(Qty, SizeSource), DomainError> {
    let source = SizeSource::of(signal);
    let field = source.field();
    // MARKET_LOT_SIZE governs MARKET orders only, as in `SymbolRules::check_order`.
    let market = signal.order_type == crate::domain::OrderType::Market;
    let equity_or_refuse = || {
        equity.ok_or_else(|| {
            DomainError::invalid(field, "needs the account equity, which is not available")
        })
    };
    let pct_of = |pct: Decimal, equity: Decimal| {
        equity
            .checked_mul(pct)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED))
            .ok_or_else(|| overflow(field))
    };
    let raw = match source {
        SizeSource::Quantity => {
            let q = signal.quantity.ok_or_else(|| overflow(field))?;
            return Ok((q, source));
        }
        SizeSource::Minimum => {
            let q = super::min_quantity(rules, entry, market)
                .ok_or_else(|| DomainError::invalid("quantity", "cannot be sized at this price"))?;
            return Ok((q, source));
        }
        SizeSource::QuoteAmount => {
            let quote = signal.sizing.quote_amount.unwrap_or_default();
            quote.checked_div(entry.0)
        }
        SizeSource::SizePct => {
            let budget = pct_of(
                signal.sizing.size_pct.unwrap_or_default(),
                equity_or_refuse()?,
            )?;
            budget.checked_div(entry.0)
        }
        SizeSource::RiskPct => {
            let stop = stop_for_risk(signal, side, entry)?;
            let distance = match side {
                Side::Buy => entry.0 - stop.0,
                Side::Sell => stop.0 - entry.0,
            };
            if distance <= Decimal::ZERO {
                let (field, place) = match side {
                    Side::Buy => ("stop_loss", "below"),
                    Side::Sell => ("stop_loss", "above"),
                };
                return Err(DomainError::invalid(
                    field,
                    format!("must be {place} the entry price {entry} to size by risk_pct"),
                ));
            }
            let risk = pct_of(
                signal.sizing.risk_pct.unwrap_or_default(),
                equity_or_refuse()?,
            )?;
            risk.checked_div(distance)
        }
    };
    let raw = raw.ok_or_else(|| overflow(field))?;
    let qty = rules
        .floor_qty(Qty(raw), market)
        .ok_or_else(|| overflow(field))?;
    let lot = if market { rules.market_lot } else { rules.lot };
    if !qty.is_positive() || qty.0 < lot.min {
        return Err(DomainError::invalid(
            field,
            format!(
                "sizes the order to {} {}, below the smallest quantity {} accepts ({})",
                qty.0.normalize(),
                rules.base_asset,
                rules.symbol,
                lot.min.normalize()
            ),
        ));
    }
    Ok((qty, source))
}

/// The stop that `risk_pct` sizes against: `stop_loss`, else `stop_loss_pct` from the entry.
fn stop_for_risk(signal: &Signal, side: Side, entry: Price) -> Result<Price, DomainError> {
    if let Some(stop) = signal.stop_loss {
        return Ok(stop);
    }
    let pct = signal.stops.stop_loss_pct.ok_or_else(|| {
        DomainError::invalid("risk_pct", "needs a stop: give stop_loss or stop_loss_pct")
    })?;
    let fraction = pct / Decimal::ONE_HUNDRED;
    let factor = match side {
        Side::Buy => Decimal::ONE - fraction,
        Side::Sell => Decimal::ONE + fraction,
    };
    entry
        .0
        .checked_mul(factor)
        .map(Price)
        .ok_or_else(|| overflow("stop_loss_pct"))
}

/// The account's equity in `quote_asset`: every balance (free + locked), the quote asset at
/// face value and any other asset at the last price of `<asset><quote_asset>`. Assets with no
/// price are left out (as `GET /v1/account` does). `None` on overflow.
pub fn equity_in(
    quote_asset: &str,
    balances: &[Balance],
    last_price: impl Fn(&Symbol) -> Option<Price>,
) -> Option<Decimal> {
    let mut equity = Decimal::ZERO;
    for b in balances {
        let amount = b.free.checked_add(b.locked)?;
        let value = if b.asset == quote_asset {
            Some(amount)
        } else {
            Symbol::new(&format!("{}{quote_asset}", b.asset))
                .ok()
                .and_then(|s| last_price(&s))
                .map(|p| amount.checked_mul(p.0))
                .map(|v| v.ok_or(()))
                .transpose()
                .ok()?
        };
        if let Some(v) = value {
            equity = equity.checked_add(v)?;
        }
    }
    Some(equity)
}

#[cfg(test)]
mod tests;
