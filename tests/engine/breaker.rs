//! The circuit breaker opens after 3 venue failures and closes after the cooldown: time is the
//! manual clock, never a sleep.

use redline::exchange::sim::SimFault;
use serde_json::json;

use crate::support::TestEngine;

#[actix_rt::test]
async fn breaker_opens_after_three_failures_and_closes_after_cooldown() {
    let t = TestEngine::start(&[]).await;
    t.sim.inject(SimFault::FailSubmits(3));
    for i in 0..3 {
        let (status, body) = t.signal(json!({"id": format!("f{i}"), "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"})).await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["status"], "failed");
    }
    let (_, st) = t.get("/v1/status").await;
    assert_eq!(st["breaker"]["state"], "open", "{st}");

    let (status, body) = t
        .signal(
            json!({"id": "while-open", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("breaker_open")),
        "{body}"
    );
    // A successful read from the venue during the cooldown does not close the breaker.
    assert_eq!(t.get("/v1/account").await.0, 200);
    let (_, st) = t.get("/v1/status").await;
    assert_eq!(st["breaker"]["state"], "open", "{st}");
    t.advance(29);
    let (status, _) = t
        .signal(
            json!({"id": "still-open", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(status, 503);

    t.advance(2);
    let (_, st) = t.get("/v1/status").await;
    assert_eq!(st["breaker"]["state"], "half_open", "{st}");
    let (status, body) = t
        .signal(json!({"id": "trial", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 201, "{body}");
    t.wait_for("breaker closed", |t| async move {
        t.get("/v1/status").await.1["breaker"]["state"] == "closed"
    })
    .await;
    assert_eq!(
        t.sim.order_count(),
        1,
        "only the trial order reached the venue"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn an_unconfirmed_order_is_unknown_then_resolved_by_query_not_resent() {
    let t = TestEngine::start(&[]).await;
    // The venue executes the order but the answer times out, and the pushed report is lost too:
    // only a query can tell what happened.
    t.sim.inject(SimFault::UnknownAfterAccept(1));
    t.sim.inject(SimFault::DropOrderEvents(1));
    let (status, body) = t
        .signal(json!({"id": "u1", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("unknown")),
        "{body}"
    );
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_for("resolved", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "FILLED" }
    })
    .await;
    assert_eq!(t.sim.order_count(), 1, "resolved by query, never re-sent");
    t.wait_for("position", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    t.stop().await;
}

#[actix_rt::test]
async fn an_error_answer_never_overrides_what_the_venue_reported() {
    let t = TestEngine::start(&[]).await;
    // The answer is lost but the pushed report says FILLED: whichever arrives first, the order
    // ends FILLED, once, and is not sent again.
    t.sim.inject(SimFault::UnknownAfterAccept(1));
    let (status, body) = t
        .signal(json!({"id": "u2", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert!(status == 201 || status == 202, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_for("filled", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "FILLED" }
    })
    .await;
    assert_eq!(t.sim.order_count(), 1);
    t.wait_for("position", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    assert_eq!(
        t.position("BTCUSDT").await["fill_count"],
        1,
        "the fill is applied once"
    );
    t.stop().await;
}
