//! Which parameters each order type needs and refuses, as Binance's `POST /api/v3/order`
//! table says ("Additional mandatory parameters based on type"). These are request errors
//! (-1102 / -1106 / -1128), checked before any filter; the messages are Binance's.

use crate::domain::{OrderRequest, OrderType};

/// Binance's code for a missing or malformed mandatory parameter.
pub const CODE_MANDATORY_PARAM: i64 = -1102;
/// Binance's code for a parameter sent to a type that does not take it.
pub const CODE_PARAM_NOT_REQUIRED: i64 = -1106;
/// Binance's code for optional parameters that cannot go together.
pub const CODE_BAD_PARAM_COMBO: i64 = -1128;

/// A request-shape error: Binance's code and message, and our field name for the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamViolation {
    pub code: i64,
    pub field: &'static str,
    pub message: String,
}

fn violation(code: i64, field: &'static str, message: impl Into<String>) -> ParamViolation {
    ParamViolation {
        code,
        field,
        message: message.into(),
    }
}

fn mandatory(field: &'static str, binance: &str) -> ParamViolation {
    violation(
        CODE_MANDATORY_PARAM,
        field,
        format!("Mandatory parameter '{binance}' was not sent, was empty/null, or malformed."),
    )
}

fn not_required(field: &'static str, binance: &str) -> ParamViolation {
    violation(
        CODE_PARAM_NOT_REQUIRED,
        field,
        format!("Parameter '{binance}' sent when not required."),
    )
}

/// Checks the parameters `order` carries against its type:
/// - LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT need `price`;
/// - STOP_LOSS(_LIMIT) and TAKE_PROFIT(_LIMIT) need `stopPrice` or `trailingDelta` (or both);
///   no other type takes either;
/// - MARKET needs `quantity` or `quoteOrderQty`, not both; no other type takes `quoteOrderQty`.
///
/// A `price` on a type without one (MARKET, STOP_LOSS, TAKE_PROFIT) is not refused here: the
/// venue ignores it, as the simulator always has for market orders.
pub fn check_params(order: &OrderRequest) -> Result<(), ParamViolation> {
    let kind = order.order_type;
    if kind.has_limit_price() && order.price.is_none() {
        return Err(mandatory("price", "price"));
    }
    if kind.is_conditional() {
        if order.stop_price.is_none() && order.trailing_delta.is_none() {
            return Err(violation(
                CODE_MANDATORY_PARAM,
                "stop_price",
                "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
            ));
        }
        if order.stop_price.is_some_and(|p| !p.is_positive()) {
            return Err(mandatory("stop_price", "stopPrice"));
        }
        if order.trailing_delta == Some(0) {
            return Err(mandatory("trailing_delta", "trailingDelta"));
        }
    } else {
        if order.stop_price.is_some() {
            return Err(not_required("stop_price", "stopPrice"));
        }
        if order.trailing_delta.is_some() {
            return Err(not_required("trailing_delta", "trailingDelta"));
        }
    }
    match (kind, order.quote_quantity) {
        (OrderType::Market, Some(_)) if order.quantity.is_positive() => Err(violation(
            CODE_BAD_PARAM_COMBO,
            "quote_quantity",
            "Combination of optional parameters invalid.",
        )),
        (OrderType::Market, Some(q)) if q <= rust_decimal::Decimal::ZERO => {
            Err(mandatory("quote_quantity", "quoteOrderQty"))
        }
        (OrderType::Market, None) if !order.quantity.is_positive() => Err(violation(
            CODE_MANDATORY_PARAM,
            "quantity",
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        )),
        (OrderType::Market, _) => Ok(()),
        (_, Some(_)) => Err(not_required("quote_quantity", "quoteOrderQty")),
        (_, None) => Ok(()),
    }
}
