//! Binance's REST JSON shapes, field for field as in the fixtures under
//! `shared/binance/fixtures/rest/`: decimals as strings with 8 places ("0.00100000"), times in
//! epoch milliseconds, `orderListId` -1, `selfTradePreventionMode` "NONE".

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::domain::{OrderType, Side, TimeInForce};
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
    match t {
        OrderType::Market => "MARKET",
        OrderType::Limit => "LIMIT",
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
        ("orderListId", json!(-1)),
        ("clientOrderId", json!(v.client_order_id.as_str())),
        ("transactTime", json!(ms(v.time))),
    ];
    if resp == RespType::Ack {
        return object(fields);
    }
    fields.extend([
        ("price", json!(price(v))),
        ("origQty", json!(fmt8(v.orig_qty.0))),
        ("executedQty", json!(fmt8(v.executed_qty.0))),
        ("origQuoteOrderQty", json!(fmt8(Decimal::ZERO))),
        ("cummulativeQuoteQty", json!(fmt8(v.cumulative_quote))),
        ("status", json!(v.status.as_str())),
        ("timeInForce", json!(time_in_force(v.time_in_force))),
        ("type", json!(order_type(v.order_type))),
        ("side", json!(side(v.side))),
        ("workingTime", json!(ms(v.time))),
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
    json!({
        "symbol": v.symbol.as_str(),
        "orderId": v.order_id,
        "orderListId": -1,
        "clientOrderId": v.client_order_id.as_str(),
        "price": price(v),
        "origQty": fmt8(v.orig_qty.0),
        "executedQty": fmt8(v.executed_qty.0),
        "cummulativeQuoteQty": fmt8(v.cumulative_quote),
        "status": v.status.as_str(),
        "timeInForce": time_in_force(v.time_in_force),
        "type": order_type(v.order_type),
        "side": side(v.side),
        "stopPrice": fmt8(Decimal::ZERO),
        "icebergQty": fmt8(Decimal::ZERO),
        "time": ms(v.time),
        "updateTime": ms(v.update_time),
        "isWorking": true,
        "workingTime": ms(v.time),
        "origQuoteOrderQty": fmt8(Decimal::ZERO),
        "selfTradePreventionMode": "NONE",
    })
}

/// A canceled order as `DELETE /api/v3/order` (and each entry of `DELETE openOrders`) shows
/// it: `clientOrderId` is the cancel request's id, `origClientOrderId` the order's.
pub fn canceled(v: &OrderView, cancel_id: &str, transact_ms: i64) -> Value {
    json!({
        "symbol": v.symbol.as_str(),
        "origClientOrderId": v.client_order_id.as_str(),
        "orderId": v.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_id,
        "transactTime": transact_ms,
        "price": price(v),
        "origQty": fmt8(v.orig_qty.0),
        "executedQty": fmt8(v.executed_qty.0),
        "origQuoteOrderQty": fmt8(Decimal::ZERO),
        "cummulativeQuoteQty": fmt8(v.cumulative_quote),
        "status": v.status.as_str(),
        "timeInForce": time_in_force(v.time_in_force),
        "type": order_type(v.order_type),
        "side": side(v.side),
        "selfTradePreventionMode": "NONE",
    })
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
/// simulator's values (no SOR, no order lists matched, no amend, STP NONE only).
fn symbol_defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("baseAssetPrecision", json!(8)),
        ("quotePrecision", json!(8)),
        ("quoteAssetPrecision", json!(8)),
        ("baseCommissionPrecision", json!(8)),
        ("quoteCommissionPrecision", json!(8)),
        ("orderTypes", json!(["LIMIT", "MARKET"])),
        ("icebergAllowed", json!(false)),
        ("ocoAllowed", json!(false)),
        ("otoAllowed", json!(false)),
        ("opoAllowed", json!(false)),
        ("quoteOrderQtyMarketAllowed", json!(false)),
        ("allowTrailingStop", json!(false)),
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
