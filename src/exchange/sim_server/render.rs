//! Binance's REST JSON shapes, field for field as in the fixtures under
//! `shared/binance/fixtures/rest/`: decimals as strings with 8 places ("0.00100000"), times in
//! epoch milliseconds, `orderListId` -1 outside a list, `selfTradePreventionMode` "NONE";
//! `stopPrice` / `trailingDelta` on the orders that have them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::domain::{
    ListOrderStatus, ListStatusType, OrderListReport, OrderType, Side, TimeInForce,
};
use crate::exchange::Balance;
use crate::exchange::sim::OrderView;

/// A decimal as Binance writes it: 8 decimal places.
pub fn fmt8(value: Decimal) -> String {
    let mut v = value;
    v.rescale(8);
    v.to_string()
}

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

pub fn order_type(t: OrderType) -> &'static str {
    t.as_binance()
}

pub fn list_status_type(t: ListStatusType) -> &'static str {
    match t {
        ListStatusType::Response => "RESPONSE",
        ListStatusType::ExecStarted => "EXEC_STARTED",
        ListStatusType::Updated => "UPDATED",
        ListStatusType::AllDone => "ALL_DONE",
    }
}

pub fn list_order_status(s: ListOrderStatus) -> &'static str {
    match s {
        ListOrderStatus::Executing => "EXECUTING",
        ListOrderStatus::AllDone => "ALL_DONE",
        ListOrderStatus::Reject => "REJECT",
    }
}

pub fn time_in_force(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// `newOrderRespType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespType {
    Ack,
    Result,
    Full,
}

fn price(v: &OrderView) -> String {
    fmt8(v.price.map_or(Decimal::ZERO, |p| p.0))
}

/// `orderListId`: -1 outside a list.
fn list_id(v: &OrderView) -> Value {
    v.order_list_id.map_or(json!(-1), |id| json!(id))
}

/// `workingTime`: -1 while a conditional order waits for its trigger.
fn working_time(v: &OrderView) -> i64 {
    v.working_time.map_or(-1, ms)
}

fn quote_qty(v: &OrderView) -> String {
    fmt8(v.quote_quantity.unwrap_or(Decimal::ZERO))
}

/// The conditional fields Binance adds only when the order has them.
fn conditional(v: &OrderView) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(stop) = v.stop_price {
        out.push(("stopPrice", json!(fmt8(stop.0))));
    }
    if let Some(delta) = v.trailing_delta {
        out.push(("trailingDelta", json!(delta)));
    }
    out
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
    )
}

/// The answer to `POST /api/v3/order` in the requested shape.
pub fn new_order(v: &OrderView, resp: RespType) -> Value {
    let mut fields = vec![
        ("symbol", json!(v.symbol.as_str())),
        ("orderId", json!(v.order_id)),
        ("orderListId", list_id(v)),
        ("clientOrderId", json!(v.client_order_id.as_str())),
        ("transactTime", json!(ms(v.update_time))),
    ];
    if resp == RespType::Ack {
        return object(fields);
    }
    fields.extend([
        ("price", json!(price(v))),
        ("origQty", json!(fmt8(v.orig_qty.0))),
        ("executedQty", json!(fmt8(v.executed_qty.0))),
        ("origQuoteOrderQty", json!(quote_qty(v))),
        ("cummulativeQuoteQty", json!(fmt8(v.cumulative_quote))),
        ("status", json!(v.status.as_str())),
        ("timeInForce", json!(time_in_force(v.time_in_force))),
        ("type", json!(order_type(v.order_type))),
        ("side", json!(side(v.side))),
    ]);
    fields.extend(conditional(v));
    fields.extend([
        ("workingTime", json!(working_time(v))),
        ("selfTradePreventionMode", json!("NONE")),
    ]);
    if resp == RespType::Full {
        let fills: Vec<Value> = v
            .fills
            .iter()
            .map(|f| {
                json!({
                    "price": fmt8(f.price.0),
                    "qty": fmt8(f.quantity.0),
                    "commission": fmt8(f.commission),
                    "commissionAsset": f.commission_asset.as_ref(),
                    "tradeId": f.trade_id,
                })
            })
            .collect();
        fields.push(("fills", Value::Array(fills)));
    }
    object(fields)
}

/// One order as `GET /api/v3/order`, `openOrders` and `allOrders` show it.
pub fn order(v: &OrderView) -> Value {
    let mut out = json!({
        "symbol": v.symbol.as_str(),
        "orderId": v.order_id,
        "orderListId": list_id(v),
        "clientOrderId": v.client_order_id.as_str(),
        "price": price(v),
        "origQty": fmt8(v.orig_qty.0),
        "executedQty": fmt8(v.executed_qty.0),
        "cummulativeQuoteQty": fmt8(v.cumulative_quote),
        "status": v.status.as_str(),
        "timeInForce": time_in_force(v.time_in_force),
        "type": order_type(v.order_type),
        "side": side(v.side),
        "stopPrice": fmt8(v.stop_price.map_or(Decimal::ZERO, |p| p.0)),
        "icebergQty": fmt8(Decimal::ZERO),
        "time": ms(v.time),
        "updateTime": ms(v.update_time),
        "isWorking": v.working_time.is_some(),
        "workingTime": working_time(v),
        "origQuoteOrderQty": quote_qty(v),
        "selfTradePreventionMode": "NONE",
    });
    if let (Some(delta), Some(map)) = (v.trailing_delta, out.as_object_mut()) {
        map.insert("trailingDelta".into(), json!(delta));
    }
    out
}

/// A canceled order as `DELETE /api/v3/order` (and each entry of `DELETE openOrders`) shows
/// it: `clientOrderId` is the cancel request's id, `origClientOrderId` the order's.
pub fn canceled(v: &OrderView, cancel_id: &str, transact_ms: i64) -> Value {
    let mut fields = vec![
        ("symbol", json!(v.symbol.as_str())),
        ("origClientOrderId", json!(v.client_order_id.as_str())),
        ("orderId", json!(v.order_id)),
        ("orderListId", list_id(v)),
        ("clientOrderId", json!(cancel_id)),
        ("transactTime", json!(transact_ms)),
        ("price", json!(price(v))),
        ("origQty", json!(fmt8(v.orig_qty.0))),
        ("executedQty", json!(fmt8(v.executed_qty.0))),
        ("origQuoteOrderQty", json!(quote_qty(v))),
        ("cummulativeQuoteQty", json!(fmt8(v.cumulative_quote))),
        ("status", json!(v.status.as_str())),
        ("timeInForce", json!(time_in_force(v.time_in_force))),
        ("type", json!(order_type(v.order_type))),
        ("side", json!(side(v.side))),
    ];
    fields.extend(conditional(v));
    fields.push(("selfTradePreventionMode", json!("NONE")));
    object(fields)
}

/// An order list as `orderList/oco`, `DELETE orderList`, `GET orderList` and `openOrderList`
/// show it; `reports` are the `orderReports` of the answers that carry them.
pub fn order_list(l: &OrderListReport, reports: Option<Vec<Value>>) -> Value {
    let orders: Vec<Value> = l
        .orders
        .iter()
        .map(|o| {
            json!({"symbol": o.symbol.as_str(), "orderId": o.exchange_order_id,
                   "clientOrderId": o.client_order_id.as_str()})
        })
        .collect();
    let mut fields = vec![
        ("orderListId", json!(l.order_list_id)),
        ("contingencyType", json!("OCO")),
        (
            "listStatusType",
            json!(list_status_type(l.list_status_type)),
        ),
        (
            "listOrderStatus",
            json!(list_order_status(l.list_order_status)),
        ),
        ("listClientOrderId", json!(l.list_client_order_id.as_str())),
        ("transactionTime", json!(ms(l.ts))),
        ("symbol", json!(l.symbol.as_str())),
        ("orders", Value::Array(orders)),
    ];
    if let Some(reports) = reports {
        fields.push(("orderReports", Value::Array(reports)));
    }
    object(fields)
}

/// Commission as Binance's integer basis points field (`makerCommission`: 0.001 → 10).
fn bps(rate: Decimal) -> Value {
    let v = (rate * Decimal::from(10_000)).round();
    json!(i64::try_from(v).unwrap_or(0))
}

/// `GET /api/v3/account`.
pub fn account(balances: &[Balance], (maker, taker): (Decimal, Decimal), now_ms: i64) -> Value {
    let balances: Vec<Value> = balances
        .iter()
        .map(|b| json!({"asset": b.asset, "free": fmt8(b.free), "locked": fmt8(b.locked)}))
        .collect();
    json!({
        "makerCommission": bps(maker),
        "takerCommission": bps(taker),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt8(maker),
            "taker": fmt8(taker),
            "buyer": fmt8(Decimal::ZERO),
            "seller": fmt8(Decimal::ZERO),
        },
        "canTrade": true,
        "canWithdraw": false,
        "canDeposit": false,
        "brokered": false,
        "requireSelfTradePrevention": false,
        "preventSor": false,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 1,
    })
}

/// Symbol fields Binance's `exchangeInfo` has that an older document may lack, with the
/// simulator's values (every spot order type and OCO; no SOR, OTO, OPO, amend; STP NONE only).
fn symbol_defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("baseAssetPrecision", json!(8)),
        ("quotePrecision", json!(8)),
        ("quoteAssetPrecision", json!(8)),
        ("baseCommissionPrecision", json!(8)),
        ("quoteCommissionPrecision", json!(8)),
        (
            "orderTypes",
            json!([
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT",
                "TAKE_PROFIT_LIMIT"
            ]),
        ),
        ("icebergAllowed", json!(false)),
        ("ocoAllowed", json!(true)),
        ("otoAllowed", json!(false)),
        ("opoAllowed", json!(false)),
        ("quoteOrderQtyMarketAllowed", json!(true)),
        ("allowTrailingStop", json!(true)),
        ("cancelReplaceAllowed", json!(false)),
        ("amendAllowed", json!(false)),
        ("pegInstructionsAllowed", json!(false)),
        ("isSpotTradingAllowed", json!(true)),
        ("isMarginTradingAllowed", json!(false)),
        ("filters", json!([])),
        ("permissions", json!([])),
        ("permissionSets", json!([["SPOT"]])),
        ("defaultSelfTradePreventionMode", json!("NONE")),
        ("allowedSelfTradePreventionModes", json!(["NONE"])),
    ]
}

/// `GET /api/v3/exchangeInfo` from the venue's own document: `serverTime` now, `rateLimits`
/// the limits in force, `symbols` narrowed to `only` when given, missing symbol fields filled.
pub fn exchange_info(
    doc: &Value,
    only: Option<&[String]>,
    rate_limits: Value,
    now_ms: i64,
) -> Value {
    let symbols: Vec<Value> = doc["symbols"]
        .as_array()
        .map(|s| s.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|s| {
            only.is_none_or(|only| {
                s["symbol"]
                    .as_str()
                    .is_some_and(|name| only.iter().any(|o| o == name))
            })
        })
        .map(|s| {
            let mut s = s.clone();
            if let Some(obj) = s.as_object_mut() {
                for (k, v) in symbol_defaults() {
                    obj.entry(k).or_insert(v);
                }
            }
            s
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": now_ms,
        "rateLimits": rate_limits,
        "exchangeFilters": doc.get("exchangeFilters").cloned().unwrap_or_else(|| json!([])),
        "symbols": symbols,
    })
}

/// One `GET /api/v3/myTrades` entry: a fill of `v` (no order lists, so `orderListId` is -1;
/// every match is the best one).
pub fn my_trade(v: &OrderView, f: &crate::domain::Fill) -> Value {
    let quote = f.quantity.0.checked_mul(f.price.0).unwrap_or(Decimal::ZERO);
    json!({
        "symbol": v.symbol.as_str(), "id": f.trade_id, "orderId": v.order_id,
        "orderListId": -1, "price": fmt8(f.price.0), "qty": fmt8(f.quantity.0),
        "quoteQty": fmt8(quote), "commission": fmt8(f.commission),
        "commissionAsset": f.commission_asset.as_ref(), "time": ms(f.ts),
        "isBuyer": f.side == Side::Buy, "isMaker": f.is_maker, "isBestMatch": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_have_eight_places() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(fmt8(d("0.001")), "0.00100000");
        assert_eq!(fmt8(d("60000")), "60000.00000000");
        assert_eq!(fmt8(Decimal::ZERO), "0.00000000");
        assert_eq!(bps(d("0.001")), json!(10));
    }
}
