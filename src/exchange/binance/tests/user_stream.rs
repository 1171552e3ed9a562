//! The user-data stream against a WebSocket API on loopback: the signed subscribe request,
//! wrapped events becoming order reports, and a dropped connection replaced with a new
//! subscription and `Reconnected`, while the receiver stays open and one socket serves every
//! subscriber.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::mock::start_with;
use crate::domain::OrderStatus;
use crate::exchange::binance::Credentials;
use crate::exchange::binance::signing::ws_payload;
use crate::exchange::{Exchange, ExchangeEvent};

fn fixture(rel: &str) -> String {
    let path = format!(
        "{}/../shared/binance/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

type Server = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Accepts one connection, checks its subscribe request and confirms it.
async fn accept_subscription(listener: &TcpListener) -> Server {
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
        .await
        .expect("adapter connects")
        .unwrap();
    let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
    let Some(Ok(Message::Text(text))) = ws.next().await else {
        panic!("subscribe request expected")
    };
    let req: Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(req["method"], "userDataStream.subscribe.signature");
    let p = &req["params"];
    let (ts, window) = (p["timestamp"].to_string(), p["recvWindow"].to_string());
    let payload = ws_payload([
        ("apiKey", p["apiKey"].as_str().unwrap()),
        ("timestamp", ts.as_str()),
        ("recvWindow", window.as_str()),
    ]);
    assert_eq!(p["apiKey"], "the-key");
    assert_eq!(window, "5000");
    assert!(
        Credentials::new("the-key", "the-secret")
            .verify(&payload, p["signature"].as_str().unwrap())
    );
    let answer =
        serde_json::json!({"id": req["id"], "status": 200, "result": {"subscriptionId": 0}});
    ws.send(Message::Text(answer.to_string().into()))
        .await
        .unwrap();
    ws
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<ExchangeEvent>) -> ExchangeEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event")
        .expect("stream open")
}

#[actix_rt::test]
async fn events_flow_and_a_dropped_connection_resubscribes_with_reconnected() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    let (ex, _script) = start_with(url, "ws://127.0.0.1:1".into()).await;
    let mut first = ex.subscribe();
    let mut ws = accept_subscription(&listener).await;
    // Even the first subscription says "reconcile": events before it were not delivered.
    assert_eq!(next(&mut first).await, ExchangeEvent::Reconnected);
    ws.send(Message::Ping(vec![1, 2].into())).await.unwrap();
    ws.send(Message::Text(
        fixture("user_data_stream/ws_api_wrapped/executionReport.json").into(),
    ))
    .await
    .unwrap();
    let ExchangeEvent::Order(report) = next(&mut first).await else {
        panic!("order expected")
    };
    assert_eq!(
        (report.client_order_id.as_str(), report.status),
        ("mUvoqJxFIILMdfAW5iGSOW", OrderStatus::New)
    );
    // The ping was answered.
    let pong = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    assert!(matches!(pong, Some(Ok(Message::Pong(p))) if p.as_ref() == [1, 2]));

    ws.send(Message::Text(
        fixture("user_data_stream/ws_api_wrapped/outboundAccountPosition.json").into(),
    ))
    .await
    .unwrap();
    // A second subscriber (a restarted gateway) shares the one connection.
    let mut second = ex.subscribe();
    ws.send(Message::Text(
        fixture("user_data_stream/ws_api_wrapped/eventStreamTerminated.json").into(),
    ))
    .await
    .unwrap();
    drop(ws);

    let _ws = accept_subscription(&listener).await;
    assert_eq!(next(&mut first).await, ExchangeEvent::Reconnected);
    assert_eq!(next(&mut second).await, ExchangeEvent::Reconnected);
    let cached = ex.cached_balances();
    assert_eq!(
        (cached[0].asset.as_str(), cached[0].free.to_string()),
        ("ETH", "10000.000000".into())
    );

    ex.shutdown();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), first.recv())
            .await
            .unwrap(),
        None
    );
}

// tungstenite's handshake callback returns its (large) error response type.
#[allow(clippy::result_large_err)]
#[actix_rt::test]
async fn trades_become_prices_and_a_market_reconnect_rereads_prices_without_reconnected() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("ws://{}", listener.local_addr().unwrap());
    let (ex, script) = start_with("ws://127.0.0.1:1/ws-api/v3".into(), base).await;
    let prices = r#"[{"symbol":"BTCUSDT","price":"65000.50"}]"#;
    super::mock::push(&script, (200, vec![], prices.into()));
    let mut rx = ex.subscribe();

    let accept = || async {
        let (tcp, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .unwrap()
            .unwrap();
        let mut path = String::new();
        let ws = tokio_tungstenite::accept_hdr_async(
            tcp,
            |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                path = req.uri().to_string();
                Ok(resp)
            },
        )
        .await
        .unwrap();
        (ws, path)
    };
    let (mut ws, path) = accept().await;
    assert_eq!(path, "/stream?streams=btcusdt@trade");
    let trade = fixture("market_streams/trade.json").replace("BNBBTC", "BTCUSDT");
    let frame = format!(r#"{{"stream":"btcusdt@trade","data":{trade}}}"#);
    ws.send(Message::Text(frame.into())).await.unwrap();
    let ExchangeEvent::Price { symbol, price, .. } = next(&mut rx).await else {
        panic!("price expected")
    };
    assert_eq!(
        (symbol.as_str(), price.to_string()),
        ("BTCUSDT", "0.001".to_string())
    );

    ws.send(Message::Text(
        fixture("market_streams/serverShutdown_combined.json").into(),
    ))
    .await
    .unwrap();
    let (_ws, _) = accept().await;
    // After the reconnect, the last price is re-read over REST; no Reconnected for market data.
    let ExchangeEvent::Price { price, .. } = next(&mut rx).await else {
        panic!("price expected")
    };
    assert_eq!(price.to_string(), "65000.5");
    ex.shutdown();
}
