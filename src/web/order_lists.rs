//! Manual OCO order lists: place, read and cancel.

use actix_web::{HttpResponse, http::StatusCode, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::actors::order_router::{
    CancelError, CancelOrderList, GetOrderList, ListOutcome, OcoLegInput, PlaceOco,
};
use crate::domain::{
    ClientOrderId, DomainError, OrderType, Side, Symbol, TimeInForce, parse_json, positive_qty,
    price_for, stop_for,
};
use crate::engine::Engine;
use crate::exchange::ExchangeError;

use super::ApiError;
use super::signals::render;

/// One leg of an OCO.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OcoLegJson {
    /// `limit_maker`, `take_profit(_limit)` or `stop_loss(_limit)`, by the leg's place.
    pub order_type: Option<OrderType>,
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub stop_price: Option<Decimal>,
    /// Basis points (100 = 1%).
    pub trailing_delta: Option<u32>,
    pub time_in_force: Option<TimeInForce>,
    pub client_order_id: Option<String>,
}

/// An OCO (Binance's `orderList/oco`). Sell: `above` is the limit maker / take profit above
/// the market, `below` the stop loss under it. Buy: `above` is the stop loss, `below` the
/// limit maker / take profit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OcoInput {
    pub symbol: Option<String>,
    pub side: Option<Side>,
    /// Quantity of each leg.
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    pub list_client_order_id: Option<String>,
    pub above: Option<OcoLegJson>,
    pub below: Option<OcoLegJson>,
}

const OCO_FIELDS: [&str; 18] = [
    "symbol",
    "side",
    "quantity",
    "list_client_order_id",
    "above",
    "above.order_type",
    "above.price",
    "above.stop_price",
    "above.trailing_delta",
    "above.time_in_force",
    "above.client_order_id",
    "below",
    "below.order_type",
    "below.price",
    "below.stop_price",
    "below.trailing_delta",
    "below.time_in_force",
    "below.client_order_id",
];

/// `above.price`-style field names for a leg's errors.
fn leg_field(leg: &'static str, field: &'static str) -> &'static str {
    let names = if leg == "above" {
        &OCO_FIELDS[5..11]
    } else {
        &OCO_FIELDS[12..18]
    };
    names
        .iter()
        .copied()
        .find(|n| n.ends_with(&format!(".{field}")))
        .unwrap_or(leg)
}

impl OcoLegJson {
    fn validate(self, leg: &'static str) -> Result<OcoLegInput, DomainError> {
        let in_leg = |e: DomainError| DomainError::invalid(leg_field(leg, e.field), e.message);
        let order_type = self
            .order_type
            .ok_or_else(|| DomainError::invalid(leg_field(leg, "order_type"), "is required"))?;
        let price = price_for(order_type, self.price).map_err(in_leg)?;
        let (stop_price, trailing_delta) =
            stop_for(order_type, self.stop_price, self.trailing_delta).map_err(in_leg)?;
        let client_order_id = self
            .client_order_id
            .as_deref()
            .map(ClientOrderId::new)
            .transpose()
            .map_err(|e| in_leg(DomainError::invalid("client_order_id", e.message)))?;
        Ok(OcoLegInput {
            client_order_id,
            order_type,
            price,
            stop_price,
            trailing_delta,
            time_in_force: self.time_in_force.unwrap_or_default(),
        })
    }
}

impl OcoInput {
    fn validate(self) -> Result<PlaceOco, DomainError> {
        let required = |f: &'static str| DomainError::invalid(f, "is required");
        let symbol = Symbol::new(self.symbol.as_deref().ok_or_else(|| required("symbol"))?)?;
        let side = self.side.ok_or_else(|| required("side"))?;
        let quantity = positive_qty(self.quantity)?.ok_or_else(|| required("quantity"))?;
        let list_client_order_id = self
            .list_client_order_id
            .as_deref()
            .map(ClientOrderId::new)
            .transpose()
            .map_err(|e| DomainError::invalid("list_client_order_id", e.message))?;
        let above = self
            .above
            .ok_or_else(|| required("above"))?
            .validate("above")?;
        let below = self
            .below
            .ok_or_else(|| required("below"))?
            .validate("below")?;
        Ok(PlaceOco {
            symbol,
            side,
            quantity,
            list_client_order_id,
            above,
            below,
        })
    }
}

fn render_list(outcome: ListOutcome) -> (StatusCode, serde_json::Value) {
    match outcome {
        ListOutcome::Submitted(list) => (
            StatusCode::CREATED,
            json!({ "status": "submitted", "order_list": list }),
        ),
        ListOutcome::Invalid(e) => (
            StatusCode::BAD_REQUEST,
            json!({ "error": e.message, "field": e.field }),
        ),
        ListOutcome::NotSent(outcome) => render(None, &outcome),
        ListOutcome::ExchangeRejected {
            list,
            code,
            message,
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "status": "rejected", "reason": "exchange_rejected",
                    "detail": format!("{message} ({code})"), "order_list": list }),
        ),
        ListOutcome::ExchangeFailed { error } => (
            StatusCode::BAD_GATEWAY,
            json!({ "status": "failed", "reason": "exchange_unavailable", "detail": error }),
        ),
        ListOutcome::Unknown(list) => (
            StatusCode::ACCEPTED,
            json!({ "status": "unknown", "reason": "outcome_unknown", "order_list": list }),
        ),
    }
}

#[utoipa::path(post, path = "/v1/order-lists/oco", request_body = OcoInput,
    responses((status = 201, description = "Placed: `{status, order_list}`"), (status = 400, description = "`{error, field}`"),
              (status = 422, description = "Refused by risk or the venue"), (status = 503, description = "Breaker open or halted")))]
pub async fn post_oco(
    engine: web::Data<Engine>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: OcoInput = parse_json(&body, &OCO_FIELDS)?;
    let outcome = engine.router.send(input.validate()?).await?;
    let (status, body) = render_list(outcome);
    Ok(HttpResponse::build(status).json(body))
}

fn list_id(raw: &str) -> Result<ClientOrderId, ApiError> {
    ClientOrderId::new(raw).map_err(ApiError::from)
}

#[utoipa::path(get, path = "/v1/order-lists/{list_client_order_id}",
    responses((status = 200, body = crate::actors::order_router::OrderListView), (status = 404)))]
pub async fn get_order_list(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match engine.router.send(GetOrderList(list_id(&path)?)).await? {
        Some(list) => Ok(HttpResponse::Ok().json(list)),
        None => Err(ApiError::NotFound(format!("no order list {path}"))),
    }
}

#[utoipa::path(delete, path = "/v1/order-lists/{list_client_order_id}",
    responses((status = 200, body = crate::actors::order_router::OrderListView), (status = 404), (status = 409, description = "Not open")))]
pub async fn cancel_order_list(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match engine.router.send(CancelOrderList(list_id(&path)?)).await? {
        Ok(list) => Ok(HttpResponse::Ok().json(list)),
        Err(CancelError::NotFound) => Err(ApiError::NotFound(format!("no order list {path}"))),
        Err(e @ CancelError::NotOpen(_)) => Err(ApiError::Conflict(e.to_string())),
        Err(CancelError::Exchange(ExchangeError::Rejected { code, message })) => Err(
            ApiError::Conflict(format!("the venue refused the cancel: {message} ({code})")),
        ),
        Err(CancelError::Exchange(e)) => Err(ApiError::BadGateway(e.to_string())),
    }
}
