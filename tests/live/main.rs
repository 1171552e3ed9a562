//! End-to-end tests of live mode: the engine, in live mode through the Binance adapter, against
//! the simulator server (`redline sim-exchange`), both in-process on 127.0.0.1:0. Every test
//! starts its own venue and engine and compares the engine's books with the venue's exactly.

mod support;

mod filters;
mod orders;
mod pacing;
mod recovery;
