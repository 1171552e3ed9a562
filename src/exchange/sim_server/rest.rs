//! The REST front door: the steps every `/api/v3/` request goes through ([`handle`]) and the
//! public endpoints. Trading and account endpoints are in [`super::orders`].
//!
//! Steps: parse parameters (query + form body) → charge the endpoint's weight (429/418 when
//! over) → for SIGNED endpoints check key, signature and time → for new orders count the order
//! (429 -1015) → run the endpoint → injected faults (answer replaced after accept, latency) →
//! answer with `X-MBX-USED-WEIGHT-1M` (and `X-MBX-ORDER-COUNT-10S`/`-1D`, plus `-1S` when
//! that limit is set, on orders). Every request, 429 and 418 is counted for `GET /sim/state`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::time::Duration;

use super::ServerState;
use super::auth::{self, Payload};
use super::error::ApiError;
use super::faults::AfterAccept;
use super::params::Params;
use super::render::fmt8;
use super::{order_lists, orders};
use crate::domain::Symbol;

/// Default hold for `AfterAccept::Hold`.
const DEFAULT_HOLD: Duration = Duration::from_millis(30_000);

/// Binance's endpoint security types that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Public (market data, ping, time).
    None,
    /// TRADE and USER_DATA: key, signature and timestamp.
    Signed,
    /// A new order: signed, and counted against the order limits.
    NewOrder,
}

/// What an endpoint answers.
pub enum Answer {
    Json(Value),
    /// A new order the venue accepted, with the fault (if any) to answer with instead.
    Accepted(Value, Option<AfterAccept>),
}

/// What an endpoint gets.
pub struct Call<'a> {
    pub state: &'a ServerState,
    pub params: Params,
    pub now_ms: i64,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs one REST request through the steps in the module doc.
pub async fn handle(
    state: &ServerState,
    req: &HttpRequest,
    body: &[u8],
    security: Security,
    weight: impl FnOnce(&Params) -> u32,
    endpoint: impl FnOnce(&Call<'_>) -> Result<Answer, ApiError>,
) -> HttpResponse {
    state.counters().rest_requests += 1;
    let outcome = run(state, req, body, security, weight, endpoint);
    let latency = state.faults().latency_ms;
    if latency > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(latency)).await;
    }
    match outcome {
        Ok(Answer::Json(v)) => respond(state, StatusCode::OK, v, None, security),
        Ok(Answer::Accepted(v, None)) => respond(state, StatusCode::OK, v, None, security),
        Ok(Answer::Accepted(_, Some(fault))) => after_accept(state, fault).await,
        Err(e) => respond(state, e.status, e.body(), e.retry_after, Security::None),
    }
}

fn run(
    state: &ServerState,
    req: &HttpRequest,
    body: &[u8],
    security: Security,
    weight: impl FnOnce(&Params) -> u32,
    endpoint: impl FnOnce(&Call<'_>) -> Result<Answer, ApiError>,
) -> Result<Answer, ApiError> {
    let now = now_ms();
    let body = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))?;
    let params = Params::parse(req.query_string(), body)?;
    state.limiter().admit(now, weight(&params))?;
    if security != Security::None {
        let key = req
            .headers()
            .get("X-MBX-APIKEY")
            .and_then(|v| v.to_str().ok());
        auth::check_signed(&state.credentials, key, &params, Payload::Rest, now)?;
    }
    if security == Security::NewOrder {
        state.limiter().admit_order(now)?;
    }
    endpoint(&Call {
        state,
        params,
        now_ms: now,
    })
}

fn respond(
    state: &ServerState,
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    security: Security,
) -> HttpResponse {
    match status.as_u16() {
        429 => state.counters().answered_429 += 1,
        418 => state.counters().answered_418 += 1,
        _ => {}
    }
    let usage = state.limiter().usage(now_ms());
    let mut b = HttpResponse::build(status);
    b.insert_header(("X-MBX-USED-WEIGHT-1M", usage.weight_1m.to_string()))
        .insert_header(("X-MBX-USED-WEIGHT", usage.weight_1m.to_string()));
    if security == Security::NewOrder {
        if state.limiter().limits().orders_per_second > 0 {
            b.insert_header(("X-MBX-ORDER-COUNT-1S", usage.orders_1s.to_string()));
        }
        b.insert_header(("X-MBX-ORDER-COUNT-10S", usage.orders_10s.to_string()))
            .insert_header(("X-MBX-ORDER-COUNT-1D", usage.orders_1d.to_string()));
    }
    if let Some(secs) = retry_after {
        b.insert_header(("Retry-After", secs.to_string()));
    }
    b.json(body)
}

/// The answer an accepted order gets instead of its own (see [`AfterAccept`]).
async fn after_accept(state: &ServerState, fault: AfterAccept) -> HttpResponse {
    let status = |s: Option<u16>| {
        s.and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
    };
    let timeout = |s| {
        ApiError::new(
            s,
            -1007,
            "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
        )
    };
    let e = match fault {
        AfterAccept::ServerError { status: s } => ApiError::new(
            status(s),
            -1006,
            "An unexpected response was received from the message bus. Execution status unknown.",
        ),
        AfterAccept::Timeout { status: s } => timeout(status(s)),
        AfterAccept::Hold { hold_ms } => {
            let hold = hold_ms.map_or(DEFAULT_HOLD, Duration::from_millis);
            actix_web::rt::time::sleep(hold).await;
            timeout(StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    respond(state, e.status, e.body(), None, Security::None)
}

/// Every `/api/v3/` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
            .route("/ping", web::get().to(ping))
            .route("/time", web::get().to(time))
            .route("/exchangeInfo", web::get().to(exchange_info))
            .route("/ticker/price", web::get().to(ticker_price))
            .route("/order", web::post().to(orders::new_order))
            .route("/order", web::get().to(orders::query_order))
            .route("/order", web::delete().to(orders::cancel_order))
            .route("/order/test", web::post().to(orders::test_order))
            .route("/openOrders", web::get().to(orders::open_orders))
            .route("/openOrders", web::delete().to(orders::cancel_open_orders))
            .route("/allOrders", web::get().to(orders::all_orders))
            .route("/myTrades", web::get().to(orders::my_trades))
            .route("/account", web::get().to(orders::account))
            .route("/rateLimit/order", web::get().to(orders::order_rate_limits))
            .route("/order/oco", web::post().to(orders::order_lists))
            .route("/orderList/oco", web::post().to(order_lists::new_oco))
            .route("/orderList", web::get().to(order_lists::query_list))
            .route("/orderList", web::delete().to(order_lists::cancel_list))
            .route("/openOrderList", web::get().to(order_lists::open_lists))
            .route("/allOrderList", web::get().to(orders::order_lists)),
    );
}

async fn ping(state: web::Data<ServerState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::None,
        |_| 1,
        |_| Ok(Answer::Json(json!({}))),
    )
    .await
}

async fn time(state: web::Data<ServerState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::None,
        |_| 1,
        |c| Ok(Answer::Json(json!({ "serverTime": c.now_ms }))),
    )
    .await
}

fn invalid_symbol() -> ApiError {
    ApiError::bad(-1121, "Invalid symbol.")
}

/// `symbol=X` or `symbols=["X","Y"]` as a list; `None` when neither is sent.
fn requested_symbols(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if p.get("symbol").is_some() {
        return Ok(Some(vec![p.symbol()?.as_str().to_string()]));
    }
    let Some(raw) = p.get("symbols") else {
        return Ok(None);
    };
    let list: Vec<String> =
        serde_json::from_str(raw).map_err(|_| ApiError::mandatory("symbols"))?;
    for s in &list {
        Symbol::new(s).map_err(|_| ApiError::illegal("symbols", "^[A-Z0-9-_.]{1,20}$"))?;
    }
    Ok(Some(list))
}

async fn exchange_info(
    state: web::Data<ServerState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    handle(
        &state,
        &req,
        &body,
        Security::None,
        |_| 20,
        |c| {
            let only = requested_symbols(&c.params)?;
            if let Some(only) = &only {
                let known =
                    |s: &String| Symbol::new(s).is_ok_and(|s| c.state.sim.price(&s).is_some());
                if !only.iter().all(known) {
                    return Err(invalid_symbol());
                }
            }
            let limits = c.state.limiter().limits().render();
            let info = super::render::exchange_info(
                &c.state.exchange_info,
                only.as_deref(),
                limits,
                c.now_ms,
            );
            Ok(Answer::Json(info))
        },
    )
    .await
}

async fn ticker_price(
    state: web::Data<ServerState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let weight = |p: &Params| if p.get("symbol").is_some() { 2 } else { 4 };
    handle(&state, &req, &body, Security::None, weight, |c| {
        let price = |s: &Symbol| -> Result<Value, ApiError> {
            let p = c.state.sim.price(s).ok_or_else(invalid_symbol)?;
            Ok(json!({"symbol": s.as_str(), "price": fmt8(p.0)}))
        };
        if c.params.get("symbol").is_some() {
            return Ok(Answer::Json(price(&c.params.symbol()?)?));
        }
        let all: Vec<Symbol> = match requested_symbols(&c.params)? {
            Some(list) => list.iter().filter_map(|s| Symbol::new(s).ok()).collect(),
            None => c
                .state
                .sim
                .last_prices()
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
        };
        let prices: Result<Vec<Value>, ApiError> = all.iter().map(price).collect();
        Ok(Answer::Json(Value::Array(prices?)))
    })
    .await
}
