//! Order lists over REST, driven by the venue's OCO (`exchange::sim::oco`):
//! `POST /api/v3/orderList/oco` (weight 1, two orders against the order limits),
//! `DELETE /api/v3/orderList` (weight 1), `GET /api/v3/orderList` (weight 4) and
//! `GET /api/v3/openOrderList` (weight 6). The deprecated `POST /api/v3/order/oco`, the other
//! list kinds and `allOrderList` answer 400 -1020 "This operation is not supported.".
//! Leg changes and the list's `listStatus` go out on the user-data stream (`events`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::ServerState;
use super::error::ApiError;
use super::orders::{client_id, not_required, order_type, time_in_force};
use super::params::Params;
use super::render::{self, RespType};
use super::rest::{Answer, Security, handle};
use crate::domain::{ClientOrderId, OcoLeg, OcoRequest, Price, Qty, Side, TimeInForce};
use crate::exchange::sim::{ListRef, ListView};

type Data = web::Data<ServerState>;

/// A client id from `name`, or a generated one.
fn id_or_new(state: &ServerState, p: &Params, name: &str) -> Result<ClientOrderId, ApiError> {
    match client_id(p, name)? {
        Some(id) => Ok(id),
        None => {
            ClientOrderId::new(&state.generate_id("sim")).map_err(|_| ApiError::mandatory(name))
        }
    }
}

/// One leg from its `above*` / `below*` parameters.
fn leg(state: &ServerState, p: &Params, pos: &str) -> Result<OcoLeg, ApiError> {
    let name = |s: &str| format!("{pos}{s}");
    let kind = order_type(p.required(&name("Type"))?)?;
    let tif = match (kind.takes_time_in_force(), p.get(&name("TimeInForce"))) {
        (true, None) => return Err(ApiError::mandatory(&name("TimeInForce"))),
        (false, Some(_)) => return Err(not_required(&name("TimeInForce"))),
        (false, None) => TimeInForce::Gtc,
        (true, Some(t)) => time_in_force(t)?,
    };
    let price = match (kind.has_limit_price(), p.decimal(&name("Price"))?) {
        (true, None) => return Err(ApiError::mandatory(&name("Price"))),
        (false, Some(_)) => return Err(not_required(&name("Price"))),
        (_, price) => price.map(Price),
    };
    let trailing_delta = p
        .get(&name("TrailingDelta"))
        .map(|raw| {
            raw.parse::<u32>()
                .map_err(|_| ApiError::mandatory(&name("TrailingDelta")))
        })
        .transpose()?;
    if kind.is_conditional() && p.get(&name("StopPrice")).is_none() && trailing_delta.is_none() {
        return Err(ApiError::bad(
            -1102,
            format!(
                "Param '{pos}StopPrice' or '{pos}TrailingDelta' must be sent, but both were empty/null!"
            ),
        ));
    }
    if p.get(&name("IcebergQty")).is_some() {
        return Err(not_required(&name("IcebergQty")));
    }
    Ok(OcoLeg {
        client_order_id: id_or_new(state, p, &name("ClientOrderId"))?,
        order_type: kind,
        price,
        stop_price: p.decimal(&name("StopPrice"))?.map(Price),
        trailing_delta,
        time_in_force: tif,
    })
}

/// The OCO and the answer shape (`newOrderRespType`; ACK by default, as for the types an
/// OCO's legs have).
fn oco_request(state: &ServerState, p: &Params) -> Result<(OcoRequest, RespType), ApiError> {
    let symbol = p.symbol()?;
    let side = match p.required("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiError::bad(-1117, "Invalid side.")),
    };
    let quantity = Qty(p
        .decimal("quantity")?
        .ok_or_else(|| ApiError::mandatory("quantity"))?);
    let resp = match p.get("newOrderRespType") {
        None | Some("ACK") => RespType::Ack,
        Some("RESULT") => RespType::Result,
        Some("FULL") => RespType::Full,
        Some(_) => {
            return Err(ApiError::bad(
                -1130,
                "Data sent for parameter 'newOrderRespType' is not valid.",
            ));
        }
    };
    let oco = OcoRequest {
        list_client_order_id: id_or_new(state, p, "listClientOrderId")?,
        symbol,
        side,
        quantity,
        above: leg(state, p, "above")?,
        below: leg(state, p, "below")?,
    };
    Ok((oco, resp))
}

/// `orderListId` or `listClientOrderId` (`origClientOrderId` on the GET), -1102 when neither.
fn list_ref(p: &Params, client_name: &str) -> Result<ListRef, ApiError> {
    if let Some(id) = p.u64("orderListId")? {
        return Ok(ListRef::Id(id));
    }
    match client_id(p, client_name)? {
        Some(id) => Ok(ListRef::Client(id)),
        None => Err(ApiError::bad(
            -1102,
            format!(
                "Param '{client_name}' or 'orderListId' must be sent, but both were empty/null!"
            ),
        )),
    }
}

pub async fn new_oco(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::NewOrder,
        |_| 1,
        |c| {
            // An OCO is two orders against the order limits; `handle` counted the first.
            c.state.limiter().admit_order(c.now_ms)?;
            let (oco, resp) = oco_request(c.state, &c.params)?;
            let ids = [
                oco.below.client_order_id.to_string(),
                oco.above.client_order_id.to_string(),
            ];
            let (list, legs) = c.state.sim.submit_oco_list(oco)?;
            {
                let mut counters = c.state.counters();
                counters.orders_accepted += 2;
                counters.client_order_ids.extend(ids);
            }
            let reports = legs.iter().map(|v| render::new_order(v, resp)).collect();
            let fault = c.state.faults().after_accept.pop_front();
            Ok(Answer::Accepted(
                render::order_list(&list, Some(reports)),
                fault,
            ))
        },
    )
    .await
}

pub async fn cancel_list(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 1,
        |c| {
            let symbol = c.params.symbol()?;
            let list = list_ref(&c.params, "listClientOrderId")?;
            let cancel_id = id_or_new(c.state, &c.params, "newClientOrderId")?;
            let (list, legs) = c.state.sim.cancel_list(&symbol, &list, Some(&cancel_id))?;
            let reports = legs
                .iter()
                .map(|v| render::canceled(v, cancel_id.as_str(), c.now_ms))
                .collect();
            Ok(Answer::Json(render::order_list(&list, Some(reports))))
        },
    )
    .await
}

pub async fn query_list(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 4,
        |c| {
            let list = list_ref(&c.params, "origClientOrderId")?;
            let (list, _) = c.state.sim.order_list_view(&list)?;
            Ok(Answer::Json(render::order_list(&list, None)))
        },
    )
    .await
}

pub async fn open_lists(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 6,
        |c| {
            let lists: Vec<ListView> = c.state.sim.open_list_views();
            Ok(Answer::Json(Value::Array(
                lists
                    .iter()
                    .map(|(l, _)| render::order_list(l, None))
                    .collect(),
            )))
        },
    )
    .await
}
