//! Domain types shared by every layer: ids, money, orders, order lists, fills, positions and
//! signals.
//! Nothing here does I/O or knows about actors; it is plain data plus the arithmetic on it.

mod ids;
mod order;
mod order_list;
mod position;
mod signal;
mod units;

pub use ids::{ClientOrderId, SignalId, Symbol};
pub use order::{
    Fill, Order, OrderReport, OrderRequest, OrderStatus, OrderTerms, OrderType, Side, TimeInForce,
    positive_qty, price_for, stop_for,
};
pub use order_list::{
    ContingencyType, ListOrderStatus, ListStatusType, OcoLeg, OcoRequest, OrderListReport,
};
pub use position::{Position, PositionError};
pub use signal::{Action, Signal, SignalInput, Sizing, Stops};
pub use units::{Price, Qty};

/// A value from outside that does not make a valid domain object. `field` names the input field,
/// so the HTTP layer can answer `400 {"error", "field"}` without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Parses a JSON object. A value of the wrong type is reported against its field (one of
/// `fields`); broken JSON, a missing body or an unknown key against `body`.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    fields: &[&'static str],
) -> Result<T, DomainError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if inner.is_data() {
            fields
                .iter()
                .copied()
                .find(|f| *f == path)
                .unwrap_or("body")
        } else {
            "body"
        };
        DomainError::invalid(field, inner.to_string())
    })?;
    de.end()
        .map_err(|e| DomainError::invalid("body", e.to_string()))?;
    Ok(parsed)
}
