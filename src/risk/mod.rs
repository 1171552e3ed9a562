//! Pre-trade risk: the limits, the pure checks, and the state the risk gate decides from.
//!
//! - [`limits`]: the `[risk]` config section, runtime patches and their validation.
//! - [`checks`]: one pure function per check, each returning `Result<(), RiskRefusal>`.
//! - [`book`]: holdings, open-order reservations, marks, and the exposure/equity totals kept
//!   incrementally so a decision is O(1) in the number of open orders and symbols.
//! - [`throttle`]: sliding windows on the injected clock and the duplicate-order memory.
//! - [`strategies`]: round trips per strategy for the consecutive-loss breaker.
//! - [`state`]: [`RiskState::decide`] runs the checks in order; [`report`] is `GET /v1/risk`.
//!
//! The actor that owns a `RiskState` is [`crate::actors::risk_gate::RiskGate`].
//!
//! Conventions: every amount is exact `Decimal` in the valuation asset (USDT); percentages are of
//! equity (cash plus holdings at their marks); an order that does not grow an exposure is never
//! refused by that exposure's limit, so a position can always be reduced.

pub mod book;
pub mod checks;
pub mod limits;
pub mod report;
pub mod state;
pub mod strategies;
pub mod throttle;

pub use limits::{GroupLimit, LimitProblem, LimitsPatch, RiskConfig};
pub use report::{LimitsChange, RiskReport};
pub use state::{CheckRequest, Effect, RiskState, TradingState};
