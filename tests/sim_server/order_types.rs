//! The order types beyond MARKET and LIMIT over REST (stop-limit triggered by a price move,
//! limit maker, market by quote amount, parameter errors) and OCO order lists with their
//! `listStatus` events on the WebSocket API.

use crate::support::*;
use reqwest::Method;
use serde_json::Value;

/// Subscribes a WebSocket API connection to the user-data stream.
async fn subscribed(t: &TestServer) -> Ws {
    let mut ws = t.ws("/ws-api/v3").await;
    ws_send(&mut ws, subscribe_request(t, "sub", true)).await;
    let r = next_json(&mut ws).await.unwrap();
    assert_eq!(r["status"], 200, "{r}");
    ws
}

fn event_is(v: &Value, e: &str, client_id: &str, x: &str) -> bool {
    let ev = &v["event"];
    ev["e"] == e && ev["c"] == client_id && ev["x"] == x
}

fn list_event(v: &Value, status: &str) -> bool {
    v["event"]["e"] == "listStatus" && v["event"]["L"] == status
}

async fn query(t: &TestServer, id: &str) -> Value {
    let params = [("symbol", "BTCUSDT"), ("origClientOrderId", id)];
    t.signed(Method::GET, "/api/v3/order", &params).await.body
}

#[actix_rt::test]
async fn a_stop_loss_limit_waits_then_triggers_on_a_price_move() {
    let t = TestServer::start().await;
    let mut ws = subscribed(&t).await;
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "STOP_LOSS_LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.1"),
                ("price", "58900"),
                ("stopPrice", "59000"),
                ("newClientOrderId", "sl-1"),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["type"], &r.body["status"], &r.body["stopPrice"]),
        (
            &Value::from("STOP_LOSS_LIMIT"),
            &Value::from("NEW"),
            &Value::from("59000.00000000")
        )
    );
    assert_eq!(r.body["workingTime"], -1, "waiting for its trigger");
    let before = query(&t, "sl-1").await;
    assert_eq!(
        (&before["isWorking"], &before["status"]),
        (&Value::from(false), &Value::from("NEW"))
    );
    let new = wait_json(&mut ws, "placement NEW", |v| {
        event_is(v, "executionReport", "sl-1", "NEW")
    })
    .await;
    assert_eq!(
        (&new["event"]["o"], &new["event"]["P"], &new["event"]["W"]),
        (
            &Value::from("STOP_LOSS_LIMIT"),
            &Value::from("59000.00000000"),
            &Value::from(-1)
        )
    );

    // Not reached yet: nothing happens.
    t.set_price("BTCUSDT", "59500").await;
    assert_eq!(query(&t, "sl-1").await["status"], "NEW");
    // The stop is reached: it works as a limit sell at 58900 against the bids at 59000.
    t.set_price("BTCUSDT", "59000").await;
    let working = wait_json(&mut ws, "triggered NEW", |v| {
        event_is(v, "executionReport", "sl-1", "NEW")
    })
    .await;
    assert!(working["event"]["W"].as_i64().unwrap() > 0, "{working}");
    let trade = wait_json(&mut ws, "TRADE", |v| {
        event_is(v, "executionReport", "sl-1", "TRADE")
    })
    .await;
    assert_eq!(
        (
            &trade["event"]["X"],
            &trade["event"]["L"],
            &trade["event"]["l"]
        ),
        (
            &Value::from("FILLED"),
            &Value::from("59000.00000000"),
            &Value::from("0.10000000")
        )
    );
    let after = query(&t, "sl-1").await;
    assert_eq!(
        (&after["status"], &after["executedQty"]),
        (&Value::from("FILLED"), &Value::from("0.10000000"))
    );
    t.stop().await;
}

#[actix_rt::test]
async fn limit_maker_quote_amounts_trailing_stops_and_parameter_errors() {
    let t = TestServer::start().await;
    let order = |extra: &'static [(&'static str, &'static str)]| {
        let t = &t;
        async move {
            let mut params = vec![("symbol", "BTCUSDT")];
            params.extend_from_slice(extra);
            t.signed(Method::POST, "/api/v3/order", &params).await
        }
    };
    // A limit maker at or over the best ask would take: refused, nothing placed.
    let r = order(&[
        ("side", "BUY"),
        ("type", "LIMIT_MAKER"),
        ("quantity", "0.01"),
        ("price", "60010"),
    ])
    .await;
    assert_eq!((r.status, r.code()), (400, -2010), "{:?}", r.body);
    assert_eq!(r.body["msg"], "Order would immediately match and take.");
    let r = order(&[
        ("side", "BUY"),
        ("type", "LIMIT_MAKER"),
        ("quantity", "0.01"),
        ("price", "59000"),
    ])
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // LIMIT_MAKER answers ACK by default: no status, no fills.
    assert!(r.body.get("status").is_none(), "{:?}", r.body);
    assert!(r.body["orderId"].as_u64().is_some(), "{:?}", r.body);
    // timeInForce is refused on a limit maker, required on a stop-limit.
    let r = order(&[
        ("side", "BUY"),
        ("type", "LIMIT_MAKER"),
        ("timeInForce", "GTC"),
        ("quantity", "0.01"),
        ("price", "59000"),
    ])
    .await;
    assert_eq!(r.code(), -1106, "{:?}", r.body);
    let r = order(&[
        ("side", "SELL"),
        ("type", "STOP_LOSS_LIMIT"),
        ("quantity", "0.01"),
        ("price", "59000"),
        ("stopPrice", "59000"),
    ])
    .await;
    assert_eq!(r.code(), -1102, "{:?}", r.body);
    let r = order(&[
        ("side", "SELL"),
        ("type", "STOP_LOSS"),
        ("quantity", "0.01"),
    ])
    .await;
    assert_eq!(r.code(), -1102, "{:?}", r.body);
    // A stop already reached is refused.
    let r = order(&[
        ("side", "SELL"),
        ("type", "STOP_LOSS"),
        ("quantity", "0.01"),
        ("stopPrice", "61000"),
    ])
    .await;
    assert_eq!(
        (r.code(), r.body["msg"].as_str()),
        (-2010, Some("Order would trigger immediately."))
    );
    // A market buy by quote amount.
    let r = order(&[
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quoteOrderQty", "600"),
    ])
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (
            &r.body["executedQty"],
            &r.body["origQuoteOrderQty"],
            &r.body["status"]
        ),
        (
            &Value::from("0.01000000"),
            &Value::from("600.00000000"),
            &Value::from("FILLED")
        )
    );
    // A trailing stop shows its delta.
    let r = order(&[
        ("side", "SELL"),
        ("type", "STOP_LOSS"),
        ("quantity", "0.01"),
        ("trailingDelta", "100"),
        ("newClientOrderId", "trail-1"),
    ])
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "trail-1")],
        )
        .await
        .body;
    assert_eq!(
        (&q["type"], &q["trailingDelta"]),
        (&Value::from("STOP_LOSS"), &Value::from(100))
    );
    t.stop().await;
}

fn oco_params(list: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("quantity", "0.1"),
        ("listClientOrderId", list),
        ("aboveType", "LIMIT_MAKER"),
        ("abovePrice", "61000"),
        ("aboveClientOrderId", "oco-tp"),
        ("belowType", "STOP_LOSS_LIMIT"),
        ("belowStopPrice", "59000"),
        ("belowPrice", "58900"),
        ("belowTimeInForce", "GTC"),
        ("belowClientOrderId", "oco-sl"),
        ("newOrderRespType", "RESULT"),
    ]
}

#[actix_rt::test]
async fn an_oco_leg_fills_the_other_expires_and_the_list_is_all_done() {
    let t = TestServer::start().await;
    let mut ws = subscribed(&t).await;
    let r = t
        .signed(Method::POST, "/api/v3/orderList/oco", &oco_params("oco-1"))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("x-mbx-order-count-10s"), Some("2"));
    let b = &r.body;
    assert_eq!(
        (
            &b["contingencyType"],
            &b["listStatusType"],
            &b["listOrderStatus"],
            &b["listClientOrderId"]
        ),
        (
            &Value::from("OCO"),
            &Value::from("EXEC_STARTED"),
            &Value::from("EXECUTING"),
            &Value::from("oco-1")
        )
    );
    let list_id = b["orderListId"].as_u64().unwrap();
    // Below first, then above, as Binance numbers them.
    let legs: Vec<&str> = b["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["clientOrderId"].as_str().unwrap())
        .collect();
    assert_eq!(legs, ["oco-sl", "oco-tp"]);
    assert_eq!(b["orderReports"][0]["orderListId"], list_id);
    assert_eq!(b["orderReports"][0]["stopPrice"], "59000.00000000");
    assert_eq!(b["orderReports"][1]["type"], "LIMIT_MAKER");
    let started = wait_json(&mut ws, "EXEC_STARTED", |v| list_event(v, "EXECUTING")).await;
    assert_eq!(
        (&started["event"]["g"], &started["event"]["C"]),
        (&Value::from(list_id), &Value::from("oco-1"))
    );
    let open = t
        .signed(Method::GET, "/api/v3/openOrderList", &[])
        .await
        .body;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    let q = t
        .signed(
            Method::GET,
            "/api/v3/orderList",
            &[("origClientOrderId", "oco-1")],
        )
        .await
        .body;
    assert_eq!(q["listOrderStatus"], "EXECUTING");

    // The price reaches the limit maker: it fills, the stop leg expires, the list is done.
    t.set_price("BTCUSDT", "61000").await;
    let expired = wait_json(&mut ws, "stop leg EXPIRED", |v| {
        event_is(v, "executionReport", "oco-sl", "EXPIRED")
    })
    .await;
    assert_eq!(
        (&expired["event"]["g"], &expired["event"]["X"]),
        (&Value::from(list_id), &Value::from("EXPIRED"))
    );
    let trade = wait_json(&mut ws, "limit leg TRADE", |v| {
        event_is(v, "executionReport", "oco-tp", "TRADE")
    })
    .await;
    assert_eq!(
        (&trade["event"]["X"], &trade["event"]["g"]),
        (&Value::from("FILLED"), &Value::from(list_id))
    );
    let done = wait_json(&mut ws, "ALL_DONE", |v| list_event(v, "ALL_DONE")).await;
    assert_eq!(
        (&done["event"]["l"], &done["event"]["g"]),
        (&Value::from("ALL_DONE"), &Value::from(list_id))
    );
    assert_eq!(done["event"]["O"].as_array().map(Vec::len), Some(2));
    let open = t
        .signed(Method::GET, "/api/v3/openOrderList", &[])
        .await
        .body;
    assert_eq!(open, Value::Array(vec![]));
    let q = t
        .signed(
            Method::GET,
            "/api/v3/orderList",
            &[("orderListId", &list_id.to_string())],
        )
        .await
        .body;
    assert_eq!(q["listOrderStatus"], "ALL_DONE");
    t.stop().await;
}

#[actix_rt::test]
async fn an_oco_is_canceled_whole_and_a_bad_one_is_refused() {
    let t = TestServer::start().await;
    let r = t
        .signed(Method::POST, "/api/v3/orderList/oco", &oco_params("oco-2"))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = t
        .signed(
            Method::DELETE,
            "/api/v3/orderList",
            &[("symbol", "BTCUSDT"), ("listClientOrderId", "oco-2")],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["listStatusType"], &r.body["listOrderStatus"]),
        (&Value::from("ALL_DONE"), &Value::from("ALL_DONE"))
    );
    let statuses: Vec<&str> = r.body["orderReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["CANCELED", "CANCELED"]);
    assert_eq!(r.body["orderReports"][0]["origClientOrderId"], "oco-sl");
    // Canceling it again: nothing executing by that id.
    let r = t
        .signed(
            Method::DELETE,
            "/api/v3/orderList",
            &[("symbol", "BTCUSDT"), ("listClientOrderId", "oco-2")],
        )
        .await;
    assert_eq!(r.code(), -2011, "{:?}", r.body);
    // Two limit legs: not an OCO.
    let mut bad = oco_params("oco-3");
    bad.retain(|(k, _)| !k.starts_with("below"));
    bad.extend([("belowType", "LIMIT_MAKER"), ("belowPrice", "59000")]);
    let r = t.signed(Method::POST, "/api/v3/orderList/oco", &bad).await;
    assert_eq!((r.status, r.code()), (400, -1168), "{:?}", r.body);
    t.stop().await;
}
