//! Order types and OCO order lists on the wire: the parameters each type sends, the shape of
//! `POST /api/v3/orderList/oco` and `DELETE /api/v3/orderList` against the mock venue, their
//! answers as `OrderListReport`s, and `listStatus` events.

use rust_decimal::Decimal;
use std::str::FromStr;

use super::mock::{fixture, last, push, start};
use crate::domain::{
    ClientOrderId, ListOrderStatus, ListStatusType, OcoLeg, OcoRequest, OrderRequest, OrderStatus,
    OrderType, Price, Qty, Side, Symbol, TimeInForce,
};
use crate::exchange::Exchange;
use crate::exchange::binance::endpoints::order_call;
use crate::exchange::binance::lists::oco_call;
use crate::exchange::binance::models::{ListStatus, UserEvent};
use crate::exchange::binance::parse;
use crate::exchange::binance::rest::Call;
use crate::exchange::binance::signing::Credentials;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn id(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

fn params(call: &Call) -> Vec<(&str, &str)> {
    call.params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn order(kind: OrderType) -> OrderRequest {
    OrderRequest {
        client_order_id: id("rl-1"),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Sell,
        order_type: kind,
        quantity: Qty(d("0.5")),
        price: None,
        time_in_force: TimeInForce::Gtc,
        stop_price: None,
        trailing_delta: None,
        quote_quantity: None,
    }
}

#[test]
fn every_order_type_goes_out_with_binances_parameters() {
    let stop_limit = OrderRequest {
        price: Some(Price(d("58900"))),
        stop_price: Some(Price(d("59000"))),
        time_in_force: TimeInForce::Ioc,
        ..order(OrderType::StopLossLimit)
    };
    assert_eq!(
        params(&order_call(&stop_limit)),
        [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_LOSS_LIMIT"),
            ("timeInForce", "IOC"),
            ("quantity", "0.5"),
            ("price", "58900"),
            ("stopPrice", "59000"),
            ("newClientOrderId", "rl-1"),
            ("newOrderRespType", "FULL"),
        ]
    );
    // A trailing stop-loss: no timeInForce, no price, the delta in BIPS.
    let trailing = OrderRequest {
        trailing_delta: Some(150),
        ..order(OrderType::StopLoss)
    };
    assert_eq!(
        params(&order_call(&trailing))[2..5],
        [
            ("type", "STOP_LOSS"),
            ("quantity", "0.5"),
            ("trailingDelta", "150")
        ]
    );
    let maker = OrderRequest {
        price: Some(Price(d("61000"))),
        ..order(OrderType::LimitMaker)
    };
    assert_eq!(
        params(&order_call(&maker))[2..5],
        [
            ("type", "LIMIT_MAKER"),
            ("quantity", "0.5"),
            ("price", "61000")
        ]
    );
    let take_profit = OrderRequest {
        stop_price: Some(Price(d("62000"))),
        ..order(OrderType::TakeProfit)
    };
    assert_eq!(
        params(&order_call(&take_profit))[2..5],
        [
            ("type", "TAKE_PROFIT"),
            ("quantity", "0.5"),
            ("stopPrice", "62000")
        ]
    );
    // A market order by quote amount sends quoteOrderQty instead of quantity.
    let by_quote = OrderRequest {
        side: Side::Buy,
        quantity: Qty::ZERO,
        quote_quantity: Some(d("100")),
        ..order(OrderType::Market)
    };
    assert_eq!(
        params(&order_call(&by_quote))[2..4],
        [("type", "MARKET"), ("quoteOrderQty", "100")]
    );
    assert_eq!(order_call(&by_quote).charge.orders, 1);
}

fn oco() -> OcoRequest {
    OcoRequest {
        list_client_order_id: id("rl-list"),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Sell,
        quantity: Qty(d("0.5")),
        above: OcoLeg {
            client_order_id: id("rl-tp"),
            order_type: OrderType::LimitMaker,
            price: Some(Price(d("61000"))),
            stop_price: None,
            trailing_delta: None,
            time_in_force: TimeInForce::Gtc,
        },
        below: OcoLeg {
            client_order_id: id("rl-sl"),
            order_type: OrderType::StopLossLimit,
            price: Some(Price(d("58900"))),
            stop_price: Some(Price(d("59000"))),
            trailing_delta: Some(100),
            time_in_force: TimeInForce::Gtc,
        },
    }
}

#[test]
fn an_oco_costs_one_weight_and_two_orders() {
    let call = oco_call(&oco());
    assert_eq!((call.charge.weight, call.charge.orders), (1, 2));
    assert!(call.signed);
}

#[actix_rt::test]
async fn an_oco_goes_out_as_binances_order_list_and_answers_a_list_report() {
    let (ex, script) = start().await;
    push(
        &script,
        (
            200,
            vec![],
            fixture("rest/orderList_oco_response_RESULT.json"),
        ),
    );
    let report = ex.submit_oco(oco()).await.unwrap();
    let req = last(&script);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/api/v3/orderList/oco")
    );
    let (signed, signature) = req.query.split_once("&signature=").unwrap();
    assert!(Credentials::new("the-key", "the-secret").verify(signed, signature));
    let sent: Vec<(&str, &str)> = signed
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    assert_eq!(
        sent[..16],
        [
            ("symbol", "BTCUSDT"),
            ("listClientOrderId", "rl-list"),
            ("side", "SELL"),
            ("quantity", "0.5"),
            ("aboveType", "LIMIT_MAKER"),
            ("aboveClientOrderId", "rl-tp"),
            ("abovePrice", "61000"),
            ("belowType", "STOP_LOSS_LIMIT"),
            ("belowClientOrderId", "rl-sl"),
            ("belowPrice", "58900"),
            ("belowStopPrice", "59000"),
            ("belowTrailingDelta", "100"),
            ("belowTimeInForce", "GTC"),
            ("newOrderRespType", "FULL"),
            ("recvWindow", "5000"),
            ("timestamp", sent[15].1),
        ]
    );
    // The fixture's answer, as the engine sees it.
    assert_eq!(
        (
            report.order_list_id,
            report.list_client_order_id.as_str(),
            report.list_status_type,
            report.list_order_status
        ),
        (
            1,
            "lH1YDkuQKWiXVXHPSKYEIp",
            ListStatusType::ExecStarted,
            ListOrderStatus::Executing
        )
    );
    let legs: Vec<(&str, u64, OrderStatus)> = report
        .orders
        .iter()
        .map(|o| (o.client_order_id.as_str(), o.exchange_order_id, o.status))
        .collect();
    assert_eq!(
        legs,
        [
            ("44nZvqpemY7sVYgPYbvPih", 10, OrderStatus::New),
            ("NuMp0nVYnciDiFmVqfpBqK", 11, OrderStatus::New)
        ]
    );
}

#[actix_rt::test]
async fn cancel_order_list_deletes_the_list_by_its_client_id() {
    let (ex, script) = start().await;
    push(
        &script,
        (200, vec![], fixture("rest/cancel_orderList_response.json")),
    );
    let report = ex
        .cancel_order_list(Symbol::new("BTCUSDT").unwrap(), id("rl-list"))
        .await
        .unwrap();
    let req = last(&script);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("DELETE", "/api/v3/orderList")
    );
    assert!(
        req.query
            .starts_with("symbol=BTCUSDT&listClientOrderId=rl-list&recvWindow=5000&timestamp="),
        "{}",
        req.query
    );
    assert_eq!(report.list_order_status, ListOrderStatus::AllDone);
    let legs: Vec<(&str, OrderStatus)> = report
        .orders
        .iter()
        .map(|o| (o.client_order_id.as_str(), o.status))
        .collect();
    assert_eq!(
        legs,
        [
            ("pO9ufTiFGg3nw2fOdgeOXa", OrderStatus::Canceled),
            ("TXOvglzXuaubXAaENpaRCB", OrderStatus::Canceled)
        ]
    );
}

#[test]
fn a_list_status_event_becomes_an_order_list_event() {
    let wrapped: serde_json::Value =
        serde_json::from_str(&fixture("user_data_stream/ws_api_wrapped/listStatus.json")).unwrap();
    let UserEvent::ListStatus(l) = UserEvent::from_value(wrapped["event"].clone()).unwrap() else {
        panic!("not a listStatus");
    };
    let l: ListStatus = l;
    let report = parse::list_status(&l).unwrap();
    assert_eq!(
        (
            report.order_list_id,
            report.list_client_order_id.as_str(),
            report.list_status_type,
            report.list_order_status,
            report.orders.len()
        ),
        (
            2,
            "F4QN4G8DlFATFlIUQ0cjdD",
            ListStatusType::ExecStarted,
            ListOrderStatus::Executing,
            0
        )
    );
}
