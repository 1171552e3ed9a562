//! The OpenAPI 3 document, generated from the handlers' and types' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{order_lists, orders, portfolio, signals, sim, status};

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
        order_lists::post_oco,
        order_lists::get_order_list,
        order_lists::cancel_order_list,
        portfolio::list_positions,
        portfolio::get_position,
        portfolio::account,
        status::status,
        sim::set_price,
    )
)]
pub struct ApiDoc;

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
