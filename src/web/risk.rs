//! The risk gate over HTTP: its state and limits with their use, runtime limit changes, the
//! trading state, and resuming a strategy the consecutive-loss breaker paused.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::actors::risk_gate::{GetRiskState, ResumeStrategy, SetTradingState, UpdateLimits};
use crate::domain::{DomainError, parse_json};
use crate::engine::Engine;
use crate::risk::limits::PATCH_FIELDS;
use crate::risk::{LimitsPatch, TradingState};

use super::ApiError;

/// Who made a change: the `X-Redline-Operator` header, or `api`.
const OPERATOR_HEADER: &str = "x-redline-operator";
const MAX_OPERATOR_LEN: usize = 64;

pub(super) fn operator(req: &HttpRequest) -> Result<String, ApiError> {
    match req.headers().get(OPERATOR_HEADER).map(|h| h.to_str()) {
        None => Ok("api".into()),
        Some(Ok(v))
            if !v.is_empty() && v.len() <= MAX_OPERATOR_LEN && !v.chars().any(char::is_control) =>
        {
            Ok(v.to_string())
        }
        Some(_) => Err(DomainError::invalid(
            "x-redline-operator",
            format!("must be 1-{MAX_OPERATOR_LEN} printable characters"),
        )
        .into()),
    }
}

#[utoipa::path(get, path = "/v1/risk",
    responses((status = 200, description = "Trading state, equity, every limit with its current use \
        (`utilization.{daily_loss, trades_today, open_positions, total_exposure, directional_exposure, \
        available_balance, messages_last_second, messages_last_minute, orders_last_second, fills_in_window}` \
        as `{used, limit}`; limit 0 = off), exposure per symbol and group, strategies (paused ones \
        listed in `paused_strategies`), the last limit changes")))]
pub async fn get_risk(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(engine.risk.send(GetRiskState).await?))
}

#[utoipa::path(put, path = "/v1/risk/limits", request_body = LimitsPatch,
    params(("X-Redline-Operator" = Option<String>, Header, description = "Who is changing the limits (recorded; default `api`)")),
    responses(
        (status = 200, description = "Applied: the whole new limit set", body = crate::risk::RiskConfig),
        (status = 400, description = "`{error, field, problems: [{field, error}]}`; nothing applied"),
        (status = 401, description = "Missing or wrong bearer token")))]
pub async fn put_limits(
    engine: web::Data<Engine>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let by = operator(&req)?;
    let patch: LimitsPatch = parse_json(&body, &PATCH_FIELDS)?;
    match engine.risk.send(UpdateLimits { patch, by }).await? {
        Ok(limits) => Ok(HttpResponse::Ok().json(limits)),
        Err(problems) => {
            let list: Vec<_> = problems
                .iter()
                .map(|p| json!({ "field": p.field, "error": p.message }))
                .collect();
            let first = problems.first();
            Ok(HttpResponse::BadRequest().json(json!({
                "error": first.map(|p| p.message.clone()),
                "field": first.map(|p| p.field),
                "problems": list,
            })))
        }
    }
}

/// `POST /v1/risk/state` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateInput {
    /// `active`, `reducing` (only orders that shrink a position pass) or `halted`.
    pub state: Option<String>,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/risk/state", request_body = StateInput,
    responses((status = 200, description = "`{trading_state, halt_reason}` after the change"),
              (status = 400, description = "`{error, field}`"), (status = 401),
              (status = 409, description = "An emergency stop is in force: only `POST /v1/resume` lifts it")))]
pub async fn post_state(
    engine: web::Data<Engine>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let by = operator(&req)?;
    let input: StateInput = parse_json(&body, &["state", "reason"])?;
    let state = match input.state.as_deref() {
        Some("active") => TradingState::Active,
        Some("reducing") => TradingState::Reducing,
        Some("halted") => TradingState::Halted,
        Some(other) => {
            return Err(DomainError::invalid(
                "state",
                format!("{other:?} is not active, reducing or halted"),
            )
            .into());
        }
        None => return Err(DomainError::invalid("state", "is required").into()),
    };
    let reason = match input.reason {
        Some(r) if r.len() > 256 || r.chars().any(char::is_control) => {
            return Err(
                DomainError::invalid("reason", "must be at most 256 printable characters").into(),
            );
        }
        Some(r) => format!("{r} (by {by})"),
        None => format!("set by {by}"),
    };
    if state != TradingState::Halted
        && let Some(stop) = engine.latch.record().filter(|_| engine.latch.is_engaged())
    {
        return Err(ApiError::Conflict(format!(
            "an emergency stop is in force ({}, by {} at {}): only POST /v1/resume lifts it",
            stop.reason, stop.by, stop.at
        )));
    }
    engine.risk.send(SetTradingState { state, reason }).await?;
    let report = engine.risk.send(GetRiskState).await?;
    Ok(HttpResponse::Ok().json(json!({
        "trading_state": report.trading_state,
        "halt_reason": report.halt_reason,
    })))
}

#[utoipa::path(post, path = "/v1/risk/strategies/{strategy}/resume",
    responses((status = 200, description = "`{strategy, resumed: true}`"),
              (status = 409, description = "The strategy is not paused"), (status = 401)))]
pub async fn resume_strategy(
    engine: web::Data<Engine>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let by = operator(&req)?;
    let strategy = path.into_inner();
    if engine
        .risk
        .send(ResumeStrategy {
            strategy: strategy.clone(),
            by,
        })
        .await?
    {
        Ok(HttpResponse::Ok().json(json!({ "strategy": strategy, "resumed": true })))
    } else {
        Err(ApiError::Conflict(format!(
            "strategy {strategy} is not paused"
        )))
    }
}
