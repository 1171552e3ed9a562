//! The OpenAPI 3 document, generated from the handlers' and types' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{control, orders, portfolio, risk, signals, sim, status};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "redline",
        description = "Control API of the redline trading engine. Decimals are JSON strings."
    ),
    paths(
        signals::post_signal,
        orders::post_order,
        orders::list_orders,
        orders::get_order,
        orders::cancel_order,
        portfolio::list_positions,
        portfolio::get_position,
        portfolio::account,
        status::status,
        sim::set_price,
        risk::get_risk,
        risk::put_limits,
        risk::post_state,
        risk::resume_strategy,
        control::post_emergency_stop,
        control::post_resume,
    ),
    components(schemas(
        crate::risk::RiskConfig,
        crate::risk::GroupLimit,
        crate::risk::LimitsPatch,
        risk::StateInput,
        control::StopInput,
        control::ResumeInput,
    ))
)]
pub struct ApiDoc;

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
