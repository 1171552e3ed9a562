//! Manual orders: place, list, read and cancel.

use actix_web::{HttpResponse, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::actors::messages::SubmitOutcome;
use crate::actors::order_router::{
    CancelError, CancelOrder, GetOrder, ListOrders, ModifyOrder, ModifyOutcome, SubmitOrder,
};
use crate::domain::{
    ClientOrderId, DomainError, Order, OrderType, Price, Side, Symbol, TimeInForce, parse_json,
    positive_qty, price_for, stop_for,
};
use crate::engine::Engine;
use crate::exchange::ExchangeError;
use crate::journal::recovery::last_order_state;
use crate::web::reconcile::not_reconciled;

use super::ApiError;
use super::signals::render;

/// A manual order. `client_order_id` is optional; one is generated when absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub symbol: Option<String>,
    pub side: Option<Side>,
    pub order_type: Option<OrderType>,
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
    pub client_order_id: Option<String>,
    /// An identical order (symbol, side, quantity, price) sent within the risk gate's
    /// duplicate window is intended. Default false.
    pub allow_duplicate: Option<bool>,
    /// Trigger price; required (or `trailing_delta`) for `stop_loss`, `stop_loss_limit`,
    /// `take_profit` and `take_profit_limit`, refused on other types.
    #[schema(value_type = Option<String>)]
    pub stop_price: Option<Decimal>,
    /// Trailing stop distance in basis points (100 = 1%), for the same types.
    pub trailing_delta: Option<u32>,
}

const ORDER_FIELDS: [&str; 10] = [
    "symbol",
    "side",
    "order_type",
    "quantity",
    "price",
    "time_in_force",
    "client_order_id",
    "allow_duplicate",
    "stop_price",
    "trailing_delta",
];

impl OrderInput {
    fn validate(self) -> Result<SubmitOrder, DomainError> {
        let required = |f: &'static str| DomainError::invalid(f, "is required");
        let symbol = Symbol::new(self.symbol.as_deref().ok_or_else(|| required("symbol"))?)?;
        let side = self.side.ok_or_else(|| required("side"))?;
        let order_type = self.order_type.unwrap_or(OrderType::Market);
        let quantity = positive_qty(self.quantity)?.ok_or_else(|| required("quantity"))?;
        let price = price_for(order_type, self.price)?;
        let (stop_price, trailing_delta) =
            stop_for(order_type, self.stop_price, self.trailing_delta)?;
        let client_order_id = self
            .client_order_id
            .as_deref()
            .map(ClientOrderId::new)
            .transpose()?;
        Ok(SubmitOrder {
            symbol,
            side,
            order_type,
            quantity,
            price,
            time_in_force: self.time_in_force.unwrap_or_default(),
            client_order_id,
            allow_duplicate: self.allow_duplicate.unwrap_or(false),
            stop_price,
            trailing_delta,
        })
    }
}

#[utoipa::path(post, path = "/v1/orders", request_body = OrderInput,
    responses((status = 201, description = "Sent; body has the order"), (status = 400, description = "`{error, field}`"),
              (status = 422, description = "Refused"), (status = 503, description = "Breaker open or halted")))]
pub async fn post_order(
    engine: web::Data<Engine>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let input: OrderInput = parse_json(&body, &ORDER_FIELDS)?;
    let order = input.validate()?;
    let outcome = match not_reconciled(&engine) {
        Some((reason, detail)) => SubmitOutcome::Unavailable { reason, detail },
        None => engine.router.send(order).await?,
    };
    let (status, body) = render(None, &outcome);
    Ok(HttpResponse::build(status).json(body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderFilter {
    /// `open` (default) or `all`.
    pub status: Option<String>,
    pub symbol: Option<String>,
}

#[utoipa::path(get, path = "/v1/orders", params(OrderFilter), responses((status = 200, body = Vec<Order>)))]
pub async fn list_orders(
    engine: web::Data<Engine>,
    q: web::Query<OrderFilter>,
) -> Result<HttpResponse, ApiError> {
    let open_only = match q.status.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(
                DomainError::invalid("status", format!("{other:?} is not open or all")).into(),
            );
        }
    };
    let symbol = q.symbol.as_deref().map(Symbol::new).transpose()?;
    let orders = engine.router.send(ListOrders { open_only, symbol }).await?;
    Ok(HttpResponse::Ok().json(orders))
}

fn order_id(raw: &str) -> Result<ClientOrderId, ApiError> {
    ClientOrderId::new(raw).map_err(ApiError::from)
}

#[utoipa::path(get, path = "/v1/orders/{client_order_id}", responses((status = 200, body = Order), (status = 404)))]
pub async fn get_order(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    if let Some(order) = engine.router.send(GetOrder(id.clone())).await? {
        return Ok(HttpResponse::Ok().json(order));
    }
    // Terminal orders leave memory after `orders.retention_secs`; the journal keeps them.
    if let Some(journal) = &engine.journal {
        let entries =
            journal
                .store
                .for_order(id.as_str())
                .await
                .map_err(|e| ApiError::Unavailable {
                    reason: "journal_unavailable",
                    detail: e.to_string(),
                })?;
        if let Some(order) = last_order_state(&entries) {
            return Ok(HttpResponse::Ok().json(order));
        }
    }
    Err(ApiError::NotFound(format!("no order {path}")))
}

#[utoipa::path(delete, path = "/v1/orders/{client_order_id}",
    responses((status = 200, body = Order), (status = 404), (status = 409, description = "Not open")))]
pub async fn cancel_order(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    match engine.router.send(CancelOrder(id)).await? {
        Ok(order) => Ok(HttpResponse::Ok().json(order)),
        Err(CancelError::NotFound) => Err(ApiError::NotFound(format!("no order {path}"))),
        Err(e @ CancelError::NotOpen(_)) => Err(ApiError::Conflict(e.to_string())),
        Err(CancelError::Exchange(ExchangeError::Rejected { code, message })) => Err(
            ApiError::Conflict(format!("the venue refused the cancel: {message} ({code})")),
        ),
        Err(CancelError::Exchange(e)) => Err(ApiError::BadGateway(e.to_string())),
    }
}

/// A new price and/or quantity for a resting LIMIT order. `quantity` is the order's new total:
/// what already filled counts toward it, and the replacement is for the rest.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyInput {
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
}

const MODIFY_FIELDS: [&str; 2] = ["price", "quantity"];

/// Cancel-replace: the old order is canceled and, once the venue confirms, a new one (id
/// `<old>-r1`, or `rlm-...` when that would be too long) is placed through the risk checks.
#[utoipa::path(patch, path = "/v1/orders/{client_order_id}", request_body = ModifyInput,
    responses((status = 201, description = "Replaced: `{status, client_order_id, order, replaces, replaced_order}`"),
              (status = 400, description = "`{error, field}`; nothing changed"), (status = 404),
              (status = 409, description = "Not an open LIMIT order, or it filled meanwhile: `{error, order}`; nothing placed"),
              (status = 422, description = "Old order canceled; the replacement was refused")))]
pub async fn modify_order(
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let input: ModifyInput = parse_json(&body, &MODIFY_FIELDS)?;
    let price = match input.price {
        Some(p) if p <= Decimal::ZERO => {
            return Err(DomainError::invalid("price", "must be greater than zero").into());
        }
        p => p.map(Price),
    };
    let quantity = positive_qty(input.quantity)?;
    if let Some((reason, detail)) = not_reconciled(&engine) {
        return Err(ApiError::Unavailable { reason, detail });
    }
    let msg = ModifyOrder {
        client_order_id: id,
        price,
        quantity,
    };
    match engine.router.send(msg).await? {
        ModifyOutcome::Replaced { old, new } => {
            let (status, mut body) = render(None, &new);
            body["replaces"] = serde_json::json!(old.client_order_id);
            body["replaced_order"] = serde_json::json!(old);
            Ok(HttpResponse::build(status).json(body))
        }
        ModifyOutcome::Invalid(e) => Err(e.into()),
        ModifyOutcome::NotFound => Err(ApiError::NotFound(format!("no order {path}"))),
        ModifyOutcome::Conflict { detail, order } => {
            Ok(HttpResponse::Conflict()
                .json(serde_json::json!({ "error": detail, "order": order })))
        }
        ModifyOutcome::Exchange(e) => Err(ApiError::BadGateway(e.to_string())),
    }
}
