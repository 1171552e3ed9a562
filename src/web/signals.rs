//! `POST /v1/signals`, and the one function both HTTP and the Redis bridge use to submit a
//! signal, so the two doors answer with the same JSON and publish the same decision event.

use actix_web::{HttpResponse, http::StatusCode, web};
use serde_json::{Value, json};

use crate::actors::messages::SubmitOutcome;
use crate::actors::order_router::SubmitSignal;
use crate::domain::SignalInput;
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::journal::{Entry, EntryKind, Record};
use crate::web::reconcile::not_reconciled;

/// Parses, submits and answers one signal; publishes the decision on the event bus.
pub async fn submit_signal(engine: &Engine, body: &[u8]) -> (StatusCode, Value) {
    let parsed = SignalInput::from_json(body);
    let raw_id = parsed.as_ref().ok().and_then(|s| s.id.clone());
    if let (Some(journal), Ok(input)) = (&engine.journal, &parsed) {
        // The signal as received, before any decision (which is journaled as its own entry).
        let mut entry = Entry::new(engine.clock.now(), EntryKind::Signal, input).by("intake");
        if let Some(symbol) = &input.symbol {
            entry = entry.symbol(symbol);
        }
        journal.writer.do_send(Record(entry));
    }
    let outcome = match parsed.and_then(SignalInput::validate) {
        Ok(_) if let Some((reason, detail)) = not_reconciled(engine) => {
            SubmitOutcome::Unavailable { reason, detail }
        }
        Ok(signal) => match engine.router.send(SubmitSignal(signal)).await {
            Ok(outcome) => outcome,
            Err(e) => SubmitOutcome::Unavailable {
                reason: "engine_unavailable",
                detail: e.to_string(),
            },
        },
        Err(e) => SubmitOutcome::Invalid(e),
    };
    let (status, body) = render(raw_id.as_deref(), &outcome);
    engine.events.publish_with(|| {
        let reason = outcome.reason();
        EngineEvent::SignalDecision {
            signal_id: raw_id.unwrap_or_default(),
            status: outcome.status(),
            client_order_id: outcome.client_order_id().map(|c| c.to_string()),
            reason: reason.as_ref().map(|r| r.0.clone()),
            detail: reason.map(|r| r.1),
            ts: engine.clock.now(),
        }
    });
    (status, body)
}

/// The HTTP status and JSON body for an outcome (shared with `POST /v1/orders`).
pub fn render(signal_id: Option<&str>, outcome: &SubmitOutcome) -> (StatusCode, Value) {
    let coid = outcome.client_order_id().map(|c| c.to_string());
    let (reason, detail) = outcome.reason().unzip();
    match outcome {
        SubmitOutcome::Submitted(order) => (
            StatusCode::CREATED,
            json!({ "signal_id": signal_id, "status": "submitted", "client_order_id": coid, "order": order }),
        ),
        SubmitOutcome::Duplicate(_) => (
            StatusCode::OK,
            json!({ "signal_id": signal_id, "status": "duplicate", "client_order_id": coid }),
        ),
        SubmitOutcome::Invalid(e) => (
            StatusCode::BAD_REQUEST,
            json!({ "error": e.message, "field": e.field }),
        ),
        SubmitOutcome::Refused(_) | SubmitOutcome::ExchangeRejected { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "signal_id": signal_id, "status": "rejected", "reason": reason, "detail": detail, "client_order_id": coid }),
        ),
        SubmitOutcome::Unavailable { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "signal_id": signal_id, "status": "unavailable", "reason": reason, "detail": detail }),
        ),
        SubmitOutcome::ExchangeFailed { .. } => (
            StatusCode::BAD_GATEWAY,
            json!({ "signal_id": signal_id, "status": "failed", "reason": reason, "detail": detail, "client_order_id": coid }),
        ),
        SubmitOutcome::Unknown(order) => (
            StatusCode::ACCEPTED,
            json!({ "signal_id": signal_id, "status": "unknown", "reason": reason, "detail": detail, "client_order_id": coid, "order": order }),
        ),
    }
}

#[utoipa::path(
    post,
    path = "/v1/signals",
    request_body = SignalInput,
    responses(
        (status = 201, description = "Submitted: `{signal_id, status: submitted, client_order_id, order}`"),
        (status = 200, description = "Duplicate signal id: `{status: duplicate, client_order_id}` of the original"),
        (status = 400, description = "Invalid input: `{error, field}`"),
        (status = 422, description = "Refused by risk or the venue: `{status: rejected, reason, detail}`"),
        (status = 503, description = "Breaker open or trading halted: `{status: unavailable, reason, detail}`"),
        (status = 502, description = "Venue unreachable; the order was not sent"),
        (status = 202, description = "Venue did not confirm; the order is UNKNOWN until a query resolves it"),
    )
)]
pub async fn post_signal(engine: web::Data<Engine>, body: web::Bytes) -> HttpResponse {
    let (status, body) = submit_signal(&engine, &body).await;
    HttpResponse::build(status).json(body)
}
