//! Health, readiness and the engine's status (mode, breaker, trading state, actor metrics).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::actors::circuit_breaker::GetBreakerState;
use crate::actors::order_router::GetRouterStats;
use crate::actors::reconciler::GetReconcileStatus;
use crate::actors::risk_gate::GetRiskState;
use crate::engine::Engine;

use super::ApiError;

/// The process is up.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// The process is up and its actors answer.
pub async fn health(engine: web::Data<Engine>) -> HttpResponse {
    match engine.breaker.send(GetBreakerState).await {
        Ok(_) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(e) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unhealthy", "detail": e.to_string() })),
    }
}

/// Ready to take signals: the venue connection has delivered a price for every instrument and
/// the risk gate has loaded the account's balances.
pub async fn ready(engine: web::Data<Engine>) -> HttpResponse {
    if let Some((_, detail)) = super::reconcile::not_reconciled(&engine) {
        return HttpResponse::ServiceUnavailable()
            .json(json!({ "ready": false, "detail": detail }));
    }
    let priced = engine.market.all().len();
    let needed = engine.instruments.len();
    let account = engine
        .risk
        .send(GetRiskState)
        .await
        .is_ok_and(|r| r.account_known);
    if !account {
        return HttpResponse::ServiceUnavailable().json(
            json!({ "ready": false, "detail": "the risk gate has not loaded the account's balances" }),
        );
    }
    if priced >= needed {
        HttpResponse::Ok().json(json!({ "ready": true }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "ready": false, "detail": format!("prices for {priced} of {needed} instruments") }))
    }
}

#[utoipa::path(get, path = "/v1/status", responses((status = 200, description = "Mode, venue, breaker, trading state, actor metrics")))]
pub async fn status(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let breaker = engine.breaker.send(GetBreakerState).await?;
    let risk = engine.risk.send(GetRiskState).await?;
    let router = engine.router.send(GetRouterStats).await?;
    let reconcile = engine.reconciler.send(GetReconcileStatus).await?;
    let actors: serde_json::Map<String, serde_json::Value> = engine
        .supervision
        .snapshot()
        .into_iter()
        .map(|(name, stats)| (name.to_string(), json!(stats)))
        .collect();
    let prices: serde_json::Map<String, serde_json::Value> = engine
        .market
        .all()
        .into_iter()
        .map(|(s, p, ts)| (s.to_string(), json!({ "price": p, "ts": ts })))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "mode": engine.sim.as_ref().map_or("live", |_| "paper"),
        "venue": engine.exchange.venue(),
        "exchange": engine.exchange.status(),
        "trading_state": risk.trading_state,
        "halt_reason": risk.halt_reason,
        "breaker": breaker,
        "risk": risk,
        "orders": router,
        "reconciliation": {
            "reconciled": reconcile.reconciled,
            "runs": reconcile.runs,
            "failures": reconcile.failures,
            "discrepancies": reconcile.discrepancies,
            "last_error": reconcile.last_error,
        },
        "actors": actors,
        "prices": prices,
    })))
}
