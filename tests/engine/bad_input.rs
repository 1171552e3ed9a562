//! Every kind of bad input is a 400 that names the field, and changes nothing.

use serde_json::{Value, json};

use crate::support::TestEngine;

#[actix_rt::test]
async fn bad_signals_are_400_with_the_field_and_change_nothing() {
    let t = TestEngine::start(&[]).await;
    let stale =
        (t.clock.as_ref() as &dyn redline::clock::Clock).now() - chrono::Duration::seconds(60);
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown symbol", json!({"id": "a", "symbol": "XRPUSDT", "action": "buy", "quantity": "1"}).to_string(), "symbol"),
        ("negative quantity", json!({"id": "b", "symbol": "BTCUSDT", "action": "buy", "quantity": "-1"}).to_string(), "quantity"),
        ("zero quantity", json!({"id": "c", "symbol": "BTCUSDT", "action": "buy", "quantity": 0}).to_string(), "quantity"),
        ("quantity off the step", json!({"id": "d", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.000015"}).to_string(), "quantity"),
        ("price off the tick", json!({"id": "e", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "quantity": "0.001", "price": "59000.001"}).to_string(), "price"),
        ("malformed JSON", r#"{"id": "f", "symbol": "BTCUSDT", "#.to_string(), "body"),
        ("missing id", json!({"symbol": "BTCUSDT", "action": "buy", "quantity": "1"}).to_string(), "id"),
        ("stale timestamp", json!({"id": "g", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001", "timestamp": stale.to_rfc3339()}).to_string(), "timestamp"),
        ("below min notional", json!({"id": "h", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.00001"}).to_string(), "quantity"),
        ("unknown field", json!({"id": "i", "symbol": "BTCUSDT", "action": "buy", "quantiy": "1"}).to_string(), "body"),
        ("limit buy over 5x the last price (PERCENT_PRICE_BY_SIDE)", json!({"id": "j", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "quantity": "0.001", "price": "300000.01"}).to_string(), "price"),
    ];
    for (what, body, field) in cases {
        let (status, answer) = t.post("/v1/signals", &body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["field"], field, "{what}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {answer}"
        );
    }
    assert_eq!(t.sim.order_count(), 0);
    let (_, orders) = t.get("/v1/orders?status=all").await;
    assert_eq!(orders, Value::Array(vec![]));
    // A rejected id was not remembered: the corrected signal goes through.
    let (status, body) = t
        .signal(json!({"id": "d", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.0001"}))
        .await;
    assert_eq!(status, 201, "{body}");
    t.stop().await;
}

#[actix_rt::test]
async fn state_changing_routes_need_the_token_when_one_is_set() {
    use redline::web::ApiToken;
    let t = TestEngine::start_with(
        crate::support::test_config(&[]),
        ApiToken::new(Some("t0ken")),
    )
    .await;
    let (status, _) = t
        .signal(json!({"id": "x", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 401);
    let ok = t
        .http
        .post(format!("{}/v1/signals", t.base))
        .bearer_auth("t0ken")
        .json(&json!({"id": "x", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 201);
    assert_eq!(t.get("/v1/positions").await.0, 200, "reads need no token");
    assert_eq!(t.sim.order_count(), 1);
    t.stop().await;
}

#[actix_rt::test]
async fn max_num_orders_is_enforced_before_sending_and_frees_up_as_orders_close() {
    // The embedded exchange info with MAX_NUM_ORDERS lowered to 2.
    let info = include_str!("../../config/exchange_info.json")
        .replace("\"maxNumOrders\": 200", "\"maxNumOrders\": 2");
    let dir = std::env::temp_dir().join(format!("redline-maxnum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("exchange_info.json");
    std::fs::write(&path, info).unwrap();
    let t = TestEngine::start(&[("REDLINE__SIM__EXCHANGE_INFO", path.to_str().unwrap())]).await;
    let resting = |id: &str| {
        json!({"id": id, "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
               "quantity": "0.001", "price": "59000.00"})
    };
    for id in ["r1", "r2"] {
        let (status, body) = t.signal(resting(id)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = t.signal(resting("r3")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["reason"], "max_open_orders", "{body}");
    assert_eq!(t.sim.order_count(), 2, "the third order never left");
    // One resting order fills; the refused signal can be sent again and now passes.
    t.set_price("BTCUSDT", "58990.00").await;
    t.wait_for("both resting orders filled", |t| async move {
        let (_, open) = t.get("/v1/orders").await;
        open.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
    let (status, body) = t.signal(resting("r3")).await;
    assert_eq!(status, 201, "{body}");
    t.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
