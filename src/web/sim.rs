//! Paper-mode admin: set a symbol's price on the simulated exchange (resting orders that the
//! new price crosses fill).

use actix_web::{HttpResponse, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{DomainError, Price, Symbol, parse_json};
use crate::engine::Engine;
use crate::exchange::ExchangeError;

use super::ApiError;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPrice {
    pub symbol: Option<String>,
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
}

#[utoipa::path(post, path = "/v1/sim/price", request_body = SetPrice,
    responses((status = 200, description = "Price set"), (status = 400, description = "`{error, field}`"), (status = 404, description = "Not in paper mode")))]
pub async fn set_price(
    engine: web::Data<Engine>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Some(sim) = &engine.sim else {
        return Err(ApiError::NotFound(
            "the simulated exchange runs only in paper mode".into(),
        ));
    };
    let input: SetPrice = parse_json(&body, &["symbol", "price"])?;
    let symbol = Symbol::new(
        input
            .symbol
            .as_deref()
            .ok_or_else(|| DomainError::invalid("symbol", "is required"))?,
    )?;
    if engine.instruments.get(&symbol).is_none() {
        return Err(DomainError::invalid(
            "symbol",
            format!("{symbol} is not a configured instrument"),
        )
        .into());
    }
    let price = input
        .price
        .ok_or_else(|| DomainError::invalid("price", "is required"))?;
    if price <= Decimal::ZERO {
        return Err(DomainError::invalid("price", "must be greater than zero").into());
    }
    sim.set_price(&symbol, Price(price)).map_err(|e| match e {
        ExchangeError::Rejected { message, .. } => {
            ApiError::Invalid(DomainError::invalid("price", message))
        }
        other => ApiError::BadGateway(other.to_string()),
    })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "symbol": symbol, "price": Price(price) })))
}
