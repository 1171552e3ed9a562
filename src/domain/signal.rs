//! Trading signals: the JSON a strategy sends (over HTTP or Redis, same schema) and the checked
//! form the order router works with. Checks that need no engine state happen here; checks that
//! need the instrument rules or the clock happen in the router.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    DomainError, OrderType, Price, Qty, SignalId, Symbol, TimeInForce, positive_qty, price_for,
    stop_for,
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
    /// `market` (default), `limit`, `limit_maker`, `stop_loss`, `stop_loss_limit`,
    /// `take_profit` or `take_profit_limit`.
    pub order_type: Option<OrderType>,
    /// Base-asset quantity, as a string or a JSON number (parsed exactly). Sizing, first of:
    /// `quantity`, `quote_amount`, `size_pct`, `risk_pct`; none → the smallest accepted size.
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    /// Spend (buy) or receive (sell) about this much of the quote asset.
    #[schema(value_type = Option<String>)]
    pub quote_amount: Option<Decimal>,
    /// Size the order at this percentage (0-100] of account equity.
    #[schema(value_type = Option<String>)]
    pub size_pct: Option<Decimal>,
    /// Size the order so that hitting the stop loses this percentage (0-100] of equity; needs
    /// `stop_loss` or `stop_loss_pct`.
    #[schema(value_type = Option<String>)]
    pub risk_pct: Option<Decimal>,
    /// Trigger price of a `stop_loss(_limit)` / `take_profit(_limit)` entry order.
    #[schema(value_type = Option<String>)]
    pub stop_price: Option<Decimal>,
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
    /// Stop-loss price of the position: used by `risk_pct` sizing and for the protective exit
    /// placed once the entry fills (below a buy's entry, above a sell's).
    #[schema(value_type = Option<String>)]
    pub stop_loss: Option<Decimal>,
    /// Take-profit price of the protective exit (above a buy's entry, below a sell's).
    #[schema(value_type = Option<String>)]
    pub take_profit: Option<Decimal>,
    /// The strategy means to send the same symbol, side, quantity and price again within the
    /// risk gate's duplicate window (e.g. scaling in): the duplicate check does not apply.
    /// Default false.
    pub allow_duplicate: Option<bool>,
    /// Stop loss as a percentage (0-100) below (buy) or above (sell) the entry: the average
    /// fill price for the exit, the entry reference for `risk_pct` sizing. When no `stop_loss`
    /// price is given.
    #[schema(value_type = Option<String>)]
    pub stop_loss_pct: Option<Decimal>,
    /// Take profit as a percentage above (buy) or below (sell) the average fill price, when no
    /// `take_profit` price is given.
    #[schema(value_type = Option<String>)]
    pub take_profit_pct: Option<Decimal>,
    /// Trailing stop distance in percent (1.5 = 150 basis points); whole basis points only.
    #[schema(value_type = Option<String>)]
    pub trailing_stop_pct: Option<Decimal>,
    /// Trailing stop distance in basis points (Binance's `trailingDelta`); instead of
    /// `trailing_stop_pct`. On a stop/take-profit entry it makes that order trail; otherwise
    /// it is recorded for exits.
    pub trailing_delta: Option<u32>,
}

/// How a signal without a `quantity` is sized (see [`crate::intake::sizing`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sizing {
    pub quote_amount: Option<Decimal>,
    /// Percent of equity, (0, 100].
    pub size_pct: Option<Decimal>,
    /// Percent of equity at risk down to the stop, (0, 100].
    pub risk_pct: Option<Decimal>,
}

/// A signal's stop parameters beyond `stop_loss` / `take_profit` prices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stops {
    /// Trigger price of a conditional entry order.
    pub stop_price: Option<Price>,
    /// Trailing distance in basis points, from `trailing_delta` or `trailing_stop_pct`.
    pub trailing_delta: Option<u32>,
    /// Percent, (0, 100).
    pub stop_loss_pct: Option<Decimal>,
    /// Percent, > 0.
    pub take_profit_pct: Option<Decimal>,
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
    pub sizing: Sizing,
    pub stops: Stops,
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
        let sizing = self.sizing()?;
        let stops = self.stops(order_type)?;
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
            sizing,
            stops,
        })
    }

    fn sizing(&self) -> Result<Sizing, DomainError> {
        if self.action == Some(Action::Close) {
            for (field, v) in [
                ("quote_amount", self.quote_amount),
                ("size_pct", self.size_pct),
                ("risk_pct", self.risk_pct),
            ] {
                if v.is_some() {
                    return Err(DomainError::invalid(
                        field,
                        "is not used by close (it closes the whole position)",
                    ));
                }
            }
        }
        Ok(Sizing {
            quote_amount: in_range("quote_amount", self.quote_amount, None, true)?,
            size_pct: in_range("size_pct", self.size_pct, Some(HUNDRED), true)?,
            risk_pct: in_range("risk_pct", self.risk_pct, Some(HUNDRED), true)?,
        })
    }

    fn stops(&self, order_type: OrderType) -> Result<Stops, DomainError> {
        let trailing = match (self.trailing_stop_pct, self.trailing_delta) {
            (Some(_), Some(_)) => {
                return Err(DomainError::invalid(
                    "trailing_stop_pct",
                    "give trailing_stop_pct or trailing_delta, not both",
                ));
            }
            (Some(pct), None) => Some(pct_to_bips(pct)?),
            (None, delta) => delta,
        };
        // A conditional entry uses the stop price and trailing delta itself; any other type
        // takes no stop price, and keeps a trailing delta for its exits.
        let (stop_price, trailing_delta) = if order_type.is_conditional() {
            stop_for(order_type, self.stop_price, trailing)?
        } else {
            if self.stop_price.is_some() {
                return Err(DomainError::invalid(
                    "stop_price",
                    "is only used by stop_loss, stop_loss_limit, take_profit and \
                     take_profit_limit orders",
                ));
            }
            if trailing == Some(0) {
                return Err(DomainError::invalid(
                    "trailing_delta",
                    "must be at least 1 basis point",
                ));
            }
            (None, trailing)
        };
        Ok(Stops {
            stop_price,
            trailing_delta,
            stop_loss_pct: in_range("stop_loss_pct", self.stop_loss_pct, Some(HUNDRED), false)?,
            take_profit_pct: in_range("take_profit_pct", self.take_profit_pct, None, true)?,
        })
    }
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// `v` must be > 0 and below `max` (or at most `max` when `max_inclusive`).
fn in_range(
    field: &'static str,
    v: Option<Decimal>,
    max: Option<Decimal>,
    max_inclusive: bool,
) -> Result<Option<Decimal>, DomainError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let too_big = max.is_some_and(|m| if max_inclusive { v > m } else { v >= m });
    if v <= Decimal::ZERO || too_big {
        let upper = match max {
            Some(m) if max_inclusive => format!(" and at most {m}"),
            Some(m) => format!(" and below {m}"),
            None => String::new(),
        };
        return Err(DomainError::invalid(
            field,
            format!("must be greater than zero{upper}"),
        ));
    }
    Ok(Some(v))
}

/// A trailing percentage in whole basis points (1.5% → 150).
fn pct_to_bips(pct: Decimal) -> Result<u32, DomainError> {
    let bips = pct.checked_mul(HUNDRED).filter(|b| b.fract().is_zero());
    match bips.and_then(|b| u32::try_from(b).ok()) {
        Some(b) if b > 0 => Ok(b),
        _ => Err(DomainError::invalid(
            "trailing_stop_pct",
            "must be a positive percentage in whole basis points (0.01 steps)",
        )),
    }
}

fn required(field: &'static str) -> DomainError {
    DomainError::invalid(field, "is required")
}

const SIGNAL_FIELDS: [&str; 21] = [
    "id",
    "strategy",
    "symbol",
    "action",
    "order_type",
    "quantity",
    "quote_amount",
    "size_pct",
    "risk_pct",
    "stop_price",
    "price",
    "time_in_force",
    "confidence",
    "timestamp",
    "stop_loss",
    "take_profit",
    "allow_duplicate",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
    "trailing_delta",
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
    fn reads_sizing_and_stop_fields() {
        let s = parse(
            r#"{"id":"a","symbol":"BTCUSDT","action":"sell","order_type":"STOP_LOSS_LIMIT",
                "price":"48900","stop_price":"49000","trailing_stop_pct":"1.25",
                "risk_pct":"0.5","stop_loss_pct":2,"take_profit_pct":"4"}"#,
        )
        .unwrap();
        assert_eq!(s.order_type, OrderType::StopLossLimit);
        assert_eq!(s.stops.stop_price.unwrap().0.to_string(), "49000");
        assert_eq!(s.stops.trailing_delta, Some(125));
        assert_eq!(s.sizing.risk_pct.unwrap().to_string(), "0.5");
        assert_eq!(s.stops.stop_loss_pct.unwrap().to_string(), "2");
        // On a market entry a trailing delta is kept for the exits.
        let s =
            parse(r#"{"id":"b","symbol":"BTCUSDT","action":"buy","trailing_delta":75}"#).unwrap();
        assert_eq!(
            (s.order_type, s.stops.trailing_delta),
            (OrderType::Market, Some(75))
        );
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
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","size_pct":"101"}"#,
                "size_pct",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","risk_pct":0}"#,
                "risk_pct",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","quote_amount":"-5"}"#,
                "quote_amount",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","stop_loss_pct":100}"#,
                "stop_loss_pct",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","trailing_stop_pct":"0.015"}"#,
                "trailing_stop_pct",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","trailing_stop_pct":1,"trailing_delta":100}"#,
                "trailing_stop_pct",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","trailing_delta":-1}"#,
                "trailing_delta",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","stop_price":49000}"#,
                "stop_price",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","order_type":"stop_loss"}"#,
                "stop_price",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"buy","order_type":"stop_loss_limit","stop_price":1}"#,
                "price",
            ),
            (
                r#"{"id":"a","symbol":"BTCUSDT","action":"close","size_pct":5}"#,
                "size_pct",
            ),
        ];
        for (json, field) in cases {
            let err = parse(json).expect_err(json);
            assert_eq!(err.field, field, "{json}: {err}");
        }
    }
}
