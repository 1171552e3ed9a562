//! Admission of a new order: every check Binance makes before an order exists, in its order,
//! and what the order will reserve. Nothing here changes the venue (the book is only planned
//! against), so a refusal leaves everything as it was.
//!
//! Beyond the plain checks (symbol, trading status, parameters per type, filters, duplicate
//! client id, balance):
//! - LIMIT_MAKER is refused with -2010 "Order would immediately match and take." if any of it
//!   would fill on arrival.
//! - A conditional order whose stop condition already holds at the last price is refused with
//!   -2010 "Order would trigger immediately." (see `trigger`).
//! - A market order by quote amount gets the base quantity the levels give for that amount,
//!   rounded down to the MARKET_LOT_SIZE step (so it never spends, or receives, more than asked),
//!   then checked like any market order.

use rust_decimal::Decimal;
use std::sync::Arc;

use super::order::{filter_failure, overflow, rejected};
use super::trigger::Trigger;
use super::venue::Venue;
use crate::domain::{OrderRequest, OrderType, Qty, Side, TimeInForce};
use crate::exchange::filters::check_params;
use crate::exchange::{CODE_INVALID_MESSAGE, CODE_NEW_ORDER_REJECTED, ExchangeError};

/// An order that passed every check, with what accepting it will reserve.
pub(super) struct Admission {
    /// The request as it will be recorded: a price on a type without one dropped, the time in
    /// force of a type that takes none set to GTC, a quote-sized order's quantity filled in.
    pub order: OrderRequest,
    /// The asset the order reserves: quote for buys, base for sells.
    pub lock_asset: Arc<str>,
    /// How much of it: `qty × price` for a buy with a limit price, the sweep's exact cost for
    /// a market buy, nothing for a stop-market buy (it reserves its cost when it triggers),
    /// `qty` for any sell.
    pub need: Decimal,
    /// The trigger of a conditional order, tracking from the last price at admission.
    pub trigger: Option<Trigger>,
}

impl Venue {
    /// Checks a new order against the venue as it is now. A refusal changes nothing.
    pub(super) fn admit(&mut self, order: OrderRequest) -> Result<Admission, ExchangeError> {
        let order = self.check_alone(order)?;
        let market = self
            .markets
            .get(&order.symbol)
            .ok_or_else(super::order::bad_symbol)?;
        let rules = &market.rules;
        let (kind, side, last) = (order.order_type, order.side, market.book.price());
        let open_twin = market
            .by_client
            .get(&order.client_order_id)
            .and_then(|id| self.orders.get(id))
            .is_some_and(|o| o.status.is_open());
        if open_twin {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Duplicate order sent."));
        }
        let trigger = Trigger::new(kind, side, order.stop_price, order.trailing_delta, last)
            .map_err(|_| rejected(CODE_NEW_ORDER_REJECTED, "Order would trigger immediately."))?;
        let qty = order.quantity;
        if kind == OrderType::LimitMaker {
            let takes = market
                .book
                .plan(side, qty, order.price, &mut self.takes)
                .ok_or_else(overflow)?;
            if takes.filled.is_positive() {
                return Err(rejected(
                    CODE_NEW_ORDER_REJECTED,
                    "Order would immediately match and take.",
                ));
            }
        }
        let (lock_asset, need) = match (side, order.price) {
            (Side::Sell, _) => (&rules.base_asset, qty.0),
            (Side::Buy, Some(l)) => (
                &rules.quote_asset,
                qty.0.checked_mul(l.0).ok_or_else(overflow)?,
            ),
            (Side::Buy, None) if kind == OrderType::Market => {
                let sweep = market
                    .book
                    .plan(side, qty, None, &mut self.takes)
                    .ok_or_else(overflow)?;
                (&rules.quote_asset, sweep.quote)
            }
            (Side::Buy, None) => (&rules.quote_asset, Decimal::ZERO),
        };
        Ok(Admission {
            lock_asset: Arc::clone(lock_asset),
            need,
            trigger,
            order,
        })
    }

    /// The checks on the order alone (Binance's `order/test` makes these): symbol, trading
    /// status, parameters per type, positive quantity and price, filters; a quote-sized market
    /// order gets its base quantity here. Answers the request as it will be recorded.
    pub(super) fn check_alone(
        &mut self,
        order: OrderRequest,
    ) -> Result<OrderRequest, ExchangeError> {
        let market = self
            .markets
            .get(&order.symbol)
            .ok_or_else(super::order::bad_symbol)?;
        if !market.rules.trading {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Market is closed."));
        }
        check_params(&order).map_err(|v| rejected(v.code, &v.message))?;
        let mut order = order;
        let kind = order.order_type;
        if !kind.has_limit_price() {
            // Played no part in matching; dropping it keeps settlement at fill prices.
            order.price = None;
        }
        if !kind.takes_time_in_force() {
            order.time_in_force = TimeInForce::Gtc;
        }
        if !order.by_quote() && !order.quantity.is_positive() {
            return Err(rejected(CODE_INVALID_MESSAGE, "Invalid quantity."));
        }
        if order.price.is_some_and(|l| !l.is_positive()) {
            return Err(rejected(CODE_INVALID_MESSAGE, "Invalid price."));
        }
        let last = market.book.price();
        let rules = &market.rules;
        rules
            .check_order(&order, Some(last))
            .map_err(|v| filter_failure(v.filter))?;
        let side = order.side;
        if let Some(quote) = order.quote_quantity {
            let raw = market
                .book
                .quantity_for_quote(side, quote)
                .ok_or_else(overflow)?;
            if raw.is_zero() {
                return Err(rejected(
                    CODE_NEW_ORDER_REJECTED,
                    "Order book liquidity is less than symbol minimum quantity.",
                ));
            }
            let mut qty = rules.floor_qty(Qty(raw), true).ok_or_else(overflow)?;
            if side == Side::Buy {
                // Division rounding can land a hair above the exact quantity; never overspend.
                let cost = market
                    .book
                    .plan(side, qty, None, &mut self.takes)
                    .ok_or_else(overflow)?
                    .quote;
                if cost > quote {
                    qty = Qty(qty.0 - rules.market_lot.step);
                }
            }
            if !qty.is_positive() {
                return Err(filter_failure("MARKET_LOT_SIZE"));
            }
            order.quantity = qty;
            let sized = OrderRequest {
                quote_quantity: None,
                ..order.clone()
            };
            rules
                .check_order(&sized, Some(last))
                .map_err(|v| filter_failure(v.filter))?;
        }
        Ok(order)
    }
}
