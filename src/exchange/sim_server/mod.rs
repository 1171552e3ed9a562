//! `redline sim-exchange`: the simulated venue behind Binance Spot's own protocol, so a client
//! proven against it works against Binance. One matching engine, two front doors: this server
//! drives the same [`SimExchange`] the engine uses in-process (through its full-view API in
//! `exchange::sim::views`).
//!
//! # What it serves (one port)
//! - REST `/api/v3/`: `ping`, `time`, `exchangeInfo` (`symbol`, `symbols=["A","B"]`),
//!   `ticker/price`, `order` (POST/GET/DELETE), `order/test`, `openOrders` (GET/DELETE),
//!   `allOrders`, `myTrades`, `account`, `rateLimit/order`, every spot order type; OCO order
//!   lists (`orderList/oco`, `orderList` GET/DELETE, `openOrderList`, [`order_lists`]). The
//!   deprecated `order/oco`, the other list kinds and `allOrderList` answer 400 -1020 "This
//!   operation is not supported.".
//!   Parameters in the query string, the form body, or both ([`params`]); SIGNED endpoints
//!   checked as Binance does ([`auth`]); weights and order counts with Binance's headers,
//!   429 and 418 ([`limits`]); shapes in [`render`].
//! - WebSocket API `/ws-api/v3` ([`ws_api`]): `ping`, `time`,
//!   `userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, then user-data events
//!   wrapped as `{"subscriptionId":N,"event":{...}}` ([`events`]).
//! - Market streams `/ws/<stream>` and `/stream?streams=a/b` ([`streams`]): `<symbol>@trade`
//!   (one per price update) and `<symbol>@bookTicker` (the synthetic book's top).
//! - The admin API under `/sim/` ([`admin`]): prices, faults, limits, counters. Loopback only.
//!
//! The clock is the wall clock. Start it with [`serve`] on a bound listener (port 0 in tests),
//! from within a tokio runtime (the event forwarder is spawned on it).

pub mod admin;
pub mod auth;
pub mod error;
pub mod events;
pub mod faults;
pub mod limits;
pub mod order_lists;
pub mod orders;
pub mod params;
pub mod render;
pub mod rest;
pub mod streams;
pub mod ws_api;

use actix_web::{App, HttpServer, dev::Server, web};
use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::exchange::binance::signing::Credentials;
use crate::exchange::sim::SimExchange;
use events::Hub;
use faults::Faults;
use limits::{Limiter, RateLimits};

/// The API key used when `REDLINE_SIM_API_KEY` is not set. Local use only.
pub const DEFAULT_API_KEY: &str = "redline-sim-key";
/// The secret used when `REDLINE_SIM_API_SECRET` is not set. Local use only.
pub const DEFAULT_API_SECRET: &str = "redline-sim-secret";
/// Binance's WebSocket servers ping every 20 seconds.
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A connection that has not answered a ping with a pong for this long is dropped.
pub const PONG_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything the server needs besides the venue.
#[derive(Debug, Clone)]
pub struct SimServerSettings {
    /// The one account's API key and HMAC secret.
    pub credentials: Credentials,
    /// The `exchangeInfo` document the venue's rules came from (served as `exchangeInfo`).
    pub exchange_info: serde_json::Value,
    /// Rate limits (by default those the document declares, see
    /// [`RateLimits::from_exchange_info`]); tests set them low.
    pub limits: RateLimits,
    /// How often WebSocket connections are pinged.
    pub ping_interval: Duration,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
}

impl SimServerSettings {
    /// Settings for `credentials` and the venue's `exchange_info`, with its rate limits.
    pub fn new(credentials: Credentials, exchange_info: serde_json::Value) -> Self {
        Self {
            credentials,
            limits: RateLimits::from_exchange_info(&exchange_info),
            exchange_info,
            ping_interval: PING_INTERVAL,
            workers: 0,
        }
    }

    /// The credentials from `REDLINE_SIM_API_KEY` / `REDLINE_SIM_API_SECRET`, or the local
    /// defaults; the flag says whether a default was used.
    pub fn credentials_from_env() -> (Credentials, bool) {
        let key = std::env::var("REDLINE_SIM_API_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        let secret = std::env::var("REDLINE_SIM_API_SECRET")
            .ok()
            .filter(|s| !s.is_empty());
        let defaulted = key.is_none() || secret.is_none();
        let creds = Credentials::new(
            key.unwrap_or_else(|| DEFAULT_API_KEY.into()),
            secret.unwrap_or_else(|| DEFAULT_API_SECRET.into()),
        );
        (creds, defaulted)
    }
}

/// What the server counts for the admin API's `GET /sim/state`.
#[derive(Debug, Default)]
pub struct Counters {
    /// New orders the venue accepted through this server.
    pub orders_accepted: u64,
    /// Client order ids of those orders (a resend of the same id counts once).
    pub client_order_ids: HashSet<String>,
    /// REST requests received (`/api/v3/`, whatever their answer).
    pub rest_requests: u64,
    /// REST answers with HTTP 429 / 418.
    pub answered_429: u64,
    pub answered_418: u64,
    /// `userDataStream.subscribe.signature` requests that succeeded, over all connections.
    pub user_data_subscriptions: u64,
}

/// Shared by every handler, connection and the forwarder.
pub struct ServerState {
    pub sim: SimExchange,
    pub credentials: Credentials,
    pub exchange_info: serde_json::Value,
    pub ping_interval: Duration,
    pub hub: Hub,
    limiter: Mutex<Limiter>,
    faults: Mutex<Faults>,
    counters: Mutex<Counters>,
    /// For client order ids the server makes up (new orders and cancels without one).
    next_generated_id: std::sync::atomic::AtomicU64,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds valid state.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ServerState {
    pub fn new(sim: SimExchange, settings: SimServerSettings) -> Self {
        Self {
            sim,
            credentials: settings.credentials,
            exchange_info: settings.exchange_info,
            ping_interval: settings.ping_interval,
            hub: Hub::default(),
            limiter: Mutex::new(Limiter::new(settings.limits)),
            faults: Mutex::new(Faults::default()),
            counters: Mutex::new(Counters::default()),
            next_generated_id: std::sync::atomic::AtomicU64::new(1),
        }
    }

    pub fn limiter(&self) -> MutexGuard<'_, Limiter> {
        locked(&self.limiter)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        locked(&self.faults)
    }

    pub fn counters(&self) -> MutexGuard<'_, Counters> {
        locked(&self.counters)
    }

    /// A fresh client order id like Binance's generated ones (unique within this server).
    pub fn generate_id(&self, prefix: &str) -> String {
        let n = self
            .next_generated_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{:x}{n:06}", chrono::Utc::now().timestamp_millis())
    }
}

/// Every route. `ServerState` must be in app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    rest::configure(cfg);
    cfg.route("/ws-api/v3", web::get().to(ws_api::connect))
        .route("/ws", web::get().to(streams::bare))
        .route("/ws/{stream:.*}", web::get().to(streams::raw))
        .route("/stream", web::get().to(streams::combined));
    admin::configure(cfg);
}

/// Starts the server on an already-bound listener. Call from within a tokio runtime (the
/// actix system); the venue's update forwarder is spawned there.
pub fn serve(
    listener: TcpListener,
    sim: SimExchange,
    settings: SimServerSettings,
) -> std::io::Result<Server> {
    let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
    let workers = settings.workers;
    let state = Arc::new(ServerState::new(sim, settings));
    runtime.spawn(events::forward(
        Arc::downgrade(&state),
        state.sim.subscribe_updates(),
    ));
    let data = web::Data::from(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(
                actix_web::middleware::Logger::new("%r %s %Dms").log_target("redline::sim_server"),
            )
            .configure(configure)
    })
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}
