//! API errors as JSON: `{"error": "...", "field": "..."}` for bad input, and a
//! `{"status", "reason", "detail"}` body for refusals.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, web};
use serde_json::json;

use crate::domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Invalid(DomainError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{detail}")]
    Unavailable {
        reason: &'static str,
        detail: String,
    },
    #[error("{0}")]
    BadGateway(String),
    #[error("{0}")]
    Internal(String),
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> Self {
        ApiError::Unavailable {
            reason: "engine_unavailable",
            detail: e.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::Invalid(e) => json!({ "error": e.message, "field": e.field }),
            ApiError::Unavailable { reason, detail } => {
                json!({ "status": "unavailable", "reason": reason, "detail": detail })
            }
            other => json!({ "error": other.to_string() }),
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

pub async fn not_found() -> HttpResponse {
    ApiError::NotFound("no such route".into()).error_response()
}

/// For routes that take typed JSON bodies: parse failures answer in the same JSON shape.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().error_handler(|err, _| {
        ApiError::Invalid(DomainError::invalid("body", err.to_string())).into()
    })
}
