//! The admin API: JSON under `/sim/`, no authentication, refused (403) unless the peer is on
//! loopback. Errors from the venue come back as Binance's `{"code","msg"}` with HTTP 400.
//!
//! | route | body | effect |
//! |---|---|---|
//! | `POST /sim/price` | `{"symbol":"BTCUSDT","price":"61000.00"}` | sets the last price (fills resting orders it crosses, pushes `trade`/`bookTicker`) |
//! | `POST /sim/faults/latency` | `{"ms":250}` | adds that delay to every REST answer (0 = off) |
//! | `POST /sim/faults/after-accept` | `{"kind":"server_error"\|"timeout"\|"hold","count":1,"status":503,"hold_ms":30000}` | the next `count` accepted new orders answer HTTP `status` (default 503) with -1006 (`server_error`) or -1007 (`timeout`), or (`hold`) no answer for `hold_ms` then 503 -1007 |
//! | `POST /sim/faults/rate-limit` | `{"count":2}` | the next `count` REST requests get 429 -1003 (and start a backoff: more requests during it lead to 418) |
//! | `POST /sim/faults/ban` | `{"secs":2}` | bans now: every REST and WebSocket API request gets 418 -1003 with `Retry-After` until `secs` have passed |
//! | `POST /sim/faults/user-events` | `{"action":"drop"\|"duplicate"\|"reorder","count":1}` | the next `count` user-data events are lost, sent twice, or held back and sent after the next one |
//! | `POST /sim/faults/clear` | `{}` | clears every injected fault above |
//! | `POST /sim/ws/drop` | `{"user_data":true,"market":true}` | closes every WebSocket API / market stream connection now, without a close frame |
//! | `POST /sim/limits` | any of `{"weight_per_minute","orders_per_second","orders_per_10s","orders_per_day","strikes_before_ban","ban_secs","forced_retry_after_secs"}` | changes the limits and resets counters, backoff and ban; answers the limits in force |
//! | `GET /sim/state` | | `{"orders_accepted","orders_accepted_via_server","distinct_client_order_ids","open_orders":[...],"balances":[...],"usage":{...},"limits":{...},"requests":{"rest","answered_429","answered_418","user_data_subscriptions"}}` |
//!
//! `orders_per_second` (0 = none, the default) adds an ORDERS per 1 SECOND limit; set it in
//! `SimServerSettings::limits` before a client connects so `exchangeInfo` publishes it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpResponse, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::ServerState;
use super::error::ApiError;
use super::faults::AfterAccept;
use super::render::{self, fmt8};
use super::rest::now_ms;
use crate::domain::{Price, Symbol};

type Data = web::Data<ServerState>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sim")
            .wrap(from_fn(loopback_only))
            .route("/price", web::post().to(set_price))
            .route("/faults/latency", web::post().to(latency))
            .route("/faults/after-accept", web::post().to(after_accept))
            .route("/faults/rate-limit", web::post().to(rate_limit))
            .route("/faults/ban", web::post().to(ban))
            .route("/faults/user-events", web::post().to(user_events))
            .route("/faults/clear", web::post().to(clear))
            .route("/ws/drop", web::post().to(drop_connections))
            .route("/limits", web::post().to(limits))
            .route("/state", web::get().to(state)),
    );
}

async fn loopback_only(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !req.peer_addr().is_some_and(|a| a.ip().is_loopback()) {
        return Err(actix_web::error::ErrorForbidden(
            "the admin API is loopback only",
        ));
    }
    next.call(req).await
}

fn error(e: ApiError) -> HttpResponse {
    HttpResponse::build(e.status).json(e.body())
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().json(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceBody {
    symbol: String,
    price: Decimal,
}

async fn set_price(state: Data, body: web::Json<PriceBody>) -> HttpResponse {
    let Ok(symbol) = Symbol::new(&body.symbol) else {
        return error(ApiError::bad(-1121, "Invalid symbol."));
    };
    match state.sim.set_price(&symbol, Price(body.price)) {
        Ok(()) => {
            HttpResponse::Ok().json(json!({"symbol": symbol.as_str(), "price": fmt8(body.price)}))
        }
        Err(e) => error(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyBody {
    ms: u64,
}

async fn latency(state: Data, body: web::Json<LatencyBody>) -> HttpResponse {
    state.faults().latency_ms = body.ms;
    ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AfterAcceptKind {
    ServerError,
    Timeout,
    Hold,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AfterAcceptBody {
    kind: AfterAcceptKind,
    count: Option<u32>,
    status: Option<u16>,
    hold_ms: Option<u64>,
}

async fn after_accept(state: Data, body: web::Json<AfterAcceptBody>) -> HttpResponse {
    if body
        .status
        .is_some_and(|s| !(500..=599).contains(&s) && s != 408)
    {
        return HttpResponse::BadRequest().json(json!({"error": "status must be 5xx or 408"}));
    }
    let fault = match body.kind {
        AfterAcceptKind::ServerError => AfterAccept::ServerError {
            status: body.status,
        },
        AfterAcceptKind::Timeout => AfterAccept::Timeout {
            status: body.status,
        },
        AfterAcceptKind::Hold => AfterAccept::Hold {
            hold_ms: body.hold_ms,
        },
    };
    let mut faults = state.faults();
    for _ in 0..body.count.unwrap_or(1) {
        faults.after_accept.push_back(fault);
    }
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountBody {
    count: u32,
}

async fn rate_limit(state: Data, body: web::Json<CountBody>) -> HttpResponse {
    state.limiter().force_429(body.count);
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BanBody {
    secs: u64,
}

async fn ban(state: Data, body: web::Json<BanBody>) -> HttpResponse {
    state.limiter().force_ban(now_ms(), body.secs);
    ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventAction {
    Drop,
    Duplicate,
    Reorder,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEventsBody {
    action: EventAction,
    count: u32,
}

async fn user_events(state: Data, body: web::Json<UserEventsBody>) -> HttpResponse {
    let mut f = state.faults();
    let slot = match body.action {
        EventAction::Drop => &mut f.drop_user_events,
        EventAction::Duplicate => &mut f.duplicate_user_events,
        EventAction::Reorder => &mut f.reorder_user_events,
    };
    *slot = slot.saturating_add(body.count);
    ok()
}

async fn clear(state: Data) -> HttpResponse {
    *state.faults() = Default::default();
    state.limiter().clear_forced();
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropBody {
    #[serde(default = "yes")]
    user_data: bool,
    #[serde(default = "yes")]
    market: bool,
}

fn yes() -> bool {
    true
}

async fn drop_connections(state: Data, body: web::Json<DropBody>) -> HttpResponse {
    if body.user_data {
        state.hub.drop_user.send_modify(|n| *n += 1);
    }
    if body.market {
        state.hub.drop_market.send_modify(|n| *n += 1);
    }
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsBody {
    weight_per_minute: Option<u32>,
    orders_per_second: Option<u32>,
    orders_per_10s: Option<u32>,
    orders_per_day: Option<u32>,
    strikes_before_ban: Option<u32>,
    ban_secs: Option<u64>,
    forced_retry_after_secs: Option<u64>,
}

async fn limits(state: Data, body: web::Json<LimitsBody>) -> HttpResponse {
    let mut limiter = state.limiter();
    let mut l = limiter.limits();
    let b = body.into_inner();
    l.weight_per_minute = b.weight_per_minute.unwrap_or(l.weight_per_minute);
    l.orders_per_second = b.orders_per_second.unwrap_or(l.orders_per_second);
    l.orders_per_10s = b.orders_per_10s.unwrap_or(l.orders_per_10s);
    l.orders_per_day = b.orders_per_day.unwrap_or(l.orders_per_day);
    l.strikes_before_ban = b.strikes_before_ban.unwrap_or(l.strikes_before_ban);
    l.ban_secs = b.ban_secs.unwrap_or(l.ban_secs);
    l.forced_retry_after_secs = b
        .forced_retry_after_secs
        .unwrap_or(l.forced_retry_after_secs);
    limiter.set_limits(l);
    HttpResponse::Ok().json(l)
}

async fn state(state: Data) -> HttpResponse {
    let open: Vec<_> = state
        .sim
        .open_order_views(None)
        .unwrap_or_default()
        .iter()
        .map(render::order)
        .collect();
    let balances: Vec<_> = state
        .sim
        .account_balances()
        .iter()
        .map(|b| json!({"asset": b.asset, "free": fmt8(b.free), "locked": fmt8(b.locked)}))
        .collect();
    let (via_server, distinct, requests) = {
        let c = state.counters();
        let requests = json!({
            "rest": c.rest_requests,
            "answered_429": c.answered_429,
            "answered_418": c.answered_418,
            "user_data_subscriptions": c.user_data_subscriptions,
        });
        (c.orders_accepted, c.client_order_ids.len(), requests)
    };
    let (usage, limits) = {
        let mut l = state.limiter();
        (l.usage(now_ms()), l.limits())
    };
    HttpResponse::Ok().json(json!({
        "orders_accepted": state.sim.order_count(),
        "orders_accepted_via_server": via_server,
        "distinct_client_order_ids": distinct,
        "open_orders": open,
        "balances": balances,
        "usage": usage,
        "limits": limits,
        "requests": requests,
    }))
}
