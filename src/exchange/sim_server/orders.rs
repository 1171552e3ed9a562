//! The TRADE and USER_DATA endpoints: new, test, query and cancel orders, open and all
//! orders, cancel-all, account, for every spot order type (`stopPrice`, `trailingDelta`,
//! `quoteOrderQty`). OCO lists are in `order_lists`; the other list endpoints answer 400
//! -1020 "This operation is not supported.".

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::ServerState;
use super::error::ApiError;
use super::params::Params;
use super::render::{self, RespType, fmt8};
use super::rest::{Answer, Call, Security, handle};
use crate::domain::{ClientOrderId, OrderRequest, OrderType, Price, Qty, Side, TimeInForce};
use crate::exchange::filters::check_params;
use crate::exchange::sim::{ListRef, OrderRef};

const CLIENT_ID_RANGE: &str = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$";
pub(super) fn not_required(param: &str) -> ApiError {
    ApiError::bad(
        -1106,
        format!("Parameter '{param}' sent when not required."),
    )
}

pub(super) fn client_id(p: &Params, name: &str) -> Result<Option<ClientOrderId>, ApiError> {
    p.get(name)
        .map(|raw| ClientOrderId::new(raw).map_err(|_| ApiError::illegal(name, CLIENT_ID_RANGE)))
        .transpose()
}

/// A new order's parameters as the venue's request, and the answer shape asked for.
fn order_request(state: &ServerState, p: &Params) -> Result<(OrderRequest, RespType), ApiError> {
    let symbol = p.symbol()?;
    let side = match p.required("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiError::bad(-1117, "Invalid side.")),
    };
    let order_type = order_type(p.required("type")?)?;
    if p.get("icebergQty").is_some() {
        return Err(not_required("icebergQty"));
    }
    let time_in_force = match (order_type.takes_time_in_force(), p.get("timeInForce")) {
        (true, None) => return Err(ApiError::mandatory("timeInForce")),
        (false, Some(_)) => return Err(not_required("timeInForce")),
        (false, None) => TimeInForce::Gtc,
        (true, Some(tif)) => time_in_force(tif)?,
    };
    let quote_quantity = p.decimal("quoteOrderQty")?;
    let quantity = match (p.decimal("quantity")?, order_type) {
        (Some(q), _) => Qty(q),
        // `check_params` answers a market order with neither (-1102).
        (None, OrderType::Market) => Qty::ZERO,
        (None, _) => return Err(ApiError::mandatory("quantity")),
    };
    let price = match (order_type.has_limit_price(), p.decimal("price")?) {
        (true, None) => return Err(ApiError::mandatory("price")),
        (false, Some(_)) => return Err(not_required("price")),
        (_, price) => price.map(Price),
    };
    let stop_price = p.decimal("stopPrice")?.map(Price);
    let trailing_delta = match p.get("trailingDelta") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .map_err(|_| ApiError::mandatory("trailingDelta"))?,
        ),
    };
    let client_order_id = match client_id(p, "newClientOrderId")? {
        Some(id) => id,
        None => ClientOrderId::new(&state.generate_id("sim"))
            .map_err(|_| ApiError::mandatory("newClientOrderId"))?,
    };
    let resp = match p.get("newOrderRespType") {
        // Binance: MARKET and LIMIT answer FULL by default, the other types ACK.
        None if matches!(order_type, OrderType::Market | OrderType::Limit) => RespType::Full,
        None => RespType::Ack,
        Some("FULL") => RespType::Full,
        Some("RESULT") => RespType::Result,
        Some("ACK") => RespType::Ack,
        Some(_) => {
            return Err(ApiError::bad(
                -1130,
                "Data sent for parameter 'newOrderRespType' is not valid.",
            ));
        }
    };
    let request = OrderRequest {
        client_order_id,
        symbol,
        side,
        order_type,
        quantity,
        price,
        time_in_force,
        stop_price,
        trailing_delta,
        quote_quantity,
    };
    // Binance's per-type parameter rules (-1102 / -1106 / -1128), before anything else.
    check_params(&request).map_err(|v| ApiError::bad(v.code, v.message))?;
    Ok((request, resp))
}

/// Binance's `type` names (-1116 for any other).
pub(super) fn order_type(raw: &str) -> Result<OrderType, ApiError> {
    Ok(match raw {
        "LIMIT" => OrderType::Limit,
        "MARKET" => OrderType::Market,
        "LIMIT_MAKER" => OrderType::LimitMaker,
        "STOP_LOSS" => OrderType::StopLoss,
        "STOP_LOSS_LIMIT" => OrderType::StopLossLimit,
        "TAKE_PROFIT" => OrderType::TakeProfit,
        "TAKE_PROFIT_LIMIT" => OrderType::TakeProfitLimit,
        _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
    })
}

/// Binance's `timeInForce` names (-1115 for any other).
pub(super) fn time_in_force(raw: &str) -> Result<TimeInForce, ApiError> {
    Ok(match raw {
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        _ => return Err(ApiError::bad(-1115, "Invalid timeInForce.")),
    })
}

/// `orderId` or `origClientOrderId` (-1102 when neither).
fn order_ref(p: &Params) -> Result<OrderRef, ApiError> {
    if let Some(id) = p.u64("orderId")? {
        return Ok(OrderRef::Id(id));
    }
    match client_id(p, "origClientOrderId")? {
        Some(id) => Ok(OrderRef::Client(id)),
        None => Err(ApiError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )),
    }
}

type Data = web::Data<ServerState>;

pub async fn new_order(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::NewOrder,
        |_| 1,
        |c| {
            let (request, resp) = order_request(c.state, &c.params)?;
            let id = request.client_order_id.to_string();
            let view = c.state.sim.submit_order(request)?;
            {
                let mut counters = c.state.counters();
                counters.orders_accepted += 1;
                counters.client_order_ids.insert(id);
            }
            let fault = c.state.faults().after_accept.pop_front();
            Ok(Answer::Accepted(render::new_order(&view, resp), fault))
        },
    )
    .await
}

pub async fn test_order(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let weight = |p: &Params| {
        if p.get("computeCommissionRates") == Some("true") {
            20
        } else {
            1
        }
    };
    handle(&state, &req, &body, Security::Signed, weight, |c| {
        let (request, _) = order_request(c.state, &c.params)?;
        c.state.sim.check_order(&request)?;
        if c.params.get("computeCommissionRates") != Some("true") {
            return Ok(Answer::Json(json!({})));
        }
        let (maker, taker) = c.state.sim.fee_rates();
        let zero = fmt8(rust_decimal::Decimal::ZERO);
        Ok(Answer::Json(json!({
            "standardCommissionForOrder": {"maker": fmt8(maker), "taker": fmt8(taker)},
            "specialCommissionForOrder": {"maker": zero, "taker": zero},
            "taxCommissionForOrder": {"maker": zero, "taker": zero},
            "discount": {"enabledForAccount": false, "enabledForSymbol": false,
                         "discountAsset": "BNB", "discount": zero},
        })))
    })
    .await
}

pub async fn query_order(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 4,
        |c| {
            let symbol = c.params.symbol()?;
            let view = c.state.sim.order_view(&symbol, &order_ref(&c.params)?)?;
            Ok(Answer::Json(render::order(&view)))
        },
    )
    .await
}

pub async fn cancel_order(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 1,
        |c: &Call<'_>| {
            let symbol = c.params.symbol()?;
            let order = order_ref(&c.params)?;
            let cancel_id = match client_id(&c.params, "newClientOrderId")? {
                Some(id) => id,
                None => ClientOrderId::new(&c.state.generate_id("simcxl"))
                    .map_err(|_| ApiError::mandatory("newClientOrderId"))?,
            };
            let view = c
                .state
                .sim
                .cancel_order(&symbol, &order, Some(&cancel_id))?;
            Ok(Answer::Json(render::canceled(
                &view,
                cancel_id.as_str(),
                c.now_ms,
            )))
        },
    )
    .await
}

pub async fn open_orders(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let weight = |p: &Params| if p.get("symbol").is_some() { 6 } else { 80 };
    handle(&state, &req, &body, Security::Signed, weight, |c| {
        let symbol = c.params.optional_symbol()?;
        let views = c.state.sim.open_order_views(symbol.as_ref())?;
        Ok(Answer::Json(Value::Array(
            views.iter().map(render::order).collect(),
        )))
    })
    .await
}

pub async fn cancel_open_orders(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 1,
        |c| {
            let symbol = c.params.symbol()?;
            let cancel_id = c.state.generate_id("simcxl");
            let views = c.state.sim.cancel_all_orders(&symbol, Some(&cancel_id))?;
            // Legs of an order list answer as their list, as Binance's do.
            let mut out = Vec::new();
            let mut lists = Vec::new();
            for v in &views {
                match v.order_list_id {
                    None => out.push(render::canceled(v, &cancel_id, c.now_ms)),
                    Some(id) if !lists.contains(&id) => lists.push(id),
                    Some(_) => {}
                }
            }
            for id in lists {
                let (list, legs) = c.state.sim.order_list_view(&ListRef::Id(id))?;
                let reports = legs
                    .iter()
                    .map(|v| render::canceled(v, &cancel_id, c.now_ms))
                    .collect();
                out.push(render::order_list(&list, Some(reports)));
            }
            Ok(Answer::Json(Value::Array(out)))
        },
    )
    .await
}

pub async fn all_orders(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 20,
        |c| {
            let p = &c.params;
            let symbol = p.symbol()?;
            let limit = p.u64("limit")?.unwrap_or(500);
            if !(1..=1000).contains(&limit) {
                return Err(ApiError::bad(
                    -1102,
                    "'limit' contains unexpected value. Cannot be greater than 1000.",
                ));
            }
            let from_id = p.u64("orderId")?;
            let start = p.u64("startTime")?;
            let end = p.u64("endTime")?;
            let in_time = |t: i64| {
                let t = u64::try_from(t).unwrap_or(0);
                start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
            };
            let views: Vec<_> = c
                .state
                .sim
                .all_order_views(&symbol)?
                .into_iter()
                .filter(|v| from_id.is_none_or(|id| v.order_id >= id))
                .filter(|v| in_time(render::ms(v.time)))
                .collect();
            let limit = usize::try_from(limit).unwrap_or(500);
            // From an orderId: the first `limit` from it; otherwise the most recent `limit`.
            let picked: Vec<Value> = if from_id.is_some() {
                views.iter().take(limit).map(render::order).collect()
            } else {
                let skip = views.len().saturating_sub(limit);
                views.iter().skip(skip).map(render::order).collect()
            };
            Ok(Answer::Json(Value::Array(picked)))
        },
    )
    .await
}

/// `GET /api/v3/myTrades`: the account's fills on `symbol`, oldest first; with `orderId`
/// (weight 5) one order's, else (weight 20) every order's, from trade id `fromId` or the most
/// recent `limit` (default 500, at most 1000), within `startTime`..=`endTime` if given.
pub async fn my_trades(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let weight = |p: &Params| if p.get("orderId").is_some() { 5 } else { 20 };
    handle(&state, &req, &body, Security::Signed, weight, |c| {
        let p = &c.params;
        let symbol = p.symbol()?;
        let limit = p.u64("limit")?.unwrap_or(500);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::bad(
                -1102,
                "'limit' contains unexpected value. Cannot be greater than 1000.",
            ));
        }
        let from_id = p.u64("fromId")?;
        if from_id.is_some() && p.get("orderId").is_some() {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'fromId' sent when not required.",
            ));
        }
        let (start, end) = (p.u64("startTime")?, p.u64("endTime")?);
        let views = match p.u64("orderId")? {
            Some(id) => vec![c.state.sim.order_view(&symbol, &OrderRef::Id(id))?],
            None => c.state.sim.all_order_views(&symbol)?,
        };
        let mut trades: Vec<_> = views
            .iter()
            .flat_map(|v| v.fills.iter().map(move |f| (v, f)))
            .filter(|(_, f)| from_id.is_none_or(|id| f.trade_id >= id))
            .filter(|(_, f)| {
                let t = u64::try_from(render::ms(f.ts)).unwrap_or(0);
                start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
            })
            .collect();
        trades.sort_by_key(|(_, f)| f.trade_id);
        let limit = usize::try_from(limit).unwrap_or(500);
        let skip = if from_id.is_some() {
            0
        } else {
            trades.len().saturating_sub(limit)
        };
        let out = trades
            .iter()
            .skip(skip)
            .take(limit)
            .map(|(v, f)| render::my_trade(v, f))
            .collect();
        Ok(Answer::Json(Value::Array(out)))
    })
    .await
}

pub async fn account(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 20,
        |c| {
            let mut balances = c.state.sim.account_balances();
            if c.params.get("omitZeroBalances") == Some("true") {
                balances.retain(|b| !(b.free.is_zero() && b.locked.is_zero()));
            }
            let rates = c.state.sim.fee_rates();
            Ok(Answer::Json(render::account(&balances, rates, c.now_ms)))
        },
    )
    .await
}

/// `GET /api/v3/rateLimit/order`: the order counts against the limits.
pub async fn order_rate_limits(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 40,
        |c| {
            let mut limiter = c.state.limiter();
            let (usage, limits) = (limiter.usage(c.now_ms), limiter.limits());
            let mut counts = Vec::new();
            if limits.orders_per_second > 0 {
                counts.push(
                    json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1,
                 "limit": limits.orders_per_second, "count": usage.orders_1s}),
                );
            }
            counts.extend([
                json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                 "limit": limits.orders_per_10s, "count": usage.orders_10s}),
                json!({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                 "limit": limits.orders_per_day, "count": usage.orders_1d}),
            ]);
            Ok(Answer::Json(Value::Array(counts)))
        },
    )
    .await
}

/// Order lists the venue does not match (deprecated `order/oco`, `allOrderList`):
/// authenticated like the rest, then refused.
pub async fn order_lists(state: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::Signed,
        |_| 1,
        |_| Err(ApiError::unsupported()),
    )
    .await
}
