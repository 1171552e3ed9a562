//! Trading signals: the JSON a strategy sends (over HTTP or Redis, same schema) and the checked
//! form the order router works with. Checks that need no engine state happen here; checks that
//! need the instrument rules or the clock happen in the router.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    DomainError, OrderType, Price, Qty, SignalId, Symbol, TimeInForce, positive_qty, price_for,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Buy,
    Sell,
    /// Close the whole position in the symbol with a market order.
    Close,
}

/// A signal as it arrives. Every field is optional at this stage so that a missing one is
/// reported by name (`{"error": "is required", "field": "id"}`) rather than as a parse error.
/// Unknown fields are refused, so a misspelt `quantiy` is an error, not a silently ignored size.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalInput {
    /// Idempotency key: the same id twice never makes two orders.
    pub id: Option<String>,
    pub strategy: Option<String>,
    pub symbol: Option<String>,
    pub action: Option<Action>,
    /// `market` (default) or `limit`.
    pub order_type: Option<OrderType>,
    /// Base-asset quantity, as a string or a JSON number (parsed exactly).
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    /// Limit price; required for limit orders, refused for market orders.
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
    /// The strategy's confidence, 0 to 1. Recorded; not used for sizing yet.
    #[schema(value_type = Option<String>)]
    pub confidence: Option<Decimal>,
    /// When the strategy made the signal (RFC 3339). Signals older than the configured max age
    /// are refused as stale; a missing timestamp means "now".
    pub timestamp: Option<DateTime<Utc>>,
    /// Accepted and recorded for protective exits (a later issue); not acted on yet.
    #[schema(value_type = Option<String>)]
    pub stop_loss: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub take_profit: Option<Decimal>,
    /// The strategy means to send the same symbol, side, quantity and price again within the
    /// risk gate's duplicate window (e.g. scaling in): the duplicate check does not apply.
    /// Default false.
    pub allow_duplicate: Option<bool>,
}

/// A signal whose fields are each well-formed on their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    pub id: SignalId,
    pub strategy: Option<String>,
    pub symbol: Symbol,
    pub action: Action,
    pub order_type: OrderType,
    /// `None` means "size it for me" (buy/sell) or "the whole position" (close).
    pub quantity: Option<Qty>,
    pub price: Option<Price>,
    pub time_in_force: TimeInForce,
    pub confidence: Option<Decimal>,
    pub timestamp: Option<DateTime<Utc>>,
    pub stop_loss: Option<Price>,
    pub take_profit: Option<Price>,
    pub allow_duplicate: bool,
}

const MAX_STRATEGY_LEN: usize = 64;

impl SignalInput {
    /// Parses a JSON body; a type error names the field it is in.
    pub fn from_json(body: &[u8]) -> Result<Self, DomainError> {
        super::parse_json(body, &SIGNAL_FIELDS)
    }

    /// Checks each field on its own; the first problem is returned with its field name.
    pub fn validate(self) -> Result<Signal, DomainError> {
        let id = SignalId::new(self.id.as_deref().ok_or_else(|| required("id"))?)?;
        let symbol = Symbol::new(self.symbol.as_deref().ok_or_else(|| required("symbol"))?)?;
        let action = self.action.ok_or_else(|| required("action"))?;
        if let Some(s) = &self.strategy
            && (s.is_empty() || s.len() > MAX_STRATEGY_LEN || s.chars().any(char::is_control))
        {
            return Err(DomainError::invalid(
                "strategy",
                format!("must be 1-{MAX_STRATEGY_LEN} printable characters"),
            ));
        }
        let order_type = self.order_type.unwrap_or(OrderType::Market);
        let quantity = positive_qty(self.quantity)?;
        let price = price_for(order_type, self.price)?;
        if action == Action::Close && order_type != OrderType::Market {
            return Err(DomainError::invalid(
                "order_type",
                "close always uses a market order",
            ));
        }
        if let Some(c) = self.confidence
            && !(Decimal::ZERO..=Decimal::ONE).contains(&c)
        {
            return Err(DomainError::invalid(
                "confidence",
                "must be between 0 and 1",
            ));
        }
        let positive = |field: &'static str, v: Option<Decimal>| match v {
            Some(p) if p <= Decimal::ZERO => {
                Err(DomainError::invalid(field, "must be greater than zero"))
            }
            p => Ok(p.map(Price)),
        };
        Ok(Signal {
            id,
            strategy: self.strategy,
            symbol,
            action,
            order_type,
            quantity,
            price,
            time_in_force: self.time_in_force.unwrap_or_default(),
            confidence: self.confidence,
            timestamp: self.timestamp,
            stop_loss: positive("stop_loss", self.stop_loss)?,
            take_profit: positive("take_profit", self.take_profit)?,
            allow_duplicate: self.allow_duplicate.unwrap_or(false),
        })
    }
}

fn required(field: &'static str) -> DomainError {
    DomainError::invalid(field, "is required")
}

const SIGNAL_FIELDS: [&str; 13] = [
    "id",
    "strategy",
    "symbol",
    "action",
    "order_type",
    "quantity",
    "price",
    "time_in_force",
    "confidence",
    "timestamp",
    "stop_loss",
    "take_profit",
    "allow_duplicate",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Signal, DomainError> {
        SignalInput::from_json(json.as_bytes())?.validate()
    }

    #[test]
    fn accepts_a_minimal_market_signal() {
        let s = parse(r#"{"id":"a1","symbol":"BTCUSDT","action":"buy","quantity":0.001}"#).unwrap();
        assert_eq!(s.order_type, OrderType::Market);
        assert_eq!(s.quantity.unwrap().0.to_string(), "0.001");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{"symbol":"BTCUSDT","action":"buy"}"#, "id"),
            (r#"{"id":"a","action":"buy"}"#, "symbol"),
            (r#"{"id":"a","symbol":"btc usdt","action":"buy"}"#, "symbol"),
            (r#"{"id":"a","symbol":"BTCUSDT","action":"hold"}"#, "action"),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","quantity":"-1"}"#,
                "quantity",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","quantity":0}"#,
                "quantity",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","quantity":"abc"}"#,
                "quantity",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","order_type":"limit"}"#,
                "price",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","price":"5"}"#,
                "price",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","confidence":2}"#,
                "confidence",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","timestamp":"yesterday"}"#,
                "timestamp",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","quantiy":1}"#,
                "body",
            ),
            (r#"{"id":"a","symbol":"#, "body"),
        ];
        for (json, field) in cases {
            let err = parse(json).expect_err(json);
            assert_eq!(err.field, field, "{json}: {err}");
        }
    }
}
