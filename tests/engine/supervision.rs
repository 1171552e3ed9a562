//! Supervision: an actor that stops on an unrecoverable error is restarted and the engine keeps
//! taking signals, without losing what happened meanwhile.

use serde_json::json;

use crate::support::TestEngine;

#[actix_rt::test]
async fn the_gateway_is_restarted_and_recovers_a_fill_missed_while_it_was_down() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(json!({"id": "rest", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "quantity": "0.01", "price": "59000"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();

    // The push connection drops and, before anyone resubscribes, the order fills: its report
    // goes nowhere. The gateway's stream ends, it stops, and its supervisor restarts it.
    t.sim.drop_subscribers();
    t.sim
        .set_price(
            &redline::domain::Symbol::new("BTCUSDT").unwrap(),
            "58000".parse().unwrap(),
        )
        .unwrap();

    t.wait_for("gateway restarted", |t| async move {
        t.get("/v1/status").await.1["actors"]["exchange_gateway"]["restarts"] == 1
    })
    .await;
    // After the restart the router re-queried its open orders and found the fill.
    t.wait_for("missed fill recovered", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "FILLED" }
    })
    .await;
    t.wait_for("position", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;

    // And the engine keeps taking signals, with venue updates flowing again.
    let (status, body) = t
        .signal(json!({"id": "after", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "quantity": "0.01", "price": "57000"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.set_price("BTCUSDT", "56000").await;
    t.wait_for("pushed fill after restart", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "FILLED" }
    })
    .await;
    t.stop().await;
}
