//! Positions and the account: what the engine holds and what it is worth.

use actix_web::{HttpResponse, web};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::actors::exchange_gateway::FetchBalances;
use crate::domain::{Position, Symbol};
use crate::engine::Engine;
use crate::exchange::Balance;

use super::ApiError;

#[utoipa::path(get, path = "/v1/positions", responses((status = 200, body = Vec<Position>)))]
pub async fn list_positions(engine: web::Data<Engine>) -> HttpResponse {
    HttpResponse::Ok().json(engine.positions.all())
}

#[utoipa::path(get, path = "/v1/positions/{symbol}", responses((status = 200, body = Position), (status = 404)))]
pub async fn get_position(
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let symbol = Symbol::new(&path)?;
    let Some(rules) = engine.instruments.get(&symbol) else {
        return Err(ApiError::NotFound(format!(
            "{symbol} is not a configured instrument"
        )));
    };
    let position = engine.positions.snapshot(&symbol).unwrap_or_else(|| {
        Position::new(symbol, rules.base_asset.clone(), rules.quote_asset.clone())
    });
    Ok(HttpResponse::Ok().json(position))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub mode: &'static str,
    pub venue_balances: Vec<Balance>,
    /// Balances valued in `valuation_asset` at the last prices (assets with no price are left out).
    #[schema(value_type = String)]
    pub equity: Decimal,
    pub valuation_asset: &'static str,
    #[schema(value_type = String)]
    pub realized_pnl: Decimal,
    #[schema(value_type = String)]
    pub unrealized_pnl: Decimal,
    #[schema(value_type = String)]
    pub fees: Decimal,
}

/// Every instrument here is quoted in USDT; equity is valued in it.
const VALUATION_ASSET: &str = "USDT";

#[utoipa::path(get, path = "/v1/account", responses((status = 200, body = Account), (status = 502)))]
pub async fn account(engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let balances = engine
        .gateway
        .send(FetchBalances)
        .await?
        .map_err(|e| ApiError::BadGateway(e.to_string()))?;
    let overflow = || ApiError::Internal("account value overflows".into());
    let mut equity = Decimal::ZERO;
    for b in &balances {
        let amount = b.free.checked_add(b.locked).ok_or_else(overflow)?;
        let value = if b.asset == VALUATION_ASSET {
            Some(amount)
        } else {
            Symbol::new(&format!("{}{VALUATION_ASSET}", b.asset))
                .ok()
                .and_then(|s| engine.market.last_price(&s))
                .map(|p| amount.checked_mul(p.0).ok_or_else(overflow))
                .transpose()?
        };
        if let Some(v) = value {
            equity = equity.checked_add(v).ok_or_else(overflow)?;
        }
    }
    let positions = engine.positions.all();
    let sum = |f: fn(&Position) -> Decimal| {
        positions
            .iter()
            .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(f(p)))
            .ok_or_else(overflow)
    };
    Ok(HttpResponse::Ok().json(Account {
        mode: engine.sim.as_ref().map_or("live", |_| "paper"),
        venue_balances: balances,
        equity,
        valuation_asset: VALUATION_ASSET,
        realized_pnl: sum(|p| p.realized_pnl)?,
        unrealized_pnl: sum(|p| p.unrealized_pnl)?,
        fees: sum(|p| p.fees)?,
    }))
}
