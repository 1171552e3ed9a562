//! Fixture-driven tests of the Binance adapter.
mod fixtures;
mod limits;
mod lists;
mod mock;
mod user_stream;
