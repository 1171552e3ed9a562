//! One order as the simulated venue keeps it (`OrderRecord`), how a fill is applied to it and to
//! the balances (`OrderRecord::execute`), and the Binance-style errors the venue answers with.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use std::sync::Arc;

use super::account::{Account, AccountError};
use super::views::OrderView;
use crate::domain::{Fill, OrderReport, OrderRequest, OrderStatus, OrderTerms, Price, Qty, Side};
use crate::exchange::filters::SymbolRules;
use crate::exchange::{CODE_BAD_SYMBOL, CODE_INVALID_MESSAGE, ExchangeError};

/// Commission is rounded to this many decimal places (Binance's commission precision).
const COMMISSION_DP: u32 = 8;

pub fn rejected(code: i64, message: &str) -> ExchangeError {
    ExchangeError::Rejected {
        code,
        message: message.to_string(),
    }
}

pub fn bad_symbol() -> ExchangeError {
    rejected(CODE_BAD_SYMBOL, "Invalid symbol.")
}

pub fn filter_failure(filter: &str) -> ExchangeError {
    ExchangeError::Rejected {
        code: CODE_INVALID_MESSAGE,
        message: format!("Filter failure: {filter}"),
    }
}

pub fn overflow() -> ExchangeError {
    rejected(CODE_INVALID_MESSAGE, "Arithmetic overflow.")
}

/// A balance operation failed after the order was already accepted (only reachable with
/// balances near `Decimal::MAX`): the caller cannot know exactly what happened.
pub fn broken(e: AccountError) -> ExchangeError {
    ExchangeError::UnknownOutcome(format!("sim: balance update failed after accept ({e:?})"))
}

/// Everything the venue remembers about one order.
pub struct OrderRecord {
    /// The request as accepted (for reports and matching).
    pub request: OrderRequest,
    /// The venue's id (increasing counter).
    pub exchange_order_id: u64,
    /// Where the order is in its lifecycle (open ones may still fill or be canceled).
    pub status: OrderStatus,
    /// Base quantity filled so far.
    pub executed_qty: Qty,
    /// Σ price × qty over the fills (Binance's `cummulativeQuoteQty`).
    pub cumulative_quote: Decimal,
    /// Every fill, for `query`'s full answer.
    pub fills: Vec<Fill>,
    /// The asset this order reserved (quote for buys, base for sells).
    pub lock_asset: Arc<str>,
    /// How much of `lock_asset` is still reserved for the unfilled rest; released when the
    /// order ends unfilled, so locked balances are exact.
    pub locked: Decimal,
    /// Time of the latest change (the report's `ts`).
    pub updated: DateTime<Utc>,
    /// When the venue accepted the order (Binance's `time` / `workingTime`).
    pub created: DateTime<Utc>,
    /// When it started working: on acceptance, or when its trigger fired (Binance's
    /// `workingTime`); `None` while a conditional order waits.
    pub working: Option<DateTime<Utc>>,
    /// The order list this order is a leg of (Binance's `orderListId`), if any.
    pub list_id: Option<u64>,
}

impl OrderRecord {
    pub fn report(&self, fills: Vec<Fill>) -> OrderReport {
        OrderReport {
            client_order_id: self.request.client_order_id.clone(),
            exchange_order_id: self.exchange_order_id,
            symbol: self.request.symbol.clone(),
            status: self.status,
            executed_qty: self.executed_qty,
            cumulative_quote: self.cumulative_quote,
            fills,
            ts: self.updated,
            terms: Some(OrderTerms {
                side: self.request.side,
                order_type: self.request.order_type,
                time_in_force: self.request.time_in_force,
                quantity: self.request.quantity,
                price: self.request.price,
            }),
        }
    }

    /// The full view of the order now, with all of its fills.
    pub fn view(&self) -> OrderView {
        let r = &self.request;
        OrderView {
            symbol: r.symbol.clone(),
            order_id: self.exchange_order_id,
            client_order_id: r.client_order_id.clone(),
            side: r.side,
            order_type: r.order_type,
            time_in_force: r.time_in_force,
            price: r.price,
            stop_price: r.stop_price,
            trailing_delta: r.trailing_delta,
            quote_quantity: r.quote_quantity,
            order_list_id: self.list_id,
            orig_qty: r.quantity,
            executed_qty: self.executed_qty,
            cumulative_quote: self.cumulative_quote,
            status: self.status,
            time: self.created,
            update_time: self.updated,
            working_time: self.working,
            fills: self.fills.clone(),
        }
    }

    /// Applies one execution of `qty` at `price`: settles balances, records the fill.
    pub fn execute(
        &mut self,
        account: &mut Account,
        rules: &SymbolRules,
        exec: Execution,
    ) -> Result<Fill, ExchangeError> {
        let Execution {
            price,
            qty,
            fee_rate,
            is_maker,
            trade_id,
            ts,
        } = exec;
        let quote = qty.0.checked_mul(price.0).ok_or_else(overflow)?;
        let side = self.request.side;
        let (pay_locked, commission, commission_asset) = match side {
            Side::Buy => {
                let at = self.request.price.unwrap_or(price);
                let pay = qty.0.checked_mul(at.0).ok_or_else(overflow)?;
                (pay, qty.0.checked_mul(fee_rate), &rules.base_asset)
            }
            Side::Sell => (qty.0, quote.checked_mul(fee_rate), &rules.quote_asset),
        };
        let commission = commission
            .ok_or_else(overflow)?
            .round_dp_with_strategy(COMMISSION_DP, RoundingStrategy::MidpointAwayFromZero);
        let settled = match side {
            Side::Buy => account.settle(
                &rules.quote_asset,
                pay_locked,
                pay_locked - quote,
                Some((&rules.base_asset, qty.0 - commission)),
            ),
            Side::Sell => account.settle(
                &rules.base_asset,
                pay_locked,
                Decimal::ZERO,
                Some((&rules.quote_asset, quote - commission)),
            ),
        };
        settled.map_err(broken)?;
        self.locked -= pay_locked;
        self.executed_qty = Qty(self.executed_qty.0 + qty.0);
        self.cumulative_quote = self
            .cumulative_quote
            .checked_add(quote)
            .ok_or_else(overflow)?;
        self.updated = ts;
        let fill = Fill {
            trade_id,
            symbol: self.request.symbol.clone(),
            client_order_id: self.request.client_order_id.clone(),
            side,
            quantity: qty,
            price,
            commission,
            commission_asset: Arc::clone(commission_asset),
            is_maker,
            ts,
        };
        self.fills.push(fill.clone());
        Ok(fill)
    }

    /// Ends the order in `status`, returning whatever it still has reserved.
    pub fn close(
        &mut self,
        account: &mut Account,
        status: OrderStatus,
    ) -> Result<(), ExchangeError> {
        self.status = status;
        if !self.locked.is_zero() {
            account
                .release(&self.lock_asset, self.locked)
                .map_err(broken)?;
            self.locked = Decimal::ZERO;
        }
        Ok(())
    }
}

/// The parameters of one execution.
pub struct Execution {
    /// The fill price (a level's price, or the limit for a resting order).
    pub price: Price,
    /// The fill quantity.
    pub qty: Qty,
    /// Taker or maker commission rate, whichever applies.
    pub fee_rate: Decimal,
    /// Whether the order was resting (maker) rather than taking liquidity.
    pub is_maker: bool,
    /// The venue's trade id for this fill.
    pub trade_id: u64,
    /// When the fill happened.
    pub ts: DateTime<Utc>,
}
