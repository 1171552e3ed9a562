//! Reconciliation: a fill the push stream lost is found and applied exactly once; an UNKNOWN
//! order the venue never saw is resolved as never placed; every discrepancy is reported.

use redline::exchange::sim::SimFault;
use serde_json::{Value, json};

use crate::support::{TestEngine, assert_dec};

async fn reconcile(t: &TestEngine) -> Value {
    let (status, report) = t.post("/v1/reconcile", "{}").await;
    assert_eq!(status, 200, "{report}");
    report
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    report["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[actix_rt::test]
async fn a_fill_the_stream_lost_is_found_and_applied_exactly_once() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(
            json!({"id": "rc-1", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "0.01", "price": "59000.00"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    // The venue fills the resting order, but the report never arrives.
    t.sim.inject(SimFault::DropOrderEvents(1));
    t.set_price("BTCUSDT", "58990.00").await;
    assert_eq!(
        t.order(&id).await["status"],
        "NEW",
        "the engine missed the fill"
    );
    assert_eq!(t.position("BTCUSDT").await["fill_count"], 0);

    let report = reconcile(&t).await;
    assert_eq!(
        kinds(&report),
        vec![("missed_update".into(), "queried".into())]
    );
    t.wait_for("missed fill applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    assert_eq!(t.order(&id).await["status"], "FILLED");
    // 0.01 bought at the limit, 0.1% maker fee taken in BTC.
    assert_dec(
        t.position("BTCUSDT").await["quantity"].as_str().unwrap(),
        "0.00999",
        "position",
    );

    // A second run finds nothing and applies nothing again.
    let again = reconcile(&t).await;
    assert_eq!(kinds(&again), vec![]);
    assert_eq!(t.position("BTCUSDT").await["fill_count"], 1);
    let (_, status) = t.get("/v1/reconcile").await;
    assert_eq!(status["discrepancies"]["missed_update"], 1, "{status}");
    assert_eq!(status["reconciled"], true);
    t.stop().await;
}

#[actix_rt::test]
async fn an_unknown_order_the_venue_never_saw_is_resolved_as_never_placed() {
    let t = TestEngine::start(&[("REDLINE__RECONCILE__UNKNOWN_GRACE_SECS", "0")]).await;
    t.sim.inject(SimFault::LoseSubmits(1));
    let (status, body) = t
        .signal(json!({"id": "rc-2", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    assert_eq!(t.order(&id).await["status"], "UNKNOWN");

    let report = reconcile(&t).await;
    assert_eq!(
        kinds(&report),
        vec![("not_at_venue".into(), "resolved_rejected".into())]
    );
    t.wait_for("resolved", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "REJECTED" }
    })
    .await;
    assert!(
        t.order(&id).await["reason"]
            .as_str()
            .unwrap()
            .contains("never placed")
    );
    assert_eq!(
        t.sim.order_count(),
        0,
        "nothing was ever placed, nothing was re-sent"
    );
    // Replaying the signal is still a duplicate: the engine never sends an order twice.
    let (status, body) = t
        .signal(json!({"id": "rc-2", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("duplicate")),
        "{body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn an_unknown_order_within_its_grace_period_is_left_for_the_next_run() {
    let t = TestEngine::start(&[]).await;
    t.sim.inject(SimFault::LoseSubmits(1));
    let (status, body) = t
        .signal(json!({"id": "rc-3", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    let report = reconcile(&t).await;
    assert_eq!(
        kinds(&report),
        vec![("not_at_venue".into(), "left_for_next_run".into())]
    );
    assert_eq!(t.order(&id).await["status"], "UNKNOWN");
    t.stop().await;
}
