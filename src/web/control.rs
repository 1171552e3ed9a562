//! The kill switch over HTTP: `POST /v1/emergency-stop` and `POST /v1/resume`. Both need the
//! bearer token when one is set (every non-GET route under `/v1` does) and record who asked
//! (`X-Redline-Operator`, else `api`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::control::{self, StopRequest, clean_reason};
use crate::domain::{DomainError, parse_json};
use crate::engine::Engine;

use super::ApiError;
use super::risk::operator;

/// `POST /v1/emergency-stop` body. An empty body is a stop without flattening.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopInput {
    /// Also close every position with market orders (default false).
    #[serde(default)]
    pub flatten: bool,
    pub reason: Option<String>,
}

/// `POST /v1/resume` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeInput {
    /// Why trading may go on (required, recorded).
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/emergency-stop", request_body = StopInput,
    params(("X-Redline-Operator" = Option<String>, Header, description = "Who is stopping trading (recorded; default `api`)")),
    responses(
        (status = 200, description = "Trading is halted (latched until `POST /v1/resume`, also across \
            restarts): `{halted: true, already_halted, stop: {reason, by, at, flatten}, cancelled: [{symbol, \
            client_order_id, exchange_order_id, status, executed_qty}], flattened: [{symbol, side, quantity, \
            status, executed_qty, client_order_id}], failed: [{symbol, action, error}]}`. Anything in \
            `failed` needs a person."),
        (status = 401, description = "Missing or wrong bearer token")))]
pub async fn post_emergency_stop(
    engine: web::Data<Engine>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // A kill switch is never refused: a request it cannot read still halts trading and
    // cancels (the safe part), but does not flatten (which trades); the answer says why.
    let mut problems = Vec::new();
    let by = operator(&req).unwrap_or_else(|e| {
        problems.push(format!("X-Redline-Operator: {e}"));
        "api".into()
    });
    let input: StopInput = if body.iter().all(u8::is_ascii_whitespace) {
        StopInput::default()
    } else {
        parse_json(&body, &["flatten", "reason"]).unwrap_or_else(|e| {
            problems.push(format!(
                "request body ({}): {}; stopped without flattening (send again to flatten)",
                e.field, e.message
            ));
            StopInput::default()
        })
    };
    let reason = input
        .reason
        .as_deref()
        .map(clean_reason)
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "no reason given".into());
    let request = StopRequest {
        flatten: input.flatten,
        reason,
        by,
    };
    let mut report = control::emergency_stop(&engine, request).await;
    report
        .failed
        .extend(problems.into_iter().map(|error| control::StopFailure {
            symbol: None,
            action: "request",
            error,
        }));
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(post, path = "/v1/resume", request_body = ResumeInput,
    params(("X-Redline-Operator" = Option<String>, Header, description = "Who is resuming trading (recorded; default `api`)")),
    responses(
        (status = 200, description = "`{trading_state: active, lifted: {reason, by, at, flatten} | null}`"),
        (status = 400, description = "`{error, field}`: a reason is required"),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 500, description = "The stop could not be lifted (its record could not be removed); it stays in force")))]
pub async fn post_resume(
    engine: web::Data<Engine>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let by = operator(&req)?;
    let input: ResumeInput = parse_json(&body, &["reason"])?;
    let reason = input
        .reason
        .as_deref()
        .map(clean_reason)
        .unwrap_or_default();
    if reason.is_empty() {
        return Err(DomainError::invalid("reason", "is required to resume trading").into());
    }
    match control::resume(&engine, &reason, &by).await {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(e) => Err(ApiError::Internal(e)),
    }
}
