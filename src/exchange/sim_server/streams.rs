//! Market streams: raw `/ws/<stream>` (several joined by `/`; `/ws` alone takes them by
//! `SUBSCRIBE`) sends each payload as is;
//! combined `/stream?streams=a/b` wraps it as `{"stream":..,"data":..}`. Streams:
//! `<symbol>@trade` (one per price update of the venue; `q` is the quantity left on the
//! synthetic level at the new price) and `<symbol>@bookTicker` (the synthetic book's top after
//! each price update). Names are lowercase, as on Binance (`BTCUSDT@trade` matches nothing).
//! `SUBSCRIBE`, `UNSUBSCRIBE` and `LIST_SUBSCRIPTIONS` messages are answered as Binance does.
//! `POST /sim/ws/drop` ends every connection at once without a close frame.

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{Message, MessageStream, Session};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

use super::{PONG_TIMEOUT, ServerState};

type Data = web::Data<ServerState>;

pub async fn raw(
    state: Data,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let streams = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    start(state, req, body, streams, false)
}

/// `/ws` with no stream: streams come later through `SUBSCRIBE`.
pub async fn bare(
    state: Data,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    start(state, req, body, BTreeSet::new(), false)
}

pub async fn combined(
    state: Data,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let streams = query
        .iter()
        .filter(|(k, _)| k == "streams")
        .flat_map(|(_, v)| v.split('/'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    start(state, req, body, streams, true)
}

fn start(
    state: Data,
    req: HttpRequest,
    body: web::Payload,
    streams: BTreeSet<String>,
    combined: bool,
) -> Result<HttpResponse, actix_web::Error> {
    let (resp, session, stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(run(state.into_inner(), session, stream, streams, combined));
    Ok(resp)
}

async fn run(
    state: Arc<ServerState>,
    mut session: Session,
    mut stream: MessageStream,
    mut streams: BTreeSet<String>,
    combined: bool,
) {
    let mut events = state.hub.market.subscribe();
    let mut dropped = state.hub.drop_market.subscribe();
    let mut ping = tokio::time::interval(state.ping_interval);
    ping.tick().await;
    let mut last_pong = tokio::time::Instant::now();
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
                    let reply = control(&text, &mut streams);
                    if session.text(reply.to_string()).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(e) if streams.contains(&e.stream) => {
                    let text = if combined {
                        json!({"stream": e.stream, "data": e.data}).to_string()
                    } else {
                        e.data.to_string()
                    };
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// `{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}` and the like.
fn control(text: &str, streams: &mut BTreeSet<String>) -> Value {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return json!({"error": {"code": 3, "msg": "Invalid JSON"}, "id": null});
    };
    let id = req["id"].clone();
    let names = || -> Vec<String> {
        req["params"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match req["method"].as_str() {
        Some("SUBSCRIBE") => {
            streams.extend(names());
            json!({"result": null, "id": id})
        }
        Some("UNSUBSCRIBE") => {
            for n in names() {
                streams.remove(&n);
            }
            json!({"result": null, "id": id})
        }
        Some("LIST_SUBSCRIPTIONS") => {
            json!({"result": streams.iter().collect::<Vec<_>>(), "id": id})
        }
        _ => json!({"error": {"code": 2, "msg": "Invalid request: unknown method"}, "id": id}),
    }
}
