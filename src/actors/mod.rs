//! The supervised actors. Each owns one piece of state and talks only by messages; each file
//! declares its actor's messages at the top. Messages more than one actor uses live in
//! [`messages`].
//!
//! | actor | owns |
//! |---|---|
//! | [`order_router::OrderRouter`] | every order's lifecycle, signal de-duplication |
//! | [`risk_gate::RiskGate`] | risk limits, exposure, order throttle, trading state |
//! | [`exchange_gateway::ExchangeGateway`] | the venue connection and its rate limiter |
//! | [`position::PositionActor`] | one symbol's position and PnL (one actor per symbol) |
//! | [`circuit_breaker::CircuitBreaker`] | venue health: closed / open / half-open |
//!
//! Every actor runs under `actix::Supervisor`: when it stops on an unrecoverable error it is
//! restarted with the same address (queued messages are kept), its `restarting` hook rebuilds
//! what must be rebuilt, and [`supervisor::Supervision`] counts restarts and halts trading when
//! an actor restarts too often.

pub mod circuit_breaker;
pub mod exchange_gateway;
pub mod messages;
pub mod order_router;
pub mod position;
pub mod reconciler;
pub mod risk_gate;
pub mod supervisor;
