//! Operator controls that must work whatever state the trading path is in: the emergency stop
//! (the kill switch of RTS 6 Art. 12), lifting it, and what shutdown does to open orders.
//!
//! The stop never goes through the order router's mailbox, which may hold thousands of queued
//! signals. It sets the [`EmergencyLatch`] first (a flag the risk gate, the router and the
//! gateway read on every order, so nothing new leaves from that instant), records it durably,
//! tells the risk gate to show `halted`, then talks to the exchange gateway with messages that
//! skip its pacing limiter and never ask the circuit breaker: cancel-all on every symbol, then
//! a market order closing each position. The venue's reports reach the router as usual; it
//! adopts the closing orders (strategy `emergency`) and applies their fills to the positions.
//!
//! HTTP (`POST /v1/emergency-stop`, `POST /v1/resume`), the CLI (`redline stop` / `resume`,
//! which call HTTP) and the Redis control channel all end in [`emergency_stop`] / [`resume`].

pub mod client;
mod latch;
mod stop;

pub use latch::{
    EmergencyLatch, FileLatchStore, LATCH_FILE, LatchStore, MemoryLatchStore, StopRecord,
};
pub use stop::{
    CancelledOrder, FlattenOrder, ResumeReport, StopFailure, StopReport, StopRequest,
    cancel_everywhere, clean_reason, emergency_stop, operator_or, resume,
};

/// Client order ids of the emergency stop's closing orders start with this (`rl-stop-<ms>-<symbol>`).
/// The router adopts reports with it as strategy `emergency`.
pub const STOP_ORDER_PREFIX: &str = "rl-stop-";
