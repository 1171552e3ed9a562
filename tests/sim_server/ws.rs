//! The WebSocket API (user-data subscription and its events) and the market streams.

use crate::support::*;
use serde_json::{Value, json};

fn is_report(v: &Value, x: &str) -> bool {
    v["event"]["e"] == "executionReport" && v["event"]["x"] == x
}

#[actix_rt::test]
async fn ws_api_ping_time_and_signature_checks() {
    let t = TestServer::start().await;
    let mut ws = t.ws("/ws-api/v3").await;
    ws_send(&mut ws, json!({"id": 1, "method": "ping"})).await;
    let r = next_json(&mut ws).await.unwrap();
    assert_eq!(
        (r["id"].clone(), r["status"].clone(), r["result"].clone()),
        (json!(1), json!(200), json!({}))
    );
    assert_eq!(r["rateLimits"][0]["rateLimitType"], "REQUEST_WEIGHT");
    ws_send(&mut ws, json!({"id": "t", "method": "time"})).await;
    let r = next_json(&mut ws).await.unwrap();
    assert!(r["result"]["serverTime"].as_i64().is_some());
    ws_send(&mut ws, subscribe_request(&t, "bad", false)).await;
    let r = next_json(&mut ws).await.unwrap();
    assert_eq!(
        (r["status"].clone(), r["error"]["code"].clone()),
        (json!(400), json!(-1022))
    );
    ws_send(
        &mut ws,
        json!({"id": 2, "method": "userDataStream.unsubscribe"}),
    )
    .await;
    let r = next_json(&mut ws).await.unwrap();
    assert_eq!(r["error"]["code"], -2036);
    t.stop().await;
}

#[actix_rt::test]
async fn user_data_events_for_a_fill_and_a_maker_fill() {
    let t = TestServer::start().await;
    let mut ws = t.ws("/ws-api/v3").await;
    ws_send(&mut ws, subscribe_request(&t, "sub", true)).await;
    let r = next_json(&mut ws).await.unwrap();
    assert_eq!(
        r,
        json!({"id": "sub", "status": 200, "result": {"subscriptionId": 0}, "rateLimits": r["rateLimits"]})
    );

    assert_eq!(t.market_buy("0.01", "ws-mkt").await.status, 200);
    let new = wait_json(&mut ws, "NEW", |v| is_report(v, "NEW")).await;
    assert_eq!(new["subscriptionId"], 0);
    assert_eq!(
        (new["event"]["c"].as_str(), new["event"]["X"].as_str()),
        (Some("ws-mkt"), Some("NEW"))
    );
    let trade = wait_json(&mut ws, "TRADE", |v| is_report(v, "TRADE")).await["event"].clone();
    assert_eq!(trade["X"], "FILLED");
    assert_eq!(
        (
            trade["l"].as_str(),
            trade["L"].as_str(),
            trade["z"].as_str()
        ),
        (
            Some("0.01000000"),
            Some("60000.00000000"),
            Some("0.01000000")
        )
    );
    assert_eq!(
        (
            trade["n"].as_str(),
            trade["N"].as_str(),
            trade["m"].as_bool()
        ),
        (Some("0.00001000"), Some("BTC"), Some(false))
    );
    assert!(trade["t"].as_u64().is_some());
    let position = wait_json(&mut ws, "account", |v| {
        v["event"]["e"] == "outboundAccountPosition"
    })
    .await;
    let assets: Vec<_> = position["event"]["B"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["a"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(assets, ["BTC", "USDT"]);

    assert_eq!(
        t.limit("SELL", "0.01", "61000.00", "ws-lim").await.status,
        200
    );
    wait_json(&mut ws, "NEW sell", |v| {
        is_report(v, "NEW") && v["event"]["c"] == "ws-lim"
    })
    .await;
    t.set_price("BTCUSDT", "61000.00").await;
    let fill = wait_json(&mut ws, "maker fill", |v| {
        is_report(v, "TRADE") && v["event"]["c"] == "ws-lim"
    })
    .await;
    assert_eq!(
        (fill["event"]["m"].as_bool(), fill["event"]["X"].as_str()),
        (Some(true), Some("FILLED"))
    );

    assert_eq!(
        t.limit("BUY", "0.01", "50000.00", "ws-cxl").await.status,
        200
    );
    let r = t
        .signed(
            reqwest::Method::DELETE,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "ws-cxl")],
        )
        .await;
    let cancel =
        wait_json(&mut ws, "CANCELED", |v| is_report(v, "CANCELED")).await["event"].clone();
    assert_eq!(cancel["C"], "ws-cxl");
    assert_eq!(cancel["c"], r.body["clientOrderId"]);
    t.stop().await;
}

#[actix_rt::test]
async fn duplicated_user_events_arrive_twice() {
    let t = TestServer::start().await;
    let mut ws = t.ws("/ws-api/v3").await;
    ws_send(&mut ws, subscribe_request(&t, "sub", true)).await;
    next_json(&mut ws).await.unwrap();
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "duplicate", "count": 1}),
    )
    .await;
    assert_eq!(
        t.limit("BUY", "0.01", "50000.00", "twice").await.status,
        200
    );
    let first = wait_json(&mut ws, "NEW", |v| is_report(v, "NEW")).await;
    let second = next_json(&mut ws).await.unwrap();
    assert_eq!(first, second);
    t.stop().await;
}

#[actix_rt::test]
async fn dropped_and_reordered_user_events() {
    let t = TestServer::start().await;
    let mut ws = t.ws("/ws-api/v3").await;
    ws_send(&mut ws, subscribe_request(&t, "sub", true)).await;
    next_json(&mut ws).await.unwrap();
    // A resting limit order makes two events: executionReport NEW, outboundAccountPosition.
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "reorder", "count": 1}),
    )
    .await;
    assert_eq!(t.limit("BUY", "0.01", "50000.00", "late").await.status, 200);
    let first = next_json(&mut ws).await.unwrap();
    let second = next_json(&mut ws).await.unwrap();
    assert_eq!(first["event"]["e"], "outboundAccountPosition");
    assert!(is_report(&second, "NEW"));
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "drop", "count": 1}),
    )
    .await;
    assert_eq!(t.limit("BUY", "0.01", "50000.00", "lost").await.status, 200);
    let only = next_json(&mut ws).await.unwrap();
    assert_eq!(only["event"]["e"], "outboundAccountPosition");
    t.stop().await;
}

#[actix_rt::test]
async fn the_server_pings_and_answers_pings() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let t =
        TestServer::start_with(|s| s.ping_interval = std::time::Duration::from_millis(50)).await;
    let mut ws = t.ws("/ws/btcusdt@trade").await;
    ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    let (mut pinged, mut ponged) = (false, false);
    while !(pinged && ponged) {
        let msg = tokio::time::timeout(WAIT_LIMIT, ws.next())
            .await
            .expect("frames");
        match msg {
            Some(Ok(Message::Ping(_))) => pinged = true,
            Some(Ok(Message::Pong(p))) => ponged = p.as_ref() == b"hi",
            other => panic!("unexpected {other:?}"),
        }
    }
    t.stop().await;
}

#[actix_rt::test]
async fn market_streams_push_trades_and_book_tickers_on_price_moves() {
    let t = TestServer::start().await;
    let mut raw = t.ws("/ws/btcusdt@trade").await;
    let mut bare = t.ws("/ws").await;
    ws_send(
        &mut bare,
        json!({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 7}),
    )
    .await;
    assert_eq!(
        next_json(&mut bare).await.unwrap(),
        json!({"result": null, "id": 7})
    );
    let mut combined = t
        .ws("/stream?streams=btcusdt@bookTicker/ethusdt@trade")
        .await;
    t.set_price("ETHUSDT", "3001.00").await;
    t.set_price("BTCUSDT", "60100.00").await;
    let trade = next_json(&mut raw).await.unwrap();
    assert_eq!(
        (
            trade["e"].as_str(),
            trade["s"].as_str(),
            trade["p"].as_str()
        ),
        (Some("trade"), Some("BTCUSDT"), Some("60100.00000000"))
    );
    let subscribed = next_json(&mut bare).await.unwrap();
    assert_eq!(subscribed["p"], "60100.00000000");
    let eth = next_json(&mut combined).await.unwrap();
    assert_eq!(
        (eth["stream"].as_str(), eth["data"]["p"].as_str()),
        (Some("ethusdt@trade"), Some("3001.00000000"))
    );
    let book = next_json(&mut combined).await.unwrap();
    assert_eq!(book["stream"], "btcusdt@bookTicker");
    assert_eq!(
        (book["data"]["b"].as_str(), book["data"]["a"].as_str()),
        (Some("60100.00000000"), Some("60100.00000000"))
    );
    t.stop().await;
}

#[actix_rt::test]
async fn admin_drop_ends_every_websocket() {
    let t = TestServer::start().await;
    let mut user = t.ws("/ws-api/v3").await;
    let mut market = t.ws("/ws/btcusdt@trade").await;
    ws_send(&mut user, json!({"id": 1, "method": "ping"})).await;
    next_json(&mut user).await.unwrap();
    t.admin("/sim/ws/drop", json!({})).await;
    assert!(next_json(&mut user).await.is_none());
    assert!(next_json(&mut market).await.is_none());
    // New connections work.
    let mut again = t.ws("/ws-api/v3").await;
    ws_send(&mut again, json!({"id": 2, "method": "ping"})).await;
    assert_eq!(next_json(&mut again).await.unwrap()["status"], 200);
    t.stop().await;
}
