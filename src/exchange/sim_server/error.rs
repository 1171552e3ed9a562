//! Binance's error answer: an HTTP status and a `{"code":-1121,"msg":"Invalid symbol."}` body
//! (codes and messages as in Binance's `errors.md`), plus `Retry-After` for rate limits.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::exchange::ExchangeError;

/// One error as Binance answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// 400 for bad requests, 401 for API-key problems, 429/418 for rate limits, 5xx for the
    /// venue's own trouble.
    pub status: StatusCode,
    pub code: i64,
    pub msg: String,
    /// Seconds, for the `Retry-After` header (429 and 418).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
            retry_after: None,
        }
    }

    /// HTTP 400 with `code` and `msg`.
    pub fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    /// -1102 for one missing or malformed parameter.
    pub fn mandatory(param: &str) -> Self {
        Self::bad(
            -1102,
            format!("Mandatory parameter '{param}' was not sent, was empty/null, or malformed."),
        )
    }

    /// -1100 for a parameter outside its legal character range.
    pub fn illegal(param: &str, range: &str) -> Self {
        Self::bad(
            -1100,
            format!("Illegal characters found in parameter '{param}'; legal range is '{range}'."),
        )
    }

    /// -1020, for what the simulator does not implement (order lists, SOR, ...).
    pub fn unsupported() -> Self {
        Self::bad(-1020, "This operation is not supported.")
    }

    /// The JSON body: `{"code":..,"msg":..}`.
    pub fn body(&self) -> Value {
        json!({ "code": self.code, "msg": self.msg })
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Rejected { code, message } => Self::bad(code, message),
            ExchangeError::Auth { code, message } => {
                Self::new(StatusCode::UNAUTHORIZED, code, message)
            }
            ExchangeError::RateLimited { retry_after } => Self {
                retry_after: retry_after.map(|d| d.as_secs().max(1)),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    -1003,
                    "Too many requests queued.",
                )
            },
            ExchangeError::Connectivity(_) | ExchangeError::UnknownOutcome(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                -1006,
                "An unexpected response was received from the message bus. Execution status unknown.",
            ),
        }
    }
}
