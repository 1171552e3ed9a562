//! The vocabulary of orders: side, type, time in force, status, and the checks on the numbers
//! an order carries (positive quantity, a price where the type needs one, a stop price).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{DomainError, Price, Qty};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[serde(alias = "BUY")]
    Buy,
    #[serde(alias = "SELL")]
    Sell,
}

impl Side {
    pub fn opposite(self) -> Self {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buys, -1 for sells: the sign a fill of this side gives to a position change.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// Binance's spot order types. Our API spells them in snake_case (`stop_loss_limit`); Binance's
/// upper-case names (`STOP_LOSS_LIMIT`) are accepted too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Takes liquidity now, by base `quantity` or by `quote_quantity`.
    #[serde(alias = "MARKET")]
    Market,
    /// Takes what it can up to its price; the rest follows the time in force.
    #[serde(alias = "LIMIT")]
    Limit,
    /// Post-only limit: refused if any of it would take liquidity on arrival.
    #[serde(alias = "LIMIT_MAKER")]
    LimitMaker,
    /// Becomes a market order when its stop condition (or trailing delta) triggers.
    #[serde(alias = "STOP_LOSS")]
    StopLoss,
    /// Becomes a limit order at `price` when its stop condition (or trailing delta) triggers.
    #[serde(alias = "STOP_LOSS_LIMIT")]
    StopLossLimit,
    /// Like `StopLoss` with the stop on the other side of the market (see [`OrderType::fires_above`]).
    #[serde(alias = "TAKE_PROFIT")]
    TakeProfit,
    /// Like `StopLossLimit` with the stop on the other side of the market.
    #[serde(alias = "TAKE_PROFIT_LIMIT")]
    TakeProfitLimit,
}

impl OrderType {
    /// Binance's name for the type (`STOP_LOSS_LIMIT`).
    pub fn as_binance(self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit => "LIMIT",
            OrderType::LimitMaker => "LIMIT_MAKER",
            OrderType::StopLoss => "STOP_LOSS",
            OrderType::StopLossLimit => "STOP_LOSS_LIMIT",
            OrderType::TakeProfit => "TAKE_PROFIT",
            OrderType::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
        }
    }

    /// Waits for a stop price or trailing delta before it works (Binance's "contingent" orders).
    pub fn is_conditional(self) -> bool {
        matches!(
            self,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        )
    }

    /// Carries a limit price (`price` is mandatory).
    pub fn has_limit_price(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        )
    }

    /// Takes a time in force from the caller (Binance requires `timeInForce` for these).
    pub fn takes_time_in_force(self) -> bool {
        matches!(
            self,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        )
    }

    /// What the order works as once it is live: a conditional `*_LIMIT` as a limit order, the
    /// other conditionals as market orders, the rest as themselves.
    pub fn working_type(self) -> OrderType {
        match self {
            OrderType::StopLoss | OrderType::TakeProfit => OrderType::Market,
            OrderType::StopLossLimit | OrderType::TakeProfitLimit => OrderType::Limit,
            other => other,
        }
    }

    /// For a conditional order of `side`: whether its stop condition is "last price ≥ stop"
    /// (`STOP_LOSS` buy, `TAKE_PROFIT` sell: the stop sits above the market) rather than
    /// "last price ≤ stop" (`STOP_LOSS` sell, `TAKE_PROFIT` buy: below the market). This is
    /// also the side of TRAILING_DELTA's bounds that applies (`*Above*` when true).
    pub fn fires_above(self, side: Side) -> bool {
        let stop_loss = matches!(self, OrderType::StopLoss | OrderType::StopLossLimit);
        stop_loss == (side == Side::Buy)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Good till cancelled: the unfilled rest of a limit order rests on the book.
    #[default]
    #[serde(alias = "gtc")]
    Gtc,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    #[serde(alias = "ioc")]
    Ioc,
    /// Fill or kill: fill all of it now or none of it.
    #[serde(alias = "fok")]
    Fok,
}

/// Lifecycle of an order. Names are Binance's (`PENDING_NEW` is the engine's own state between
/// sending and the venue's answer; `UNKNOWN` is an outcome the venue did not confirm, which is
/// resolved by querying, never by re-sending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingNew,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
    Unknown,
}

impl OrderStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Still able to trade: resting, partly filled, or not yet confirmed either way.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingNew => "PENDING_NEW",
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::Unknown => "UNKNOWN",
        }
    }
}

/// Checks a quantity from outside: present values must be positive.
pub fn positive_qty(quantity: Option<Decimal>) -> Result<Option<Qty>, DomainError> {
    match quantity {
        Some(q) if q <= Decimal::ZERO => Err(DomainError::invalid(
            "quantity",
            "must be greater than zero",
        )),
        q => Ok(q.map(Qty)),
    }
}

/// Checks a price from outside against the order type: a type with a limit price (limit,
/// limit_maker, stop_loss_limit, take_profit_limit) needs a positive one, the others take none.
pub fn price_for(
    order_type: OrderType,
    price: Option<Decimal>,
) -> Result<Option<Price>, DomainError> {
    match (order_type.has_limit_price(), price) {
        (true, None) => Err(DomainError::invalid(
            "price",
            format!("is required for {} orders", order_type.as_binance()),
        )),
        (true, Some(p)) if p <= Decimal::ZERO => {
            Err(DomainError::invalid("price", "must be greater than zero"))
        }
        (false, Some(_)) => Err(DomainError::invalid(
            "price",
            format!("is not allowed on {} orders", order_type.as_binance()),
        )),
        (_, p) => Ok(p.map(Price)),
    }
}

/// Checks the stop parameters from outside against the order type: conditional orders need a
/// positive `stop_price`, a `trailing_delta`, or both; other types take neither.
pub fn stop_for(
    order_type: OrderType,
    stop_price: Option<Decimal>,
    trailing_delta: Option<u32>,
) -> Result<(Option<Price>, Option<u32>), DomainError> {
    if !order_type.is_conditional() {
        if stop_price.is_some() {
            return Err(DomainError::invalid(
                "stop_price",
                format!("is not allowed on {} orders", order_type.as_binance()),
            ));
        }
        if trailing_delta.is_some() {
            return Err(DomainError::invalid(
                "trailing_delta",
                format!("is not allowed on {} orders", order_type.as_binance()),
            ));
        }
        return Ok((None, None));
    }
    match (stop_price, trailing_delta) {
        (None, None) => Err(DomainError::invalid(
            "stop_price",
            format!(
                "stop_price or trailing_delta is required for {} orders",
                order_type.as_binance()
            ),
        )),
        (Some(p), _) if p <= Decimal::ZERO => Err(DomainError::invalid(
            "stop_price",
            "must be greater than zero",
        )),
        (_, Some(0)) => Err(DomainError::invalid(
            "trailing_delta",
            "must be at least 1 basis point",
        )),
        (p, t) => Ok((p.map(Price), t)),
    }
}
