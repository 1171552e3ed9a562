//! The Binance Spot adapter (`mode = "live"`): [`BinanceExchange`] implements the `Exchange`
//! port over Binance's REST API (orders, queries, balances, prices), its WebSocket API (the
//! user-data stream) and its market streams.
//!
//! Layout: `signing` (HMAC and credentials, shared with the simulator server), `rest` (the
//! signed client and the venue's clock), `endpoints` (each REST call, its weight and answer),
//! `limits` (request pacing), `error` (what each failure means), `models` (wire types) and
//! `parse` (wire → domain), `user_stream` and `market_stream` (the two WebSocket tasks),
//! `reconnect` (backoff and socket upkeep), `fanout` (subscribers).
//!
//! # Contract details
//! - `submit` sends `POST /api/v3/order` with `newClientOrderId` = the engine's id and
//!   `newOrderRespType=FULL`, so immediate fills come back with their trade ids (as takers).
//!   A failure after sending is `UnknownOutcome`; the order is never sent again here.
//! - Every order type goes out under its Binance name with its parameters (`stopPrice`,
//!   `trailingDelta`, `quoteOrderQty`; `timeInForce` only where Binance requires it).
//!   `submit_oco` is `POST /api/v3/orderList/oco` (above/below legs, FULL answer; weight 1 and
//!   two orders against ORDERS); `cancel_order_list` is `DELETE /api/v3/orderList` by the
//!   list's client id (`lists`). `listStatus` events become `ExchangeEvent::OrderList`.
//! - `query` is `GET /api/v3/order`, which carries no fills; when the order has executed
//!   anything, `GET /api/v3/myTrades?orderId=` (weight 5) adds its fills, so a fill missed on the
//!   stream is recovered with its trade id, price, quantity, commission and maker flag. If that
//!   second call fails the query fails (a report claiming executed quantity without its fills
//!   would move the order without moving the position). `cancel` does the same when the
//!   cancelled order had executed anything (its fills are then best effort: the cancel is
//!   reported even if they cannot be fetched).
//! - `open_orders` asks per configured symbol (weight 6 each) while that costs no more than the
//!   all-symbols call (weight 80, i.e. up to 13 symbols), else makes the one call.
//! - `prices` reads `ticker/price` for the configured symbols (weight 4).
//! - `subscribe` starts, on its first call, one user-data task and one market task; each call
//!   returns a fresh receiver of every later event. Receivers stay open across reconnects and
//!   end only on [`BinanceExchange::shutdown`] or when every handle is dropped.
//!   `ExchangeEvent::Reconnected` follows every user-data subscription, the first included
//!   (orders placed before the stream was live are re-queried then).
//! - `connect` must run inside the tokio runtime that will host the adapter's tasks (stream
//!   tasks and the clock re-sync are spawned on it, whichever thread later calls `subscribe`).

pub mod endpoints;
pub mod error;
pub mod fanout;
pub mod limits;
pub mod lists;
pub mod market_stream;
pub mod models;
pub mod parse;
pub mod reconnect;
pub mod rest;
pub mod signing;
pub mod user_stream;

#[cfg(test)]
mod tests;

use reqwest::Method;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use crate::domain::{
    ClientOrderId, OcoRequest, OrderListReport, OrderReport, OrderRequest, Price, Symbol,
};
use crate::exchange::filters::ExchangeInfo;
use crate::exchange::{Balance, BoxFuture, Exchange, ExchangeError, ExchangeEvent};
use fanout::Fanout;
use limits::{Limits, LimitsSnapshot};
use models::{ExchangeLimits, RateLimit};
use rest::{Call, Rest};
pub use signing::Credentials;
use user_stream::BalanceCache;

/// Everything the adapter needs to start.
#[derive(Debug, Clone)]
pub struct BinanceSettings {
    /// e.g. `https://testnet.binance.vision` or `http://127.0.0.1:9443` (no trailing `/api`).
    pub rest_url: String,
    /// e.g. `wss://ws-api.testnet.binance.vision/ws-api/v3`.
    pub ws_api_url: String,
    /// e.g. `wss://stream.testnet.binance.vision`; the adapter appends `/stream?streams=...`.
    pub stream_url: String,
    pub credentials: Credentials,
    /// Binance's `recvWindow` (default 5000, at most 60000).
    pub recv_window_ms: u64,
    /// Per REST request, and per WebSocket connect/subscribe.
    pub request_timeout: Duration,
    /// The symbols traded: market streams, exchangeInfo entries, open-order queries.
    pub symbols: Vec<Symbol>,
    /// How often the venue's clock is re-measured.
    pub time_sync_interval: Duration,
}

/// The defaults Binance documents, used until (or if) `exchangeInfo` publishes its own.
fn documented_limits() -> Vec<RateLimit> {
    let rule = |kind: &str, interval: &str, n, limit| RateLimit {
        rate_limit_type: kind.into(),
        interval: interval.into(),
        interval_num: n,
        limit,
    };
    vec![
        rule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
        rule("RAW_REQUESTS", "MINUTE", 5, 61000),
        rule("ORDERS", "SECOND", 10, 50),
        rule("ORDERS", "DAY", 1, 160_000),
    ]
}

struct Inner {
    rest: Arc<Rest>,
    fanout: Arc<Fanout>,
    balances: BalanceCache,
    user_status: user_stream::SharedStatus,
    symbols: Vec<Symbol>,
    ws_api_url: String,
    stream_url: String,
    timeout: Duration,
    /// Set once the stream tasks run.
    streams_started: AtomicBool,
    /// `true` (or dropped) stops every task.
    shutdown: watch::Sender<bool>,
    /// The runtime `connect` ran on; the tasks live there, whoever calls `subscribe`.
    runtime: tokio::runtime::Handle,
}

/// The Binance Spot adapter. Cheap to clone; clones share connections, limits and subscribers.
/// `Debug` shows no credentials.
#[derive(Clone)]
pub struct BinanceExchange {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BinanceExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceExchange")
            .field("rest", &self.inner.rest)
            .field("symbols", &self.inner.symbols)
            .finish_non_exhaustive()
    }
}

impl BinanceExchange {
    /// Syncs time, loads exchangeInfo (for `symbols`), sizes the rate limiters from its
    /// rateLimits, and starts re-syncing the clock every `time_sync_interval`.
    pub async fn connect(settings: BinanceSettings) -> Result<(Self, ExchangeInfo), ExchangeError> {
        if settings.recv_window_ms == 0 || settings.recv_window_ms > 60_000 {
            return Err(ExchangeError::Connectivity(format!(
                "recv_window_ms must be in 1..=60000, got {}",
                settings.recv_window_ms
            )));
        }
        let rest = Arc::new(Rest::new(
            &settings.rest_url,
            settings.credentials.clone(),
            settings.recv_window_ms,
            settings.request_timeout,
            Limits::from_rules(&documented_limits()),
        )?);
        rest.sync_time().await?;
        let mut call = Call::new(Method::GET, "/api/v3/exchangeInfo", 20);
        if !settings.symbols.is_empty() {
            call = call.param("symbols", endpoints::symbols_param(&settings.symbols));
        }
        let body = rest.send(&call).await?;
        let info: ExchangeInfo = serde_json::from_str(&body)
            .map_err(|e| endpoints::unreadable_read(format!("exchangeInfo: {e}")))?;
        let venue_limits: ExchangeLimits = serde_json::from_str(&body).unwrap_or_default();
        let usable = venue_limits
            .rate_limits
            .iter()
            .any(|r| !r.rate_limit_type.is_empty());
        if usable {
            rest.set_limits(Limits::from_rules(&venue_limits.rate_limits));
        } else {
            tracing::warn!(
                "exchangeInfo published no rate limits; pacing by Binance's documented defaults"
            );
        }
        let (shutdown, _) = watch::channel(false);
        let inner = Inner {
            rest,
            fanout: Arc::new(Fanout::default()),
            balances: Arc::new(Mutex::new(BTreeMap::new())),
            user_status: Default::default(),
            symbols: settings.symbols,
            ws_api_url: settings.ws_api_url,
            stream_url: settings.stream_url,
            timeout: settings.request_timeout,
            streams_started: AtomicBool::new(false),
            shutdown,
            runtime: tokio::runtime::Handle::current(),
        };
        let this = Self {
            inner: Arc::new(inner),
        };
        this.spawn_time_sync(settings.time_sync_interval);
        Ok((this, info))
    }

    fn spawn_time_sync(&self, every: Duration) {
        let rest = self.inner.rest.clone();
        let mut stop = self.inner.shutdown.subscribe();
        let every = every.max(Duration::from_secs(1));
        self.inner.runtime.spawn(async move {
            loop {
                if !reconnect::pause(every, &mut stop).await {
                    return;
                }
                if let Err(e) = rest.sync_time().await {
                    tracing::warn!(error = %e, "periodic Binance time sync failed");
                }
            }
        });
    }

    /// Request counters and any ban, for metrics.
    pub fn limits_snapshot(&self) -> LimitsSnapshot {
        self.inner.rest.limits().snapshot()
    }

    /// Whether the user-data stream is subscribed, and why it last was not.
    pub fn user_stream_status(&self) -> user_stream::UserStreamStatus {
        let status = self.inner.user_status.lock();
        status.unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The venue's clock minus ours, in ms, as last measured.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.rest.offset_ms()
    }

    /// Latest balances pushed on the user-data stream (`outboundAccountPosition`), by asset.
    /// Empty until the first push; `balances()` asks the venue.
    pub fn cached_balances(&self) -> Vec<Balance> {
        let cache = self
            .inner
            .balances
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache.values().cloned().collect()
    }

    /// Stops the stream tasks and ends every subscriber's receiver.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        self.inner.fanout.close();
    }

    fn start_streams(&self) {
        if self.inner.streams_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let i = &self.inner;
        let user = user_stream::UserStream {
            url: i.ws_api_url.clone(),
            rest: i.rest.clone(),
            fanout: i.fanout.clone(),
            balances: i.balances.clone(),
            timeout: i.timeout,
            shutdown: i.shutdown.subscribe(),
            status: i.user_status.clone(),
        };
        let market = market_stream::MarketStream {
            base_url: i.stream_url.clone(),
            symbols: i.symbols.clone(),
            rest: i.rest.clone(),
            fanout: i.fanout.clone(),
            timeout: i.timeout,
            shutdown: i.shutdown.subscribe(),
        };
        i.runtime.spawn(user.run());
        i.runtime.spawn(market.run());
    }
}

impl Exchange for BinanceExchange {
    fn venue(&self) -> &'static str {
        "binance"
    }

    fn submit(&self, order: OrderRequest) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move { endpoints::submit(&rest, &order).await })
    }

    fn submit_oco(&self, oco: OcoRequest) -> BoxFuture<Result<OrderListReport, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move { lists::submit_oco(&rest, &oco).await })
    }

    fn cancel_order_list(
        &self,
        symbol: Symbol,
        list_client_order_id: ClientOrderId,
    ) -> BoxFuture<Result<OrderListReport, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(
            async move { lists::cancel_order_list(&rest, &symbol, &list_client_order_id).await },
        )
    }

    fn cancel(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move { endpoints::cancel(&rest, &symbol, &id).await })
    }

    fn query(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move { endpoints::query(&rest, &symbol, &id).await })
    }

    /// `DELETE /api/v3/openOrders`: every open order and order list on `symbol`.
    fn cancel_all(&self, symbol: Symbol) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move {
            match endpoints::cancel_all(&rest, &symbol).await {
                Err(e) if e.is_nothing_to_cancel() => Ok(Vec::new()),
                other => other,
            }
        })
    }

    fn open_orders(&self) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>> {
        let rest = self.inner.rest.clone();
        let symbols = self.inner.symbols.clone();
        Box::pin(async move { endpoints::open_orders(&rest, &symbols).await })
    }

    fn balances(&self) -> BoxFuture<Result<Vec<Balance>, ExchangeError>> {
        let rest = self.inner.rest.clone();
        Box::pin(async move { endpoints::balances(&rest).await })
    }

    fn prices(&self) -> BoxFuture<Result<Vec<(Symbol, Price)>, ExchangeError>> {
        let rest = self.inner.rest.clone();
        let symbols = self.inner.symbols.clone();
        Box::pin(async move { endpoints::prices(&rest, &symbols).await })
    }

    fn subscribe(&self) -> mpsc::UnboundedReceiver<ExchangeEvent> {
        let rx = self.inner.fanout.subscribe();
        self.start_streams();
        rx
    }

    /// `{"rest_url", "clock_offset_ms", "limits": LimitsSnapshot, "user_data": UserStreamStatus}`.
    fn status(&self) -> serde_json::Value {
        serde_json::json!({
            "rest_url": self.inner.rest.base(),
            "clock_offset_ms": self.clock_offset_ms(),
            "limits": self.limits_snapshot(),
            "user_data": self.user_stream_status(),
        })
    }
}
