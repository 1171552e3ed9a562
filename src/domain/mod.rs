//! Domain types shared by every layer: ids, money, orders, fills, positions and signals.
//! Nothing here does I/O or knows about actors; it is plain data plus the arithmetic on it.

mod ids;
mod order;
mod position;
mod signal;
mod units;

pub use ids::{ClientOrderId, SignalId, Symbol};
pub use order::{
    Fill, Order, OrderReport, OrderRequest, OrderStatus, OrderType, Side, TimeInForce,
};
pub use position::{Position, PositionError};
pub use signal::{Action, Signal, SignalInput};
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
