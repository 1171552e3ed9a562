//! The user-data stream over the WebSocket API: one connection per adapter, subscribed with
//! `userDataStream.subscribe.signature` (HMAC over the sorted params, `apiKey` included), whose
//! wrapped events `{"subscriptionId":N,"event":{...}}` become `ExchangeEvent`s:
//!
//! - `executionReport` → `ExchangeEvent::Order` (with the fill when `x` is TRADE);
//! - `outboundAccountPosition` → the adapter's balance cache ([`BinanceExchange::cached_balances`]);
//! - `balanceUpdate`, `externalLockUpdate`, `listStatus` → logged (order lists are the next issue);
//! - `eventStreamTerminated`, `serverShutdown` → reconnect at once.
//!
//! A subscribe refused with 418/429 bans the adapter's requests (REST included) until the
//! answer's `retryAfter`, and no reconnect is tried before a ban ends.
//!
//! The connection is replaced with jittered backoff whenever it fails, goes silent or nears 24 h;
//! every subscription, the first included, emits `ExchangeEvent::Reconnected`, because events
//! sent while no subscription was live (including before the first) are lost and the receiver
//! must reconcile.
//!
//! [`BinanceExchange::cached_balances`]: super::BinanceExchange::cached_balances

use futures_util::SinkExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::error::CODE_INVALID_TIMESTAMP;
use super::fanout::Fanout;
use super::models::{UserEvent, WsResponse};
use super::parse;
use super::reconnect::{self, Backoff, MAX_CONNECTION_AGE, Read, Socket};
use super::rest::Rest;
use super::signing::ws_payload;
use crate::exchange::{Balance, ExchangeEvent};

/// Latest balances by asset, from `outboundAccountPosition`.
pub type BalanceCache = Arc<Mutex<BTreeMap<String, Balance>>>;

/// Whether the user-data stream is live, for `/v1/status`: a refused subscribe is retried with
/// backoff, and meanwhile no fill is pushed, so an operator must be able to see it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UserStreamStatus {
    pub subscribed: bool,
    /// Successful subscriptions since the adapter started.
    pub subscriptions: u64,
    /// Why the last connection ended or the last subscribe failed.
    pub last_error: Option<String>,
}

pub type SharedStatus = Arc<Mutex<UserStreamStatus>>;

/// How long a WebSocket API 418/429 asks us to wait: its `data.retryAfter` (epoch ms) less its
/// `data.serverTime` when given, else less `server_now_ms` (the venue's clock by our offset).
pub fn ws_retry_after(data: Option<&Value>, server_now_ms: i64) -> Option<Duration> {
    let data = data?;
    let until = data.get("retryAfter")?.as_i64()?;
    let now = data
        .get("serverTime")
        .and_then(Value::as_i64)
        .unwrap_or(server_now_ms);
    Some(Duration::from_millis(
        u64::try_from(until.saturating_sub(now)).unwrap_or(0),
    ))
}

/// Everything the user-data task needs.
pub struct UserStream {
    /// e.g. `wss://ws-api.binance.com/ws-api/v3`.
    pub url: String,
    /// Signing, the venue's clock, and re-syncing it on -1021.
    pub rest: Arc<Rest>,
    pub fanout: Arc<Fanout>,
    pub balances: BalanceCache,
    /// Connect and subscribe must each finish within this.
    pub timeout: Duration,
    pub shutdown: watch::Receiver<bool>,
    pub status: SharedStatus,
}

/// Why a connection ended.
enum End {
    /// The adapter shut down: stop for good.
    Shutdown,
    /// The connection worked, then ended; reconnect soon.
    Dropped(String),
    /// Connect or subscribe failed; back off.
    Failed(String),
}

impl UserStream {
    /// Runs until the adapter shuts down.
    pub async fn run(mut self) {
        let mut backoff = Backoff::default();
        loop {
            let why = match self.session().await {
                End::Shutdown => return,
                End::Dropped(why) => {
                    tracing::warn!(reason = %why, "Binance user-data stream dropped; reconnecting");
                    backoff.reset();
                    why
                }
                End::Failed(why) => {
                    tracing::error!(reason = %why, "Binance user-data stream could not subscribe; no fills are pushed until it does");
                    why
                }
            };
            self.set_status(|s| {
                s.subscribed = false;
                s.last_error = Some(why);
            });
            // Never knock during a 429/418 ban (from REST or from a refused subscribe):
            // requests during a backoff are what turn a 429 into a ban, and a ban into a
            // longer one.
            let banned = self.rest.limits().ban_left(std::time::Instant::now());
            let delay = backoff.next_delay().max(banned.unwrap_or_default());
            if !reconnect::pause(delay, &mut self.shutdown).await {
                return;
            }
        }
    }

    fn set_status(&self, change: impl FnOnce(&mut UserStreamStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// The subscribe request: params signed as the WebSocket API specifies.
    pub fn subscribe_request(&self, id: &str) -> Value {
        let creds = self.rest.credentials();
        let ts = self.rest.server_ms();
        let timestamp = ts.to_string();
        let recv_window = self.rest.recv_window_ms().to_string();
        let signature = creds.sign(&ws_payload([
            ("apiKey", creds.api_key.as_str()),
            ("recvWindow", recv_window.as_str()),
            ("timestamp", timestamp.as_str()),
        ]));
        json!({
            "id": id,
            "method": "userDataStream.subscribe.signature",
            "params": {
                "apiKey": creds.api_key,
                "recvWindow": self.rest.recv_window_ms(),
                "timestamp": ts,
                "signature": signature,
            }
        })
    }

    async fn session(&mut self) -> End {
        let connect = reconnect::open(&self.url, self.timeout);
        let mut socket = tokio::select! {
            s = connect => match s {
                Ok(s) => s,
                Err(e) => return End::Failed(e),
            },
            _ = reconnect::stopped(&mut self.shutdown) => return End::Shutdown,
        };
        let id = format!("redline-subscribe-{}", super::rest::wall_ms());
        let request = self.subscribe_request(&id).to_string();
        if let Err(e) = socket.send(Message::Text(request.into())).await {
            return End::Failed(format!("send subscribe: {e}"));
        }
        match tokio::time::timeout(self.timeout, self.await_answer(&mut socket, &id)).await {
            Err(_) => return End::Failed(format!("no subscribe answer within {:?}", self.timeout)),
            Ok(Err(end)) => return end,
            Ok(Ok(())) => {}
        }
        tracing::info!("subscribed to the Binance user-data stream");
        self.set_status(|s| {
            s.subscribed = true;
            s.subscriptions += 1;
        });
        // After every subscription, the first included: the engine may have placed orders
        // before the stream was live (it is ready once it has prices and balances), and
        // nothing tells it what happened to them meanwhile but a re-query.
        self.fanout.publish(ExchangeEvent::Reconnected);
        let deadline = tokio::time::sleep(MAX_CONNECTION_AGE);
        tokio::pin!(deadline);
        loop {
            let read = tokio::select! {
                r = reconnect::read(&mut socket) => r,
                _ = &mut deadline => {
                    let _ = socket.close(None).await;
                    return End::Dropped("connection nearing Binance's 24 h limit".into());
                }
                _ = reconnect::stopped(&mut self.shutdown) => {
                    let _ = socket.close(None).await;
                    return End::Shutdown;
                }
            };
            match read {
                Read::Nothing => {}
                Read::Gone(why) => return End::Dropped(why),
                Read::Text(text) => {
                    if let Some(why) = self.handle(&text) {
                        let _ = socket.close(None).await;
                        return End::Dropped(why);
                    }
                }
            }
        }
    }

    /// Reads until the answer to request `id`; events before it are handled as usual.
    async fn await_answer(&mut self, socket: &mut Socket, id: &str) -> Result<(), End> {
        loop {
            let text = match reconnect::read(socket).await {
                Read::Text(text) => text,
                Read::Nothing => continue,
                Read::Gone(why) => return Err(End::Failed(why)),
            };
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if value.get("id").and_then(Value::as_str) != Some(id) {
                self.handle(&text);
                continue;
            }
            let answer: WsResponse = serde_json::from_value(value)
                .map_err(|e| End::Failed(format!("subscribe answer: {e}")))?;
            if answer.status == 200 {
                return Ok(());
            }
            let (code, msg, data) =
                answer
                    .error
                    .map(|e| (e.code, e.msg, e.data))
                    .unwrap_or((0, String::new(), None));
            if matches!(answer.status, 418 | 429) {
                // The WebSocket API shares the IP's limits with REST: its ban stops REST too.
                let wait = ws_retry_after(data.as_ref(), self.rest.server_ms());
                self.rest
                    .limits()
                    .ban(answer.status, wait, std::time::Instant::now());
            }
            if code == CODE_INVALID_TIMESTAMP {
                let _ = self.rest.sync_time().await;
            }
            return Err(End::Failed(format!(
                "subscribe refused: HTTP {} ({code}): {msg}",
                answer.status
            )));
        }
    }

    /// Handles one text frame; `Some(reason)` when the connection must be replaced.
    pub(super) fn handle(&self, text: &str) -> Option<String> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable frame on the user-data stream");
                return None;
            }
        };
        let event = match value.get("event") {
            Some(event) => event.clone(),
            None if value.get("e").is_some() => value,
            None => {
                tracing::debug!(frame = %text, "WebSocket API answer on the user-data stream");
                return None;
            }
        };
        match UserEvent::from_value(event) {
            Ok(event) => self.apply(event),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable user-data event");
                None
            }
        }
    }

    fn apply(&self, event: UserEvent) -> Option<String> {
        match event {
            UserEvent::Execution(report) => match parse::execution_report(&report) {
                Ok(report) => self.fanout.publish(ExchangeEvent::Order(report)),
                Err(e) => tracing::warn!(error = %e, "executionReport not usable"),
            },
            UserEvent::AccountPosition(p) => {
                let mut cache = self.balances.lock().unwrap_or_else(|e| e.into_inner());
                for b in p.balances {
                    let balance = Balance {
                        asset: b.asset.clone(),
                        free: b.free,
                        locked: b.locked,
                    };
                    cache.insert(b.asset, balance);
                }
            }
            UserEvent::BalanceUpdate(d) => {
                tracing::info!(asset = %d.asset, delta = %d.delta, "Binance balance update (deposit, withdrawal or transfer)")
            }
            UserEvent::ExternalLock(d) => {
                tracing::info!(asset = %d.asset, delta = %d.delta, "Binance external lock update")
            }
            UserEvent::ListStatus(l) => match parse::list_status(&l) {
                Ok(report) => self.fanout.publish(ExchangeEvent::OrderList(report)),
                Err(e) => tracing::warn!(error = %e, "listStatus not usable"),
            },
            UserEvent::StreamTerminated => return Some("eventStreamTerminated".into()),
            UserEvent::ServerShutdown => return Some("serverShutdown".into()),
            UserEvent::ListenKeyExpired => return Some("listenKeyExpired".into()),
            UserEvent::Other(kind) => tracing::debug!(%kind, "unhandled user-data event"),
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ws_api_retry_after_is_measured_from_the_answers_server_time() {
        let data = json!({"serverTime": 1_000_000, "retryAfter": 1_002_500});
        assert_eq!(
            ws_retry_after(Some(&data), 5),
            Some(Duration::from_millis(2_500))
        );
        let bare = json!({"retryAfter": 1_002_500});
        assert_eq!(
            ws_retry_after(Some(&bare), 1_002_000),
            Some(Duration::from_millis(500))
        );
        // Already past, or nothing said.
        assert_eq!(ws_retry_after(Some(&bare), 1_003_000), Some(Duration::ZERO));
        assert_eq!(ws_retry_after(Some(&json!({})), 0), None);
        assert_eq!(ws_retry_after(None, 0), None);
    }
}
