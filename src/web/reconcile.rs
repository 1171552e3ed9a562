//! `POST /v1/reconcile` runs a reconciliation now and answers with its report;
//! `GET /v1/reconcile` shows the last report and the counters since start.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::actors::reconciler::{GetReconcileStatus, Reconcile};
use crate::engine::Engine;

use super::ApiError;

/// The refusal the intakes give until the first reconciliation succeeded, if it has not.
pub fn not_reconciled(engine: &Engine) -> Option<(&'static str, String)> {
    (!engine.reconciled.load(std::sync::atomic::Ordering::SeqCst)).then(|| {
        (
            "not_reconciled",
            "the engine has not yet reconciled its orders with the venue; no order is taken \
             until it has (see GET /v1/reconcile)"
                .to_string(),
        )
    })
}

#[utoipa::path(post, path = "/v1/reconcile", responses(
    (status = 200, description = "The run's report: open orders on each side, every discrepancy and what was done"),
    (status = 409, description = "A run is already in progress"),
    (status = 502, description = "The venue could not be read")))]
pub async fn post_reconcile(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    match engine
        .reconciler
        .send(Reconcile {
            reason: "on_demand",
        })
        .await?
    {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(e) if e.contains("already running") => Err(ApiError::Conflict(e)),
        Err(e) => Err(ApiError::BadGateway(e)),
    }
}

#[utoipa::path(get, path = "/v1/reconcile", responses((status = 200, description = "Whether the engine has reconciled, counters by discrepancy kind, the last report")))]
pub async fn get_reconcile(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let status = engine.reconciler.send(GetReconcileStatus).await?;
    Ok(HttpResponse::Ok().json(json!(status)))
}
