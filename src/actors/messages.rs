//! Messages and replies shared by more than one actor (and by the web and Redis layers).

use actix::Message;
use serde::Serialize;

use crate::domain::{ClientOrderId, DomainError, Fill, Order, OrderListReport, OrderReport, Price};

/// What became of a signal or a manual order. The HTTP layer maps each variant to a status
/// code; the Redis bridge publishes it as an event.
#[derive(Debug, Clone)]
pub enum SubmitOutcome {
    /// Sent and acknowledged by the venue (its status may already be FILLED or EXPIRED).
    Submitted(Box<Order>),
    /// The signal id was seen before; nothing new was sent.
    Duplicate(ClientOrderId),
    /// The input is malformed or breaks the symbol's rules; nothing changed.
    Invalid(DomainError),
    /// The risk gate refused it; `reason` is a stable machine-readable code.
    Refused(RiskRefusal),
    /// The engine is not taking orders now (breaker open, trading halted).
    Unavailable {
        reason: &'static str,
        detail: String,
    },
    /// The venue definitely refused it.
    ExchangeRejected {
        order: Box<Order>,
        code: i64,
        message: String,
    },
    /// The venue could not be reached; the order definitely did not reach it.
    ExchangeFailed { order: Box<Order>, error: String },
    /// The venue did not confirm either way; the order is UNKNOWN until a query resolves it.
    Unknown(Box<Order>),
}

impl SubmitOutcome {
    /// Nothing reached the venue, for a passing reason: the same signal id may be sent again.
    pub fn is_retryable(&self) -> bool {
        match self {
            SubmitOutcome::Unavailable { .. } | SubmitOutcome::ExchangeFailed { .. } => true,
            SubmitOutcome::Refused(r) => matches!(
                r.reason,
                RiskReason::OrderRateLimit
                    | RiskReason::NoMarketPrice
                    | RiskReason::CloseInProgress
                    | RiskReason::MaxOpenOrders
                    | RiskReason::TradingHalted
                    | RiskReason::ExecutionThrottle
                    | RiskReason::ReducingOnly
                    | RiskReason::StrategyPaused
                    | RiskReason::MessageThrottle
                    | RiskReason::StalePrice
                    | RiskReason::AccountUnknown
            ),
            _ => false,
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            SubmitOutcome::Submitted(_) => "submitted",
            SubmitOutcome::Duplicate(_) => "duplicate",
            SubmitOutcome::Invalid(_) => "invalid",
            SubmitOutcome::Refused(_) | SubmitOutcome::ExchangeRejected { .. } => "rejected",
            SubmitOutcome::Unavailable { .. } => "unavailable",
            SubmitOutcome::ExchangeFailed { .. } => "failed",
            SubmitOutcome::Unknown(_) => "unknown",
        }
    }

    pub fn client_order_id(&self) -> Option<&ClientOrderId> {
        match self {
            SubmitOutcome::Submitted(o) | SubmitOutcome::Unknown(o) => Some(&o.client_order_id),
            SubmitOutcome::ExchangeRejected { order, .. }
            | SubmitOutcome::ExchangeFailed { order, .. } => Some(&order.client_order_id),
            SubmitOutcome::Duplicate(id) => Some(id),
            _ => None,
        }
    }

    /// `(reason code, detail)` for every outcome that is not a success.
    pub fn reason(&self) -> Option<(String, String)> {
        match self {
            SubmitOutcome::Submitted(_) | SubmitOutcome::Duplicate(_) => None,
            SubmitOutcome::Unknown(_) => Some((
                "outcome_unknown".into(),
                "the venue did not confirm the order; it is being resolved by query".into(),
            )),
            SubmitOutcome::Invalid(e) => Some(("invalid_input".into(), e.to_string())),
            SubmitOutcome::Refused(r) => Some((r.reason.as_str().into(), r.detail.clone())),
            SubmitOutcome::Unavailable { reason, detail } => {
                Some(((*reason).into(), detail.clone()))
            }
            SubmitOutcome::ExchangeRejected { code, message, .. } => {
                Some(("exchange_rejected".into(), format!("{message} ({code})")))
            }
            SubmitOutcome::ExchangeFailed { error, .. } => {
                Some(("exchange_unavailable".into(), error.clone()))
            }
        }
    }
}

/// Why the risk gate refused an order. Passing conditions (throttles, a stale price, a halted,
/// reducing or paused state) are retryable with the same signal id; limit breaches are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    SymbolNotAllowed,
    MaxOrderQty,
    MaxOrderNotional,
    MaxOpenPositions,
    OrderRateLimit,
    NoMarketPrice,
    TradingHalted,
    NoPosition,
    CloseInProgress,
    /// The venue's MAX_NUM_ORDERS filter: the symbol already has as many open orders as allowed.
    MaxOpenOrders,
    DailyLossLimit,
    MaxTradesPerDay,
    MinOrderSize,
    PositionExposure,
    TotalExposure,
    InsufficientBalance,
    SymbolBlocked,
    DirectionalExposure,
    PriceCollar,
    StalePrice,
    MessageThrottle,
    DuplicateOrder,
    /// Trading was halted by the execution throttle (too many fills); latched until resumed.
    ExecutionThrottle,
    StrategyPaused,
    GroupExposure,
    ReducingOnly,
    /// The gate has not loaded the account's balances yet.
    AccountUnknown,
}

impl RiskReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskReason::SymbolNotAllowed => "symbol_not_allowed",
            RiskReason::MaxOrderQty => "max_order_qty",
            RiskReason::MaxOrderNotional => "max_order_notional",
            RiskReason::MaxOpenPositions => "max_open_positions",
            RiskReason::OrderRateLimit => "order_rate_limit",
            RiskReason::NoMarketPrice => "no_market_price",
            RiskReason::TradingHalted => "trading_halted",
            RiskReason::NoPosition => "no_position",
            RiskReason::CloseInProgress => "close_in_progress",
            RiskReason::MaxOpenOrders => "max_open_orders",
            RiskReason::DailyLossLimit => "daily_loss_limit",
            RiskReason::MaxTradesPerDay => "max_trades_per_day",
            RiskReason::MinOrderSize => "min_order_size",
            RiskReason::PositionExposure => "position_exposure",
            RiskReason::TotalExposure => "total_exposure",
            RiskReason::InsufficientBalance => "insufficient_balance",
            RiskReason::SymbolBlocked => "symbol_blocked",
            RiskReason::DirectionalExposure => "directional_exposure",
            RiskReason::PriceCollar => "price_collar",
            RiskReason::StalePrice => "stale_price",
            RiskReason::MessageThrottle => "message_throttle",
            RiskReason::DuplicateOrder => "duplicate_order",
            RiskReason::ExecutionThrottle => "execution_throttle",
            RiskReason::StrategyPaused => "strategy_paused",
            RiskReason::GroupExposure => "group_exposure",
            RiskReason::ReducingOnly => "reducing_only",
            RiskReason::AccountUnknown => "account_unknown",
        }
    }
}

/// A refusal with its code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskRefusal {
    pub reason: RiskReason,
    pub detail: String,
}

/// A fill for the position actor of its symbol.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct ApplyFill(pub Fill);

/// The latest price of a symbol, for marking positions.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct MarkPrice(pub Price);

/// Something the venue pushed that the order router must see.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum VenueUpdate {
    Report(OrderReport),
    /// An order list's status changed (its legs' changes come as `Report`s).
    OrderList(OrderListReport),
    /// The push stream was (re)established: anything may have been missed before it, so the
    /// router re-queries the orders it holds open.
    Resubscribed,
}
