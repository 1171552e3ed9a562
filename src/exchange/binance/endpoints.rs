//! The REST endpoints the adapter calls, each with its documented weight: what is sent and how
//! the answer becomes domain values. `BinanceExchange` delegates here.

use reqwest::Method;
use serde_json::Value;

use super::models::{Account, Cancelled, MyTrade, TickerPrice, WireOrder};
use super::parse;
use super::rest::{Call, Rest};
use crate::domain::{
    ClientOrderId, OrderReport, OrderRequest, OrderType, Price, Side, Symbol, TimeInForce,
};
use crate::exchange::{Balance, ExchangeError};

/// Weight of `GET /api/v3/openOrders` without a symbol (per symbol it is 6).
const OPEN_ORDERS_ALL_WEIGHT: u32 = 80;
const OPEN_ORDERS_ONE_WEIGHT: u32 = 6;

/// A success answer after a write that cannot be read: the write happened, what it did is
/// unknown.
pub(super) fn unreadable(e: String) -> ExchangeError {
    ExchangeError::UnknownOutcome(format!("Binance answer not usable: {e}"))
}

/// A read whose answer cannot be read: nothing changed, try again later.
pub(super) fn unreadable_read(e: String) -> ExchangeError {
    ExchangeError::Connectivity(format!("Binance answer not usable: {e}"))
}

/// `["BTCUSDT","ETHUSDT"]`, as `symbols=` takes it.
pub fn symbols_param(symbols: &[Symbol]) -> String {
    let names: Vec<&str> = symbols.iter().map(Symbol::as_str).collect();
    serde_json::to_string(&names).unwrap_or_default()
}

pub(super) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

pub(super) fn tif_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// The `POST /api/v3/order` for `order`: Binance's type name, `timeInForce` only on the types
/// that require it (LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT), `quantity` or (a market order
/// by quote amount) `quoteOrderQty`, `price` on the types with a limit price, `stopPrice` and
/// `trailingDelta` when set, the engine's id as `newClientOrderId`, and a FULL answer (fills
/// with trade ids; the other types would default to ACK).
pub fn order_call(order: &OrderRequest) -> Call {
    let kind = order.order_type;
    let mut call = Call::new(Method::POST, "/api/v3/order", 1)
        .signed()
        .order()
        .param("symbol", order.symbol.as_str())
        .param("side", side_name(order.side))
        .param("type", kind.as_binance());
    if kind.takes_time_in_force() {
        call = call.param("timeInForce", tif_name(order.time_in_force));
    }
    call = match order.quote_quantity {
        Some(quote) if kind == OrderType::Market => call.param("quoteOrderQty", quote.to_string()),
        _ => call.param("quantity", order.quantity.to_string()),
    };
    // The engine never builds a limit-priced order without a price; if one came, the venue
    // would refuse it (-1102) and nothing would happen.
    if let Some(price) = order.price.filter(|_| kind.has_limit_price()) {
        call = call.param("price", price.to_string());
    }
    if let Some(stop) = order.stop_price {
        call = call.param("stopPrice", stop.to_string());
    }
    if let Some(delta) = order.trailing_delta {
        call = call.param("trailingDelta", delta.to_string());
    }
    call.param("newClientOrderId", order.client_order_id.as_str())
        .param("newOrderRespType", "FULL")
}

pub async fn submit(rest: &Rest, order: &OrderRequest) -> Result<OrderReport, ExchangeError> {
    let answer: WireOrder = rest.json(&order_call(order)).await?;
    parse::order_report(&answer, Some(order.side)).map_err(unreadable)
}

/// `DELETE /api/v3/order` by the engine's id (weight 1). When the cancelled order had
/// executed anything, its fills are fetched as for a query: the cancel answer ends the order,
/// so a fill the stream missed would otherwise never be re-queried. If that fetch fails the
/// cancel is still reported (it happened), without fills.
pub async fn cancel(
    rest: &Rest,
    symbol: &Symbol,
    id: &ClientOrderId,
) -> Result<OrderReport, ExchangeError> {
    let call = Call::new(Method::DELETE, "/api/v3/order", 1)
        .signed()
        .param("symbol", symbol.as_str())
        .param("origClientOrderId", id.as_str());
    let answer: WireOrder = rest.json(&call).await?;
    let mut report = parse::order_report(&answer, None).map_err(unreadable)?;
    if report.executed_qty.is_positive() {
        match order_fills(rest, symbol, answer.order_id, &report.client_order_id).await {
            Ok(fills) => report.fills = fills,
            Err(e) => {
                tracing::warn!(id = %report.client_order_id, error = %e, "cancelled order's fills not fetched")
            }
        }
    }
    Ok(report)
}

/// Trades per `myTrades` page (Binance's maximum).
const TRADES_PAGE: usize = 1000;

/// `GET /api/v3/myTrades?orderId=` (weight 5 a page): one order's fills, with trade ids and
/// fees, paged by `fromId` so an order with more trades than a page loses none.
async fn order_fills(
    rest: &Rest,
    symbol: &Symbol,
    order_id: u64,
    id: &ClientOrderId,
) -> Result<Vec<crate::domain::Fill>, ExchangeError> {
    let mut fills = Vec::new();
    let mut from: Option<u64> = None;
    loop {
        let mut call = Call::new(Method::GET, "/api/v3/myTrades", 5)
            .signed()
            .param("symbol", symbol.as_str())
            .param("orderId", order_id.to_string())
            .param("limit", TRADES_PAGE.to_string());
        if let Some(from) = from {
            call = call.param("fromId", from.to_string());
        }
        let trades: Vec<MyTrade> = rest.json(&call).await?;
        let full = trades.len() >= TRADES_PAGE;
        let page = parse::trade_fills(&trades, id).map_err(unreadable_read)?;
        from = page
            .iter()
            .map(|f| f.trade_id)
            .max()
            .and_then(|m| m.checked_add(1));
        fills.extend(page);
        if !full || from.is_none() {
            return Ok(fills);
        }
    }
}

/// Whether `fills` add up to what the venue says executed: a trade list that lags the order's
/// status must not be taken as complete (a fill would be lost, not just late).
fn fills_complete(fills: &[crate::domain::Fill], executed: crate::domain::Qty) -> bool {
    let total = fills
        .iter()
        .try_fold(rust_decimal::Decimal::ZERO, |acc, f| {
            acc.checked_add(f.quantity.0)
        });
    total == Some(executed.0)
}

/// `GET /api/v3/order` (weight 4), plus `GET /api/v3/myTrades?orderId=` (weight 5) for the
/// fills when anything has executed: the order answer carries none.
pub async fn query(
    rest: &Rest,
    symbol: &Symbol,
    id: &ClientOrderId,
) -> Result<OrderReport, ExchangeError> {
    let call = Call::new(Method::GET, "/api/v3/order", 4)
        .signed()
        .param("symbol", symbol.as_str())
        .param("origClientOrderId", id.as_str());
    let order: WireOrder = rest.json(&call).await?;
    let mut report = parse::order_report(&order, None).map_err(unreadable_read)?;
    if report.executed_qty.is_positive() {
        report.fills = order_fills(rest, symbol, order.order_id, &report.client_order_id).await?;
        if !fills_complete(&report.fills, report.executed_qty) {
            // Asked again later (the UNKNOWN resolver and reconciliation retry).
            return Err(ExchangeError::Connectivity(format!(
                "{}: the venue's trades do not yet add up to its executed quantity {}",
                report.client_order_id, report.executed_qty.0
            )));
        }
    }
    Ok(report)
}

/// Open orders: per symbol (weight 6 each) while that costs no more than one all-symbols call
/// (weight 80), else that one call.
pub async fn open_orders(
    rest: &Rest,
    symbols: &[Symbol],
) -> Result<Vec<OrderReport>, ExchangeError> {
    let per_symbol = u32::try_from(symbols.len())
        .ok()
        .and_then(|n| n.checked_mul(OPEN_ORDERS_ONE_WEIGHT))
        .is_some_and(|w| w > 0 && w <= OPEN_ORDERS_ALL_WEIGHT);
    let calls: Vec<Call> = if per_symbol {
        symbols
            .iter()
            .map(|s| {
                Call::new(Method::GET, "/api/v3/openOrders", OPEN_ORDERS_ONE_WEIGHT)
                    .signed()
                    .param("symbol", s.as_str())
            })
            .collect()
    } else {
        vec![Call::new(Method::GET, "/api/v3/openOrders", OPEN_ORDERS_ALL_WEIGHT).signed()]
    };
    let mut reports = Vec::new();
    for call in calls {
        let orders: Vec<WireOrder> = rest.json(&call).await?;
        for o in &orders {
            reports.push(parse::order_report(o, None).map_err(unreadable_read)?);
        }
    }
    Ok(reports)
}

/// `DELETE /api/v3/openOrders` (weight 1): every order on `symbol`, including the members of
/// order lists it also cancels.
pub async fn cancel_all(rest: &Rest, symbol: &Symbol) -> Result<Vec<OrderReport>, ExchangeError> {
    let call = Call::new(Method::DELETE, "/api/v3/openOrders", 1)
        .signed()
        .param("symbol", symbol.as_str());
    let entries: Vec<Value> = rest.json(&call).await?;
    let mut reports = Vec::new();
    for entry in entries {
        match Cancelled::from_value(entry).map_err(|e| unreadable(e.to_string()))? {
            Cancelled::Order(o) => reports.push(parse::order_report(&o, None).map_err(unreadable)?),
            Cancelled::List(list) => {
                for o in &list.order_reports {
                    reports.push(parse::order_report(o, None).map_err(unreadable)?);
                }
            }
        }
    }
    Ok(reports)
}

/// `GET /api/v3/account?omitZeroBalances=true` (weight 20).
pub async fn balances(rest: &Rest) -> Result<Vec<Balance>, ExchangeError> {
    let call = Call::new(Method::GET, "/api/v3/account", 20)
        .signed()
        .param("omitZeroBalances", "true");
    let account: Account = rest.json(&call).await?;
    Ok(parse::balances(&account))
}

/// `GET /api/v3/ticker/price` (weight 4) for `symbols`, or for every symbol if empty.
pub async fn prices(
    rest: &Rest,
    symbols: &[Symbol],
) -> Result<Vec<(Symbol, Price)>, ExchangeError> {
    let mut call = Call::new(Method::GET, "/api/v3/ticker/price", 4);
    if !symbols.is_empty() {
        call = call.param("symbols", symbols_param(symbols));
    }
    let tickers: Vec<TickerPrice> = rest.json(&call).await?;
    Ok(parse::prices(&tickers))
}
