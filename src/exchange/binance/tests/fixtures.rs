//! Every Binance fixture the adapter reads, parsed into typed values with concrete field checks.
//! Fixtures are the published examples from Binance's docs, under `../shared/binance/fixtures`.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::str::FromStr;

use crate::domain::{OrderStatus, Price, Qty, Side};
use crate::exchange::ExchangeEvent;
use crate::exchange::binance::limits::Limits;
use crate::exchange::binance::market_stream::{Frame, parse_frame};
use crate::exchange::binance::models::*;
use crate::exchange::binance::parse;
use crate::exchange::filters::ExchangeInfo;

fn text(rel: &str) -> String {
    let path = format!(
        "{}/../shared/binance/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load<T: DeserializeOwned>(rel: &str) -> T {
    serde_json::from_str(&text(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn new_order_answers_ack_result_and_full() {
    let ack =
        parse::order_report(&load("rest/new_order_response_ACK.json"), Some(Side::Sell)).unwrap();
    assert_eq!(
        (ack.client_order_id.as_str(), ack.exchange_order_id),
        ("6gCrw2kRUAF9CvJDGP16IP", 28)
    );
    assert_eq!(
        (ack.status, ack.executed_qty, ack.fills.len()),
        (OrderStatus::New, Qty::ZERO, 0)
    );
    assert_eq!(ack.ts.timestamp_millis(), 1507725176595);

    let result = parse::order_report(&load("rest/new_order_response_RESULT.json"), None).unwrap();
    assert_eq!(result.status, OrderStatus::Filled);
    assert_eq!(
        (result.executed_qty, result.cumulative_quote),
        (Qty(d("10")), d("10"))
    );
    assert!(result.fills.is_empty());

    let full = parse::order_report(&load("rest/new_order_response_FULL.json"), None).unwrap();
    assert_eq!(full.symbol.as_str(), "BTCUSDT");
    assert_eq!(full.fills.len(), 5);
    let f = &full.fills[1];
    assert_eq!((f.trade_id, f.side, f.is_maker), (57, Side::Sell, false));
    assert_eq!((f.quantity, f.price), (Qty(d("5")), Price(d("3999"))));
    assert_eq!(
        (f.commission, f.commission_asset.as_ref()),
        (d("19.995"), "USDT")
    );
    assert_eq!(f.client_order_id.as_str(), "6gCrw2kRUAF9CvJDGP16IP");
    let total: Decimal = full.fills.iter().map(|f| f.quantity.0).sum();
    assert_eq!(total, d("10"));
}

#[test]
fn query_open_and_all_orders() {
    let q = parse::order_report(&load("rest/query_order_response.json"), None).unwrap();
    assert_eq!(
        (q.client_order_id.as_str(), q.exchange_order_id, q.status),
        ("myOrder1", 1, OrderStatus::New)
    );
    assert_eq!((q.symbol.as_str(), q.executed_qty), ("LTCBTC", Qty::ZERO));
    assert_eq!(q.ts.timestamp_millis(), 1499827319559);
    for rel in [
        "rest/open_orders_response.json",
        "rest/all_orders_response.json",
    ] {
        let orders: Vec<WireOrder> = load(rel);
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].price, Some(d("0.1")));
        assert_eq!(orders[0].side, Some(Side::Buy));
        assert_eq!(orders[0].order_type.as_deref(), Some("LIMIT"));
    }
}

#[test]
fn a_cancel_answer_names_the_cancelled_order_not_the_cancel_request() {
    let c = parse::order_report(&load("rest/cancel_order_response.json"), None).unwrap();
    assert_eq!(
        (c.client_order_id.as_str(), c.exchange_order_id),
        ("myOrder1", 4)
    );
    assert_eq!(c.status, OrderStatus::Canceled);
}

#[test]
fn cancel_all_returns_orders_and_order_lists() {
    let entries: Vec<Value> = load("rest/cancel_all_open_orders_response.json");
    let parsed: Vec<Cancelled> = entries
        .into_iter()
        .map(|v| Cancelled::from_value(v).unwrap())
        .collect();
    assert_eq!(parsed.len(), 3);
    let Cancelled::Order(first) = &parsed[0] else {
        panic!("order expected")
    };
    let report = parse::order_report(first, None).unwrap();
    assert_eq!(
        (report.client_order_id.as_str(), report.exchange_order_id),
        ("E6APeyTJvkMvLMYMqu1KQ4", 11)
    );
    assert_eq!(first.orig_qty, Some(d("0.178622")));
    let Cancelled::List(list) = &parsed[2] else {
        panic!("list expected")
    };
    assert_eq!(
        (list.order_list_id, list.contingency_type.as_str()),
        (1929, "OCO")
    );
    assert_eq!(list.order_reports.len(), 2);
    assert_eq!(
        list.order_reports[1].orig_client_order_id.as_deref(),
        Some("461cPg51vQjV3zIMOXNz39")
    );
}

#[test]
fn order_lists_parse_for_the_oco_issue() {
    let oco: WireOrderList = load("rest/orderList_oco_response_RESULT.json");
    assert_eq!(
        (oco.order_list_id, oco.list_order_status.as_str()),
        (1, "EXECUTING")
    );
    assert_eq!(
        (
            oco.orders[1].order_id,
            oco.orders[1].client_order_id.as_str()
        ),
        (11, "NuMp0nVYnciDiFmVqfpBqK")
    );
    assert_eq!(oco.order_reports[0].price, Some(d("1")));
    let cancelled: WireOrderList = load("rest/cancel_orderList_response.json");
    assert_eq!(
        (cancelled.list_status_type.as_str(), cancelled.orders.len()),
        ("ALL_DONE", 2)
    );
    let r = parse::order_report(&cancelled.order_reports[0], None).unwrap();
    assert_eq!(
        (r.client_order_id.as_str(), r.status),
        ("pO9ufTiFGg3nw2fOdgeOXa", OrderStatus::Canceled)
    );
    let old: WireOrderList = load("rest/order_oco_DEPRECATED_response.json");
    assert_eq!(
        (old.list_client_order_id.as_str(), old.transaction_time),
        ("JYVpp3F0f5CAG15DhtrqLp", 1563417480525)
    );
}

#[test]
fn account_time_and_tickers() {
    let account: Account = load("rest/account_response.json");
    let balances = parse::balances(&account);
    assert_eq!(balances.len(), 2);
    assert_eq!(
        (
            balances[0].asset.as_str(),
            balances[0].free,
            balances[0].locked
        ),
        ("BTC", d("4723846.89208129"), Decimal::ZERO)
    );
    let t: ServerTime = load("rest/time_response.json");
    assert_eq!(t.server_time, 1499827319559);
    let one: TickerPrice = load("rest/ticker_price_single.json");
    assert_eq!(
        (one.symbol.as_str(), one.price),
        ("LTCBTC", d("4.00000200"))
    );
    let many: Vec<TickerPrice> = load("rest/ticker_price_multi.json");
    let prices = parse::prices(&many);
    assert_eq!(prices[1].0.as_str(), "ETHBTC");
    assert_eq!(prices[1].1, Price(d("0.079466")));
}

#[test]
fn exchange_info_gives_rules_and_rate_limits() {
    let skeleton = text("rest/exchange_info_response_skeleton.json");
    let info: ExchangeInfo = serde_json::from_str(&skeleton).unwrap();
    assert_eq!(
        (
            info.symbols[0].symbol.as_str(),
            info.symbols[0].quote_asset.as_str()
        ),
        ("ETHBTC", "BTC")
    );
    let limits: ExchangeLimits = serde_json::from_str(&skeleton).unwrap();
    assert_eq!(limits.rate_limits, vec![RateLimit::default()]);

    let wrapped: WsResponse = load("rest/exchange_info_full_example_from_ws_api.json");
    let result = wrapped.result.unwrap();
    let info: ExchangeInfo = serde_json::from_value(result.clone()).unwrap();
    assert_eq!(info.symbols[0].symbol, "BNBBTC");
    let limits: ExchangeLimits = serde_json::from_value(result).unwrap();
    assert_eq!(limits.rate_limits.len(), 4);
    assert_eq!(
        limits.rate_limits[1],
        RateLimit {
            rate_limit_type: "ORDERS".into(),
            interval: "SECOND".into(),
            interval_num: 10,
            limit: 50,
        }
    );
    let snap = Limits::from_rules(&limits.rate_limits).snapshot();
    assert_eq!(snap.weight_limit, Some(6000));
    let enum_examples: Vec<RateLimit> = load("rest/rateLimiters_enum_examples.json");
    assert_eq!(enum_examples[2].limit, 61000);
}

#[test]
fn execution_reports_raw_and_wrapped() {
    let wrapped: Value = load("user_data_stream/ws_api_wrapped/executionReport.json");
    assert_eq!(wrapped["subscriptionId"], 0);
    let raw: Value = load("user_data_stream/raw_listenKey_era/executionReport.json");
    assert_eq!(wrapped["event"], raw);
    let UserEvent::Execution(e) = UserEvent::from_value(raw).unwrap() else {
        panic!()
    };
    assert_eq!(
        (
            e.execution_type.as_str(),
            e.commission_asset.as_deref(),
            e.trade_id
        ),
        ("NEW", None, -1)
    );
    let r = parse::execution_report(&e).unwrap();
    assert_eq!(
        (r.client_order_id.as_str(), r.exchange_order_id, r.status),
        ("mUvoqJxFIILMdfAW5iGSOW", 4293153, OrderStatus::New)
    );
    assert_eq!((r.executed_qty, r.fills.len()), (Qty::ZERO, 0));
    assert_eq!(r.ts.timestamp_millis(), 1499405658657);
    assert_eq!(e.price, d("0.10264410"));
}

/// The fixture's NEW event turned into a partial maker fill, then into a cancel.
#[test]
fn a_trade_execution_carries_its_fill_and_a_cancel_its_original_id() {
    let mut v: Value = load("user_data_stream/raw_listenKey_era/executionReport.json");
    for (k, val) in [
        ("x", "TRADE"),
        ("X", "PARTIALLY_FILLED"),
        ("l", "0.4"),
        ("z", "0.4"),
        ("L", "0.1026"),
        ("n", "0.0004"),
        ("N", "ETH"),
        ("Z", "0.04104"),
    ] {
        v[k] = Value::String(val.into());
    }
    v["t"] = serde_json::json!(777);
    v["m"] = Value::Bool(true);
    let UserEvent::Execution(e) = UserEvent::from_value(v.clone()).unwrap() else {
        panic!()
    };
    let r = parse::execution_report(&e).unwrap();
    assert_eq!(
        (r.status, r.executed_qty, r.cumulative_quote),
        (OrderStatus::PartiallyFilled, Qty(d("0.4")), d("0.04104"))
    );
    let f = &r.fills[0];
    assert_eq!((f.trade_id, f.is_maker, f.side), (777, true, Side::Buy));
    assert_eq!(
        (
            f.quantity,
            f.price,
            f.commission,
            f.commission_asset.as_ref()
        ),
        (Qty(d("0.4")), Price(d("0.1026")), d("0.0004"), "ETH")
    );

    v["x"] = Value::String("CANCELED".into());
    v["X"] = Value::String("CANCELED".into());
    v["c"] = Value::String("cancel-req-1".into());
    v["C"] = Value::String("mUvoqJxFIILMdfAW5iGSOW".into());
    v["t"] = serde_json::json!(-1);
    let UserEvent::Execution(e) = UserEvent::from_value(v.clone()).unwrap() else {
        panic!()
    };
    let r = parse::execution_report(&e).unwrap();
    assert_eq!(
        (r.client_order_id.as_str(), r.status, r.fills.len()),
        ("mUvoqJxFIILMdfAW5iGSOW", OrderStatus::Canceled, 0)
    );

    v["X"] = Value::String("EXPIRED_IN_MATCH".into());
    let UserEvent::Execution(e) = UserEvent::from_value(v.clone()).unwrap() else {
        panic!()
    };
    assert_eq!(
        parse::execution_report(&e).unwrap().status,
        OrderStatus::Expired
    );
    v["x"] = Value::String("TRADE".into());
    let UserEvent::Execution(e) = UserEvent::from_value(v).unwrap() else {
        panic!()
    };
    assert!(
        parse::execution_report(&e).is_err(),
        "a trade without a trade id is refused"
    );
}

#[test]
fn account_balance_and_list_events() {
    for dir in ["ws_api_wrapped", "raw_listenKey_era"] {
        let unwrap = |rel: &str| {
            let v: Value = load(&format!("user_data_stream/{dir}/{rel}"));
            UserEvent::from_value(v.get("event").cloned().unwrap_or(v)).unwrap()
        };
        let UserEvent::AccountPosition(p) = unwrap("outboundAccountPosition.json") else {
            panic!()
        };
        assert_eq!(
            (
                p.last_update,
                p.balances[0].asset.as_str(),
                p.balances[0].free
            ),
            (1564034571073, "ETH", d("10000"))
        );
        let UserEvent::BalanceUpdate(b) = unwrap("balanceUpdate.json") else {
            panic!()
        };
        assert_eq!(
            (b.asset.as_str(), b.delta, b.time),
            ("BTC", d("100"), 1573200697068)
        );
        let UserEvent::ListStatus(l) = unwrap("listStatus.json") else {
            panic!()
        };
        assert_eq!(
            (
                l.order_list_id,
                l.list_client_order_id.as_str(),
                l.orders[1].order_id
            ),
            (2, "F4QN4G8DlFATFlIUQ0cjdD", 18)
        );
        assert_eq!(
            (
                l.orders[1].client_order_id.as_str(),
                l.orders[0].symbol.as_str()
            ),
            ("bfYPSQdLoqAJeNrOr9adzq", "ETHBTC")
        );
    }
    let v: Value = load("user_data_stream/ws_api_wrapped/eventStreamTerminated.json");
    assert!(matches!(
        UserEvent::from_value(v["event"].clone()).unwrap(),
        UserEvent::StreamTerminated
    ));
    let v: Value = load("user_data_stream/ws_api_wrapped/externalLockUpdate.json");
    let UserEvent::ExternalLock(x) = UserEvent::from_value(v["event"].clone()).unwrap() else {
        panic!()
    };
    assert_eq!((x.asset.as_str(), x.delta), ("NEO", d("10")));
    let v: Value = load("user_data_stream/raw_listenKey_era/listenKeyExpired.json");
    assert!(matches!(
        UserEvent::from_value(v).unwrap(),
        UserEvent::ListenKeyExpired
    ));
    let v: Value = load("ws_api/serverShutdown_event.json");
    assert!(matches!(
        UserEvent::from_value(v["event"].clone()).unwrap(),
        UserEvent::ServerShutdown
    ));
}

#[test]
fn websocket_api_answers() {
    let ok: WsResponse = load("ws_api/userDataStream.subscribe.signature_response.json");
    assert_eq!(
        (ok.status, ok.result.unwrap()["subscriptionId"].as_u64()),
        (200, Some(0))
    );
    let banned: WsResponse = load("ws_api/error_418_ip_banned_-1003.json");
    let e = banned.error.unwrap();
    assert_eq!((banned.status, e.code), (418, -1003));
    assert_eq!(e.data.unwrap()["retryAfter"].as_u64(), Some(1659146400000));
    let refused: WsResponse = load("ws_api/response_error_-2010.json");
    assert_eq!(
        refused.error.unwrap().msg,
        "Account has insufficient balance for requested action."
    );
}

#[test]
fn market_stream_frames() {
    let raw = text("market_streams/trade.json");
    let combined = format!(r#"{{"stream":"bnbbtc@trade","data":{raw}}}"#);
    for frame in [raw.as_str(), combined.as_str()] {
        let Frame::Event(ExchangeEvent::Price { symbol, price, ts }) = parse_frame(frame) else {
            panic!()
        };
        assert_eq!(
            (symbol.as_str(), price, ts.timestamp_millis()),
            ("BNBBTC", Price(d("0.001")), 1672515782136)
        );
    }
    let trade: Trade = load("market_streams/trade.json");
    assert_eq!(
        (trade.trade_id, trade.quantity, trade.buyer_is_maker),
        (12345, d("100"), true)
    );
    let book: BookTicker = load("market_streams/bookTicker.json");
    assert_eq!(
        (book.update_id, book.bid, book.ask_qty),
        (400900217, d("25.3519"), d("40.66"))
    );
    assert_eq!(
        parse_frame(&text("market_streams/bookTicker.json")),
        Frame::Ignored
    );
    assert_eq!(
        parse_frame(&text("market_streams/serverShutdown_combined.json")),
        Frame::Shutdown
    );
    assert_eq!(
        parse_frame(&text("market_streams/serverShutdown_raw.json")),
        Frame::Shutdown
    );
}
