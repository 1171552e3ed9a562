//! Every answer has exactly the fields of Binance's own example (fixtures under
//! `shared/binance/fixtures/`), so a client proven here meets no missing field on Binance.

use crate::support::*;
use redline::exchange::binance::signing::ws_payload;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn fixture(path: &str) -> Value {
    let full = format!(
        "{}/../shared/binance/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Same keys at the top level and in the first element of every array and nested object.
fn same_shape(what: &str, ours: &Value, theirs: &Value) {
    match (ours, theirs) {
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(a), Some(b)) = (a.first(), b.first()) {
                same_shape(&format!("{what}[0]"), a, b);
            }
        }
        (Value::Object(a), Value::Object(_)) => {
            assert_eq!(keys(ours), keys(theirs), "{what}: field sets differ");
            for (k, v) in a {
                same_shape(&format!("{what}.{k}"), v, &theirs[k]);
            }
        }
        _ => {}
    }
}

#[actix_rt::test]
async fn rest_answers_have_binances_fields() {
    let t = TestServer::start().await;
    same_shape(
        "time",
        &t.get("/api/v3/time").await.body,
        &fixture("rest/time_response.json"),
    );
    same_shape(
        "ticker",
        &t.get("/api/v3/ticker/price?symbol=BTCUSDT").await.body,
        &fixture("rest/ticker_price_single.json"),
    );
    same_shape(
        "tickers",
        &t.get("/api/v3/ticker/price").await.body,
        &fixture("rest/ticker_price_multi.json"),
    );
    same_shape(
        "error",
        &t.get("/api/v3/ticker/price?symbol=NOPE").await.body,
        &fixture("rest/error_payload_example.json"),
    );
    let info = t.get("/api/v3/exchangeInfo").await.body;
    let mut skeleton = fixture("rest/exchange_info_response_skeleton.json");
    // No smart order routing here: `sors` is absent, as on Binance for symbols without SOR.
    skeleton.as_object_mut().unwrap().remove("sors");
    assert_eq!(keys(&info), keys(&skeleton));
    assert_eq!(keys(&info["symbols"][0]), keys(&skeleton["symbols"][0]));

    let full = t.market_buy("0.01", "shape-1").await.body;
    same_shape("FULL", &full, &fixture("rest/new_order_response_FULL.json"));
    for (resp, file) in [
        ("RESULT", "rest/new_order_response_RESULT.json"),
        ("ACK", "rest/new_order_response_ACK.json"),
    ] {
        let r = t
            .signed(
                Method::POST,
                "/api/v3/order",
                &[
                    ("symbol", "BTCUSDT"),
                    ("side", "BUY"),
                    ("type", "MARKET"),
                    ("quantity", "0.01"),
                    ("newOrderRespType", resp),
                ],
            )
            .await;
        same_shape(resp, &r.body, &fixture(file));
    }
    t.limit("BUY", "0.01", "50000.00", "shape-2").await;
    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "shape-2")],
        )
        .await;
    same_shape("query", &q.body, &fixture("rest/query_order_response.json"));
    let open = t.signed(Method::GET, "/api/v3/openOrders", &[]).await;
    same_shape(
        "openOrders",
        &open.body,
        &fixture("rest/open_orders_response.json"),
    );
    let all = t
        .signed(Method::GET, "/api/v3/allOrders", &[("symbol", "BTCUSDT")])
        .await;
    same_shape(
        "allOrders",
        &all.body,
        &fixture("rest/all_orders_response.json"),
    );
    let account = t.signed(Method::GET, "/api/v3/account", &[]).await;
    same_shape(
        "account",
        &account.body,
        &fixture("rest/account_response.json"),
    );
    let cancel = t
        .signed(
            Method::DELETE,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "shape-2")],
        )
        .await;
    same_shape(
        "cancel",
        &cancel.body,
        &fixture("rest/cancel_order_response.json"),
    );
    t.limit("BUY", "0.01", "50000.00", "shape-3").await;
    let all = t
        .signed(
            Method::DELETE,
            "/api/v3/openOrders",
            &[("symbol", "BTCUSDT")],
        )
        .await;
    same_shape(
        "cancelAll",
        &all.body[0],
        &fixture("rest/cancel_all_open_orders_response.json")[0],
    );
    let counts = t.signed(Method::GET, "/api/v3/rateLimit/order", &[]).await;
    same_shape(
        "rateLimit/order",
        &counts.body,
        &fixture("rest/rateLimit_order_response.json"),
    );
    let test = t
        .signed(
            Method::POST,
            "/api/v3/order/test",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.01"),
                ("computeCommissionRates", "true"),
            ],
        )
        .await;
    same_shape(
        "order/test",
        &test.body,
        &fixture("rest/order_test_response_computeCommissionRates.json"),
    );
    t.stop().await;
}

#[actix_rt::test]
async fn websocket_messages_have_binances_fields() {
    let t = TestServer::start().await;
    let mut ws = t.ws("/ws-api/v3").await;
    let ts = now_ms().to_string();
    let sig = t
        .creds
        .sign(&ws_payload([("apiKey", KEY), ("timestamp", ts.as_str())]));
    ws_send(
        &mut ws,
        json!({"id": "s", "method": "userDataStream.subscribe.signature",
                            "params": {"apiKey": KEY, "timestamp": ts, "signature": sig}}),
    )
    .await;
    let mut sub = next_json(&mut ws).await.unwrap();
    sub.as_object_mut().unwrap().remove("rateLimits");
    same_shape(
        "subscribe",
        &sub,
        &fixture("ws_api/userDataStream.subscribe.signature_response.json"),
    );
    let mut market = t
        .ws("/stream?streams=btcusdt@trade/btcusdt@bookTicker")
        .await;

    t.limit("BUY", "0.01", "59000.00", "ws-shape").await;
    t.set_price("BTCUSDT", "59000.00").await;
    let mut report = fixture("user_data_stream/ws_api_wrapped/executionReport.json");
    // `v` (prevented match id) is conditional: Binance sends it only after self-trade prevention.
    report["event"].as_object_mut().unwrap().remove("v");
    let new = wait_json(&mut ws, "NEW", |v| v["event"]["x"] == "NEW").await;
    same_shape("executionReport NEW", &new, &report);
    let trade = wait_json(&mut ws, "TRADE", |v| v["event"]["x"] == "TRADE").await;
    same_shape("executionReport TRADE", &trade, &report);
    let position = wait_json(&mut ws, "position", |v| {
        v["event"]["e"] == "outboundAccountPosition"
    })
    .await;
    same_shape(
        "outboundAccountPosition",
        &position,
        &fixture("user_data_stream/ws_api_wrapped/outboundAccountPosition.json"),
    );

    let trade = wait_json(&mut market, "trade", |v| v["stream"] == "btcusdt@trade").await;
    same_shape(
        "trade",
        &trade["data"],
        &fixture("market_streams/trade.json"),
    );
    let book = wait_json(&mut market, "bookTicker", |v| {
        v["stream"] == "btcusdt@bookTicker"
    })
    .await;
    same_shape(
        "bookTicker",
        &book["data"],
        &fixture("market_streams/bookTicker.json"),
    );
    t.stop().await;
}
