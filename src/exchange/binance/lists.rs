//! Order lists on Binance: an OCO placed with `POST /api/v3/orderList/oco` (weight 1, two
//! orders against the ORDERS limits) and canceled with `DELETE /api/v3/orderList` (weight 1)
//! by its `listClientOrderId`. Both answers become an `OrderListReport` with each leg's report.

use reqwest::Method;

use super::endpoints::{side_name, tif_name, unreadable};
use super::models::WireOrderList;
use super::parse;
use super::rest::{Call, Rest};
use crate::domain::{ClientOrderId, OcoLeg, OcoRequest, OrderListReport, Symbol};
use crate::exchange::ExchangeError;

/// One leg's parameters under its `above` / `below` names: type, the engine's id, and price,
/// stop price, trailing delta and time in force where the type takes them.
fn leg_params(call: Call, leg: &OcoLeg, names: [&'static str; 6]) -> Call {
    let [kind, id, price, stop, trailing, tif] = names;
    let t = leg.order_type;
    let mut call = call
        .param(kind, t.as_binance())
        .param(id, leg.client_order_id.as_str());
    if let Some(p) = leg.price.filter(|_| t.has_limit_price()) {
        call = call.param(price, p.to_string());
    }
    if let Some(p) = leg.stop_price {
        call = call.param(stop, p.to_string());
    }
    if let Some(d) = leg.trailing_delta {
        call = call.param(trailing, d.to_string());
    }
    if t.takes_time_in_force() {
        call = call.param(tif, tif_name(leg.time_in_force));
    }
    call
}

/// The `POST /api/v3/orderList/oco` for `oco`, answered in FULL.
pub fn oco_call(oco: &OcoRequest) -> Call {
    let call = Call::new(Method::POST, "/api/v3/orderList/oco", 1)
        .signed()
        .orders(2)
        .param("symbol", oco.symbol.as_str())
        .param("listClientOrderId", oco.list_client_order_id.as_str())
        .param("side", side_name(oco.side))
        .param("quantity", oco.quantity.to_string());
    let above = [
        "aboveType",
        "aboveClientOrderId",
        "abovePrice",
        "aboveStopPrice",
        "aboveTrailingDelta",
        "aboveTimeInForce",
    ];
    let below = [
        "belowType",
        "belowClientOrderId",
        "belowPrice",
        "belowStopPrice",
        "belowTrailingDelta",
        "belowTimeInForce",
    ];
    let call = leg_params(call, &oco.above, above);
    leg_params(call, &oco.below, below).param("newOrderRespType", "FULL")
}

pub async fn submit_oco(rest: &Rest, oco: &OcoRequest) -> Result<OrderListReport, ExchangeError> {
    let answer: WireOrderList = rest.json(&oco_call(oco)).await?;
    parse::order_list_report(&answer, Some(oco.side)).map_err(unreadable)
}

/// The `DELETE /api/v3/orderList` for the list the engine named `list_client_order_id`.
pub fn cancel_list_call(symbol: &Symbol, list_client_order_id: &ClientOrderId) -> Call {
    Call::new(Method::DELETE, "/api/v3/orderList", 1)
        .signed()
        .param("symbol", symbol.as_str())
        .param("listClientOrderId", list_client_order_id.as_str())
}

pub async fn cancel_order_list(
    rest: &Rest,
    symbol: &Symbol,
    list_client_order_id: &ClientOrderId,
) -> Result<OrderListReport, ExchangeError> {
    let call = cancel_list_call(symbol, list_client_order_id);
    let answer: WireOrderList = rest.json(&call).await?;
    parse::order_list_report(&answer, None).map_err(unreadable)
}
