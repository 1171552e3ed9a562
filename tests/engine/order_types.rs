//! Conditional and trailing orders end to end (HTTP → router → sim → reports), and sizing by
//! equity. BTCUSDT starts at 60000, the account holds 100000 USDT, taker fee 0.1% (in BTC on
//! a buy).

use serde_json::json;

use crate::support::{TestEngine, assert_dec, s};

async fn order_status(t: &TestEngine, id: &str) -> String {
    let (_, body) = t.get(&format!("/v1/orders/{id}")).await;
    s(&body, "status").to_string()
}

#[actix_rt::test]
async fn a_manual_stop_loss_waits_for_its_stop_then_fills_on_a_price_update() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","order_type":"stop_loss","quantity":"0.01",
                "stop_price":"61000","client_order_id":"stop-1"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "NEW");
    assert_eq!(body["order"]["order_type"], "stop_loss");
    assert_dec(s(&body["order"], "stop_price"), "61000", "stop price kept");
    t.set_price("BTCUSDT", "60999.99").await;
    assert_eq!(order_status(&t, "stop-1").await, "NEW");
    t.set_price("BTCUSDT", "61000").await;
    t.wait_for("stop filled", |t| async move {
        order_status(t, "stop-1").await == "FILLED"
    })
    .await;
    let (_, order) = t.get("/v1/orders/stop-1").await;
    assert_dec(s(&order, "average_price"), "61000", "filled at the stop");
    t.wait_for("fill applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    // 0.01 − 0.00001 BTC taker fee.
    assert_dec(
        s(&t.position("BTCUSDT").await, "quantity"),
        "0.00999",
        "position",
    );

    // A stop already crossed is refused by the venue, as Binance does.
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","order_type":"stop_loss","quantity":"0.01","stop_price":"60000"}"#,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        s(&body, "detail").contains("Order would trigger immediately."),
        "{body}"
    );
    // A stop type without a stop price is an input error.
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","order_type":"take_profit","quantity":"0.01"}"#,
        )
        .await;
    assert_eq!((status, s(&body, "field")), (400, "stop_price"), "{body}");
}

#[actix_rt::test]
async fn a_trailing_take_profit_signal_follows_the_lowest_price_then_buys() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(json!({"id": "tr1", "symbol": "BTCUSDT", "action": "buy",
            "order_type": "take_profit", "trailing_stop_pct": "1", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["trailing_delta"], 100);
    let id = s(&body, "client_order_id").to_string();
    // Lowest 59000 → triggers at 59590; 59589.99 is still below it.
    for price in ["59000", "59500", "59589.99"] {
        t.set_price("BTCUSDT", price).await;
    }
    assert_eq!(order_status(&t, &id).await, "NEW");
    t.set_price("BTCUSDT", "59590").await;
    let wait_id = id.clone();
    t.wait_for("trailing stop filled", move |t| {
        let id = wait_id.clone();
        async move { order_status(t, &id).await == "FILLED" }
    })
    .await;
    let (_, order) = t.get(&format!("/v1/orders/{id}")).await;
    assert_dec(
        s(&order, "average_price"),
        "59590",
        "bought at the trailing stop",
    );
}

#[actix_rt::test]
async fn a_size_pct_signal_is_sized_from_the_venue_equity() {
    let t = TestEngine::start(&[]).await;
    // 10% of 100000 USDT at 60000 = 0.1666.. BTC, rounded down to the 0.00001 step.
    let (status, body) = t
        .signal(json!({"id": "sz1", "symbol": "BTCUSDT", "action": "buy", "size_pct": "10"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_dec(s(&body["order"], "quantity"), "0.16666", "sized by equity");
    // risk_pct without a stop is refused by name.
    let (status, body) = t
        .signal(json!({"id": "sz2", "symbol": "BTCUSDT", "action": "buy", "risk_pct": "1"}))
        .await;
    assert_eq!((status, s(&body, "field")), (400, "risk_pct"), "{body}");
    // The refused signal id was not consumed.
    let (status, body) = t
        .signal(
            json!({"id": "sz2", "symbol": "BTCUSDT", "action": "buy", "risk_pct": "1",
            "stop_loss_pct": "4"}),
        )
        .await;
    // Equity is now 90000.4 USDT + (0.16666 − 0.00016666 fee) BTC × 60000 = 99990.0004;
    // 1% of it at risk over a stop 4% (2400) below 60000 → 0.416625001.. → 0.41662 BTC
    // (a stop this far keeps the group exposure under the risk gate's 50% of equity).
    assert_eq!(status, 201, "{body}");
    assert_dec(s(&body["order"], "quantity"), "0.41662", "sized by risk");
}
