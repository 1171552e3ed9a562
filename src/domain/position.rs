//! Position arithmetic for one symbol: quantity, average entry, realized PnL net of fees, and
//! unrealized PnL at the last mark. Pure and exact (`Decimal`, checked operations); the position
//! actor owns one of these and feeds it fills and prices.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::{Fill, Price, Symbol};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    #[error("arithmetic overflow applying fill {trade_id}")]
    Overflow { trade_id: u64 },
    #[error("fill {trade_id} is for {got}, this position is {expected}")]
    WrongSymbol {
        trade_id: u64,
        expected: Symbol,
        got: Symbol,
    },
}

/// A signed spot position (positive = long). Fees are valued in the quote asset: a commission
/// charged in the base asset (Binance charges buys in the asset received) reduces the quantity
/// held and is valued at the fill price; one in any other asset is not valued here yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Position {
    #[schema(value_type = String)]
    pub symbol: Symbol,
    #[schema(value_type = String)]
    pub base_asset: Arc<str>,
    #[schema(value_type = String)]
    pub quote_asset: Arc<str>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub average_entry_price: Decimal,
    /// Realized profit net of every fee paid on this symbol, in the quote asset.
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    #[schema(value_type = String)]
    pub unrealized_pnl: Decimal,
    /// Total fees paid, valued in the quote asset.
    #[schema(value_type = String)]
    pub fees: Decimal,
    #[schema(value_type = Option<String>)]
    pub last_price: Option<Price>,
    pub fill_count: u64,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Position {
    pub fn new(symbol: Symbol, base_asset: Arc<str>, quote_asset: Arc<str>) -> Self {
        Self {
            symbol,
            base_asset,
            quote_asset,
            quantity: Decimal::ZERO,
            average_entry_price: Decimal::ZERO,
            realized_pnl: Decimal::ZERO,
            unrealized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            last_price: None,
            fill_count: 0,
            updated_at: None,
        }
    }

    pub fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }

    /// Applies one fill. On error the position is left exactly as it was.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<(), PositionError> {
        if fill.symbol != self.symbol {
            return Err(PositionError::WrongSymbol {
                trade_id: fill.trade_id,
                expected: self.symbol.clone(),
                got: fill.symbol.clone(),
            });
        }
        let mut next = self.clone();
        next.apply_unchecked(fill).ok_or(PositionError::Overflow {
            trade_id: fill.trade_id,
        })?;
        *self = next;
        Ok(())
    }

    /// The arithmetic of `apply_fill`; `None` on overflow (the caller discards the copy).
    fn apply_unchecked(&mut self, fill: &Fill) -> Option<()> {
        let price = fill.price.0;
        let asset = fill.commission_asset.as_ref();
        let fee_in_quote = if asset == self.quote_asset.as_ref() {
            fill.commission
        } else if asset == self.base_asset.as_ref() {
            fill.commission.checked_mul(price)?
        } else {
            Decimal::ZERO
        };
        let delta = fill.base_change(&self.base_asset)?;

        let old = self.quantity;
        let same_direction = old.is_zero() || old.is_sign_positive() == delta.is_sign_positive();
        if same_direction {
            let old_cost = old.abs().checked_mul(self.average_entry_price)?;
            let add_cost = delta.abs().checked_mul(price)?;
            let new_qty = old.checked_add(delta)?;
            if !new_qty.is_zero() {
                self.average_entry_price =
                    old_cost.checked_add(add_cost)?.checked_div(new_qty.abs())?;
            }
            self.quantity = new_qty;
        } else {
            let closed = delta.abs().min(old.abs());
            let per_unit = price.checked_sub(self.average_entry_price)?;
            let gain = closed.checked_mul(per_unit)?;
            let gain = if old.is_sign_positive() { gain } else { -gain };
            self.realized_pnl = self.realized_pnl.checked_add(gain)?;
            let new_qty = old.checked_add(delta)?;
            if new_qty.is_zero() {
                self.average_entry_price = Decimal::ZERO;
            } else if new_qty.is_sign_positive() != old.is_sign_positive() {
                // Flipped through flat: the remainder opens at this fill's price.
                self.average_entry_price = price;
            }
            self.quantity = new_qty;
        }

        self.realized_pnl = self.realized_pnl.checked_sub(fee_in_quote)?;
        self.fees = self.fees.checked_add(fee_in_quote)?;
        self.fill_count += 1;
        self.updated_at = Some(self.updated_at.map_or(fill.ts, |t| t.max(fill.ts)));
        self.last_price.get_or_insert(fill.price);
        self.remark()
    }

    /// Marks the position to `price`: unrealized PnL is recomputed.
    pub fn mark(&mut self, price: Price) {
        self.last_price = Some(price);
        if self.remark().is_none() {
            // Only reachable with absurd magnitudes; keep the last good value rather than panic.
            tracing::warn!(symbol = %self.symbol, "unrealized PnL overflowed; left unchanged");
        }
    }

    fn remark(&mut self) -> Option<()> {
        let Some(last) = self.last_price else {
            return Some(());
        };
        self.unrealized_pnl = if self.quantity.is_zero() {
            Decimal::ZERO
        } else {
            last.0
                .checked_sub(self.average_entry_price)?
                .checked_mul(self.quantity)?
        };
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClientOrderId, Qty, Side};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn fill(id: u64, side: Side, qty: &str, price: &str, fee: &str, fee_asset: &str) -> Fill {
        Fill {
            trade_id: id,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            client_order_id: ClientOrderId::new("x").unwrap(),
            side,
            quantity: Qty(d(qty)),
            price: Price(d(price)),
            commission: d(fee),
            commission_asset: Arc::from(fee_asset),
            is_maker: false,
            ts: Utc::now(),
        }
    }

    fn btc() -> Position {
        Position::new(
            Symbol::new("BTCUSDT").unwrap(),
            Arc::from("BTC"),
            Arc::from("USDT"),
        )
    }

    #[test]
    fn buy_partial_sell_close_realizes_exact_pnl_net_of_fees() {
        let mut p = btc();
        p.apply_fill(&fill(1, Side::Buy, "2", "100", "0.2", "USDT"))
            .unwrap();
        p.apply_fill(&fill(2, Side::Buy, "1", "130", "0.13", "USDT"))
            .unwrap();
        assert_eq!(p.quantity, d("3"));
        assert_eq!(p.average_entry_price, d("110"));
        p.apply_fill(&fill(3, Side::Sell, "1", "120", "0.12", "USDT"))
            .unwrap();
        // (120 - 110) * 1 - 0.2 - 0.13 - 0.12
        assert_eq!(p.realized_pnl, d("9.55"));
        p.apply_fill(&fill(4, Side::Sell, "2", "105", "0.21", "USDT"))
            .unwrap();
        // 9.55 + (105 - 110) * 2 - 0.21
        assert_eq!(p.realized_pnl, d("-0.66"));
        assert_eq!(p.fees, d("0.66"));
        assert!(p.is_flat());
        assert_eq!(p.unrealized_pnl, Decimal::ZERO);
    }

    #[test]
    fn base_asset_commission_reduces_quantity_and_is_valued_at_fill_price() {
        let mut p = btc();
        p.apply_fill(&fill(1, Side::Buy, "1", "100", "0.001", "BTC"))
            .unwrap();
        assert_eq!(p.quantity, d("0.999"));
        assert_eq!(p.fees, d("0.1"));
        assert_eq!(p.realized_pnl, d("-0.1"));
        p.mark(Price(d("110")));
        assert_eq!(p.unrealized_pnl, d("9.99"));
    }

    #[test]
    fn selling_through_flat_opens_a_short_at_the_fill_price() {
        let mut p = btc();
        p.apply_fill(&fill(1, Side::Buy, "1", "100", "0", "USDT"))
            .unwrap();
        p.apply_fill(&fill(2, Side::Sell, "3", "90", "0", "USDT"))
            .unwrap();
        assert_eq!(p.quantity, d("-2"));
        assert_eq!(p.average_entry_price, d("90"));
        assert_eq!(p.realized_pnl, d("-10"));
        p.mark(Price(d("80")));
        assert_eq!(p.unrealized_pnl, d("20"));
    }

    #[test]
    fn a_fill_for_another_symbol_changes_nothing() {
        let mut p = btc();
        let mut f = fill(1, Side::Buy, "1", "100", "0", "USDT");
        f.symbol = Symbol::new("ETHUSDT").unwrap();
        let before = p.clone();
        assert!(p.apply_fill(&f).is_err());
        assert_eq!(p, before);
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let mut p = btc();
        let huge = Decimal::MAX.to_string();
        p.apply_fill(&fill(1, Side::Buy, &huge, "1", "0", "USDT"))
            .unwrap();
        let before = p.clone();
        assert!(
            p.apply_fill(&fill(2, Side::Buy, &huge, "2", "0", "USDT"))
                .is_err()
        );
        assert_eq!(p, before);
    }
}
