//! Fixture-driven tests of the Binance adapter.
mod fixtures;
mod mock;
