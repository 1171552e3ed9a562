//! The exchange port. `ExchangeGateway` (the only actor that talks to a venue) holds a
//! `dyn Exchange`; adapters implement it: `sim` (the built-in simulated exchange, the default)
//! and, later, `binance`.
//!
//! The contract mirrors Binance's: `submit` answers with the order's state and any immediate
//! fills; every later change (and, possibly, the same fills again) arrives as an
//! `ExchangeEvent::Order` on the stream from `subscribe`. Receivers de-duplicate fills by trade id.

pub mod binance;
pub mod filters;
pub mod sim;
pub mod sim_server;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::domain::{
    ClientOrderId, OcoRequest, OrderListReport, OrderReport, OrderRequest, Price, Symbol,
};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Errors split by what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The venue definitely refused the request (bad parameters, filters, balance, unknown
    /// order). Nothing happened; retrying the same request gets the same answer.
    #[error("rejected by the exchange ({code}): {message}")]
    Rejected { code: i64, message: String },
    /// The request definitely did not take effect (could not connect, refused before sending).
    /// Safe to retry later; counts against the circuit breaker.
    #[error("exchange unreachable: {0}")]
    Connectivity(String),
    /// The request may or may not have taken effect (timeout, 5xx, -1007). The order goes to
    /// UNKNOWN and is resolved by querying it, never by sending it again.
    #[error("outcome unknown: {0}")]
    UnknownOutcome(String),
    /// The venue's rate limit was hit; nothing may be sent until `retry_after` has passed.
    #[error("rate limited by the exchange{}", retry_note(retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// The venue refused the credentials or their permissions (bad API key, signature, IP not
    /// allowed, trading not enabled). Nothing happened; an operator must fix the configuration.
    #[error("exchange refused the credentials ({code}): {message}")]
    Auth { code: i64, message: String },
}

/// "; nothing is sent for the next 2 s" (whole seconds, rounded up), or nothing.
fn retry_note(retry_after: &Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |d| {
        let secs = d.as_millis().div_ceil(1000);
        format!("; nothing is sent for the next {secs} s")
    })
}

impl ExchangeError {
    /// Whether this error says something is wrong with the venue or the path to it (and so
    /// counts toward opening the circuit breaker), rather than with one request.
    pub fn is_venue_failure(&self) -> bool {
        !matches!(self, ExchangeError::Rejected { .. })
    }

    /// Binance's -2011 "Unknown order sent.", which a cancel-all answers when nothing is open.
    pub fn is_nothing_to_cancel(&self) -> bool {
        matches!(self, ExchangeError::Rejected { code, .. } if *code == CODE_CANCEL_REJECTED)
    }
}

/// Installs rustls' `ring` crypto provider for the process (once; later calls do nothing).
/// Call before building any reqwest client or TLS WebSocket connection: reqwest is built with
/// `rustls-no-provider` so no second provider (aws-lc) is compiled in.
pub fn ensure_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only if another provider was installed first, which serves just as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
#[test]
fn a_rate_limit_says_how_long_it_lasts() {
    let e = ExchangeError::RateLimited {
        retry_after: Some(Duration::from_millis(1_200)),
    };
    assert_eq!(
        e.to_string(),
        "rate limited by the exchange; nothing is sent for the next 2 s"
    );
    let e = ExchangeError::RateLimited { retry_after: None };
    assert_eq!(e.to_string(), "rate limited by the exchange");
}

/// Binance's code for "Order does not exist." (query/cancel of an unknown order).
pub const CODE_NO_SUCH_ORDER: i64 = -2013;
/// Binance's code for new-order rejections (balance, duplicate id, would-match...).
pub const CODE_NEW_ORDER_REJECTED: i64 = -2010;
/// Binance's code for cancel rejections ("Unknown order sent.").
pub const CODE_CANCEL_REJECTED: i64 = -2011;
/// Binance's code for bad parameters, including filter failures ("Filter failure: NAME").
pub const CODE_INVALID_MESSAGE: i64 = -1013;
/// Binance's code for an unknown symbol.
pub const CODE_BAD_SYMBOL: i64 = -1121;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Balance {
    pub asset: String,
    #[schema(value_type = String)]
    pub free: Decimal,
    #[schema(value_type = String)]
    pub locked: Decimal,
}

/// Something the venue pushes: an order changed, or a price moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeEvent {
    Order(OrderReport),
    /// An order list was placed, finished or canceled (Binance's `listStatus`). The legs'
    /// own changes arrive as `Order` events as usual.
    OrderList(OrderListReport),
    Price {
        symbol: Symbol,
        price: Price,
        ts: DateTime<Utc>,
    },
    /// The push connection is (again) live: anything that happened while it was not (down, or
    /// not yet up) was not pushed, so the receiver must reconcile (re-query open orders) now.
    Reconnected,
}

/// The port every venue adapter implements. Methods return boxed futures so the gateway can hold
/// any adapter behind `Arc<dyn Exchange>`.
pub trait Exchange: Send + Sync + 'static {
    /// Short name for logs and `/v1/status` (`"sim"`, `"binance"`).
    fn venue(&self) -> &'static str;
    fn submit(&self, order: OrderRequest) -> BoxFuture<Result<OrderReport, ExchangeError>>;
    /// Places an OCO order list (Binance's `POST /api/v3/orderList/oco`). The answer holds the
    /// list (`EXEC_STARTED` / `EXECUTING`) and both legs; every later change to a leg arrives
    /// as `ExchangeEvent::Order`, and the list's end as `ExchangeEvent::OrderList`.
    fn submit_oco(&self, oco: OcoRequest) -> BoxFuture<Result<OrderListReport, ExchangeError>>;
    /// Cancels a whole order list by its `list_client_order_id` (Binance's
    /// `DELETE /api/v3/orderList`); the answer is the list, `ALL_DONE`, with its legs canceled.
    fn cancel_order_list(
        &self,
        symbol: Symbol,
        list_client_order_id: ClientOrderId,
    ) -> BoxFuture<Result<OrderListReport, ExchangeError>>;
    fn cancel(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>>;
    fn query(
        &self,
        symbol: Symbol,
        id: ClientOrderId,
    ) -> BoxFuture<Result<OrderReport, ExchangeError>>;
    /// Cancels every open order and order list on `symbol` (Binance's `DELETE openOrders`),
    /// answering with the cancelled orders; nothing open is `Ok` and empty. The cancels are
    /// also pushed like any other. Used by the emergency stop and by shutdown.
    fn cancel_all(&self, symbol: Symbol) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>>;
    fn open_orders(&self) -> BoxFuture<Result<Vec<OrderReport>, ExchangeError>>;
    fn balances(&self) -> BoxFuture<Result<Vec<Balance>, ExchangeError>>;
    /// The last price of every symbol the venue trades (Binance's `ticker/price`).
    fn prices(&self) -> BoxFuture<Result<Vec<(Symbol, Price)>, ExchangeError>>;
    /// A new stream of pushed events. The stream ending means the connection to the venue's
    /// push channel is gone; the subscriber must resubscribe and reconcile.
    fn subscribe(&self) -> mpsc::UnboundedReceiver<ExchangeEvent>;
    /// What the adapter can tell `/v1/status` about its connection (where it points, request
    /// counters, any ban). Nothing by default.
    fn status(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
}
