//! The WebSocket API at `/ws-api/v3`: requests `{"id","method","params"}`, answers
//! `{"id","status","result"|"error","rateLimits"}` (shapes of `fixtures/ws_api/`). Methods:
//! `ping`, `time`, `userDataStream.subscribe.signature` (params `apiKey`, `timestamp`,
//! `signature`, optional `recvWindow`; signed over the sorted parameters), and
//! `userDataStream.unsubscribe` (optional `subscriptionId`; none = all). Every subscription
//! gets every user-data event as `{"subscriptionId":N,"event":{...}}`.
//! `userDataStream.subscribe` (which needs an Ed25519 `session.logon`) and order methods are
//! not implemented (-1020). Weights are charged against the same limiter as REST.
//!
//! The server pings every `ping_interval`, drops a connection silent to pings for
//! `PONG_TIMEOUT`, and answers pings with the same payload;
//! `POST /sim/ws/drop` ends every connection at once without a close frame.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{Message, MessageStream, Session};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

use super::auth::{self, Payload};
use super::error::ApiError;
use super::params::Params;
use super::rest::now_ms;
use super::{PONG_TIMEOUT, ServerState};

pub async fn connect(
    state: web::Data<ServerState>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let (resp, session, stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(run(state.into_inner(), session, stream));
    Ok(resp)
}

/// One connection's user-data subscriptions.
#[derive(Default)]
struct Subscriptions {
    active: Vec<u64>,
    next: u64,
}

async fn run(state: Arc<ServerState>, mut session: Session, mut stream: MessageStream) {
    let mut events = state.hub.user.subscribe();
    let mut dropped = state.hub.drop_user.subscribe();
    let mut ping = tokio::time::interval(state.ping_interval);
    ping.tick().await;
    let mut last_pong = tokio::time::Instant::now();
    let mut subs = Subscriptions::default();
    loop {
        tokio::select! {
            _ = dropped.changed() => return,
            _ = ping.tick() => {
                // No pong for a minute: Binance disconnects.
                if last_pong.elapsed() > PONG_TIMEOUT || session.ping(b"").await.is_err() {
                    return;
                }
            }
            msg = stream.recv() => match msg {
                None | Some(Err(_)) => return,
                Some(Ok(Message::Ping(p))) => {
                    if session.pong(&p).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Pong(_))) => last_pong = tokio::time::Instant::now(),
                Some(Ok(Message::Close(reason))) => {
                    let _ = session.close(reason).await;
                    return;
                }
                Some(Ok(Message::Text(text))) => {
                    let before = subs.active.is_empty();
                    let reply = request(&state, &text, &mut subs);
                    if before && !subs.active.is_empty() {
                        // Only events from now on: drop what queued while unsubscribed.
                        events = events.resubscribe();
                    }
                    if session.text(reply.to_string()).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
            },
            event = events.recv(), if !subs.active.is_empty() => match event {
                Ok(event) => {
                    for id in &subs.active {
                        let wrapped = json!({"subscriptionId": id, "event": &*event});
                        if session.text(wrapped.to_string()).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

fn rate_limits(state: &ServerState, now: i64) -> Value {
    let mut limiter = state.limiter();
    let used = limiter.usage(now).weight_1m;
    let limit = limiter.limits().weight_per_minute;
    json!([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
            "limit": limit, "count": used}])
}

/// Parameter values as the signature covers them: strings as they are, anything else as
/// its JSON text.
fn params_of(raw: Option<&Value>) -> Params {
    let map: BTreeMap<String, String> = raw
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    Params::from_map(map)
}

fn request(state: &ServerState, text: &str, subs: &mut Subscriptions) -> Value {
    let now = now_ms();
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let id = parsed.as_ref().map_or(Value::Null, |v| v["id"].clone());
    let outcome = match parsed.as_ref() {
        None => Err(ApiError::bad(
            -1102,
            "A mandatory parameter was not sent, was empty/null, or malformed.",
        )),
        Some(req) => answer(state, req, now, subs),
    };
    let limits = rate_limits(state, now);
    match outcome {
        Ok(result) => json!({"id": id, "status": 200, "result": result, "rateLimits": limits}),
        Err(e) => {
            let mut error = json!({"code": e.code, "msg": e.msg});
            if let Some(secs) = e.retry_after {
                let retry =
                    now.saturating_add(i64::try_from(secs).unwrap_or(0).saturating_mul(1000));
                error["data"] = json!({"serverTime": now, "retryAfter": retry});
            }
            json!({"id": id, "status": e.status.as_u16(), "error": error, "rateLimits": limits})
        }
    }
}

fn answer(
    state: &ServerState,
    req: &Value,
    now: i64,
    subs: &mut Subscriptions,
) -> Result<Value, ApiError> {
    let method = req["method"]
        .as_str()
        .ok_or_else(|| ApiError::mandatory("method"))?;
    let params = params_of(req.get("params"));
    match method {
        "ping" => {
            state.limiter().admit(now, 1)?;
            Ok(json!({}))
        }
        "time" => {
            state.limiter().admit(now, 1)?;
            Ok(json!({"serverTime": now}))
        }
        "userDataStream.subscribe.signature" => {
            state.limiter().admit(now, 2)?;
            let key = params.get("apiKey");
            if key.is_none() {
                return Err(ApiError::mandatory("apiKey"));
            }
            auth::check_signed(&state.credentials, key, &params, Payload::WsApi, now)?;
            let id = subs.next;
            subs.next += 1;
            subs.active.push(id);
            state.counters().user_data_subscriptions += 1;
            Ok(json!({"subscriptionId": id}))
        }
        "userDataStream.unsubscribe" => {
            state.limiter().admit(now, 2)?;
            let inactive = || ApiError::bad(-2036, "User Data Stream subscription not active.");
            match params.u64("subscriptionId")? {
                Some(id) => {
                    let before = subs.active.len();
                    subs.active.retain(|s| *s != id);
                    if subs.active.len() == before {
                        return Err(inactive());
                    }
                }
                None if subs.active.is_empty() => return Err(inactive()),
                None => subs.active.clear(),
            }
            Ok(json!({}))
        }
        "userDataStream.subscribe" | "session.logon" => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            -1002,
            "You are not authorized to execute this request.",
        )),
        _ => Err(ApiError::unsupported()),
    }
}
