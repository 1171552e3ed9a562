//! # redline
//!
//! A crypto trading engine built as supervised actix actors.
//!
//! # Layout
//!
//! - [`domain`]: ids, money (`Price`, `Qty` over `Decimal`), orders (every Binance spot type),
//!   OCO order lists, fills, positions, signals.
//! - [`intake`]: a checked signal becomes an order request (freshness, symbol rules, and
//!   [`intake::sizing`]: quantity, quote amount, % of equity, % risk to the stop, or minimum).
//! - [`actors`]: the supervised actors: order router, risk gate, exchange gateway, circuit
//!   breaker, reconciler, one position actor per symbol, and the supervision bookkeeping.
//! - [`exchange`]: the `Exchange` port, Binance-style symbol filters, and the adapters
//!   ([`exchange::binance`] trades on Binance Spot; [`exchange::sim`] is the built-in simulated
//!   exchange; [`exchange::sim_server`] serves it over Binance Spot's protocol for
//!   `redline sim-exchange`).
//! - [`journal`]: the append-only record of everything (SQLite or PostgreSQL) and the recovery
//!   that rebuilds orders, positions and risk state from it at start-up.
//! - [`engine`]: starts the actors in order and hands out their addresses.
//! - [`web`]: the HTTP API (one `configure()` for server and tests) and its OpenAPI document.
//! - [`bus`]: the Redis bridge (signals in, events out); [`events`]: the in-process event bus.
//! - [`control`]: the emergency stop (latched across restarts) and resume, shared by HTTP,
//!   the CLI and the Redis control channel.
//! - [`config`]: defaults, file and environment overrides, validation.
//! - [`risk`]: pre-trade risk limits, the pure checks, and the book the risk gate decides from.
//! - [`market`]: last prices (a read-mostly view); [`clock`]: injected time.
//!
//! # The path of a signal
//!
//! HTTP `POST /v1/signals` or Redis → [`web::signals::submit_signal`] parses and checks the JSON →
//! `OrderRouter` de-duplicates by id, builds the order ([`intake`]) and records it →
//! `CircuitBreaker` permits → `RiskGate` approves → the order's intent is committed to the
//! journal → `ExchangeGateway` paces and sends it →
//! the venue answers and pushes reports → the router folds them in and sends each new fill,
//! once, to the symbol's `PositionActor` and to the risk gate → events go out on the bus.

pub mod actors;
pub mod bus;
pub mod clock;
pub mod config;
pub mod control;
pub mod domain;
pub mod engine;
pub mod events;
pub mod exchange;
pub mod intake;
pub mod journal;
pub mod market;
pub mod risk;
pub mod web;
