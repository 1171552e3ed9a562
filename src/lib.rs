//! # redline
//!
//! A crypto trading engine built as supervised actix actors.
//!
//! # Layout
//!
//! - [`domain`]: ids, money (`Price`, `Qty` over `Decimal`), orders, fills, positions, signals.
//! - [`exchange`]: the `Exchange` port, Binance-style symbol filters, and the adapters
//!   ([`exchange::sim`] is the built-in simulated exchange).
//! - [`clock`]: injected time.

pub mod actors;
pub mod bus;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod events;
pub mod exchange;
pub mod intake;
pub mod market;
pub mod web;
