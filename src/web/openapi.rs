//! The OpenAPI 3 document, generated from the handlers' and types' annotations.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{control, order_lists, orders, portfolio, reconcile, risk, signals, sim, status};

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
        orders::modify_order,
        order_lists::post_oco,
        order_lists::get_order_list,
        order_lists::cancel_order_list,
        portfolio::list_positions,
        portfolio::get_position,
        portfolio::account,
        status::status,
        sim::set_price,
        risk::get_risk,
        risk::put_limits,
        risk::post_state,
        risk::resume_strategy,
        reconcile::post_reconcile,
        reconcile::get_reconcile,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_order_lists_and_the_new_order_fields() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths = &doc["paths"];
        assert!(paths.get("/v1/order-lists/oco").is_some());
        assert!(
            paths
                .get("/v1/order-lists/{list_client_order_id}")
                .is_some()
        );
        let schemas = &doc["components"]["schemas"];
        for field in [
            "size_pct",
            "risk_pct",
            "quote_amount",
            "stop_price",
            "trailing_delta",
        ] {
            assert!(
                schemas["SignalInput"]["properties"].get(field).is_some(),
                "SignalInput.{field}"
            );
        }
        assert!(
            schemas["OrderInput"]["properties"]
                .get("stop_price")
                .is_some()
        );
        let types = schemas["OrderType"].to_string();
        assert!(types.contains("stop_loss_limit"), "{types}");
        assert!(schemas.get("OcoInput").is_some());
        assert!(
            paths["/v1/orders/{client_order_id}"].get("patch").is_some(),
            "PATCH /v1/orders/{{id}}"
        );
        assert!(schemas.get("ModifyInput").is_some());
        for field in ["stop_loss_pct", "take_profit_pct"] {
            assert!(schemas["SignalInput"]["properties"].get(field).is_some());
        }
    }
}
