//! The journal records every step of an order, the intent before the request leaves; an order
//! the journal cannot record is not sent; evicted orders are still found; a halt outlives a
//! restart.

use redline::journal::{EntryKind, Store};
use serde_json::{Value, json};

use crate::support::TestEngine;

async fn journal_entries(t: &TestEngine, id: &str) -> Vec<redline::journal::StoredEntry> {
    let journal = t.engine.journal.as_ref().expect("launched with a journal");
    journal
        .writer
        .send(redline::journal::writer::Flush)
        .await
        .unwrap()
        .unwrap();
    journal.store.for_order(id).await.unwrap()
}

fn order_status(e: &redline::journal::StoredEntry) -> Option<&str> {
    e.entry.payload["order"]["status"].as_str()
}

#[actix_rt::test]
async fn every_step_of_an_order_is_journaled_with_the_intent_before_the_answer() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(json!({"id": "j-1", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_for("fill applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    let entries = journal_entries(&t, &id).await;
    let seq_of = |pred: &dyn Fn(&redline::journal::StoredEntry) -> bool| {
        entries.iter().find(|e| pred(e)).map(|e| e.seq)
    };
    let intent = seq_of(&|e| e.entry.kind == EntryKind::OrderIntent).expect("intent recorded");
    let pending = seq_of(&|e| order_status(e) == Some("PENDING_NEW")).expect("pending recorded");
    let filled = seq_of(&|e| order_status(e) == Some("FILLED")).expect("fill answer recorded");
    let fill = seq_of(&|e| e.entry.kind == EntryKind::Fill).expect("fill recorded");
    assert!(
        pending < intent && intent < filled,
        "{pending} < {intent} < {filled}"
    );
    assert!(fill > intent);
    let decision = seq_of(&|e| e.entry.kind == EntryKind::RiskDecision).expect("decision");
    assert!(decision > intent);
    let intent_row = entries.iter().find(|e| e.seq == intent).unwrap();
    assert_eq!(intent_row.entry.payload["quantity"], json!("0.01"));
    assert_eq!(intent_row.entry.symbol.as_deref(), Some("BTCUSDT"));
    // The signal as received and the position change are journaled too.
    let journal = t.engine.journal.as_ref().unwrap();
    let all = journal.store.read_after(0, 1000).await.unwrap();
    let received = all
        .iter()
        .find(|e| e.entry.kind == EntryKind::Signal)
        .expect("signal recorded");
    assert_eq!(received.entry.payload["id"], json!("j-1"));
    assert!(received.seq < intent);
    assert!(all.iter().any(|e| e.entry.kind == EntryKind::PositionChange
        && e.entry.payload["position"]["fill_count"] == json!(1)));
    t.stop().await;
}

#[actix_rt::test]
async fn an_order_the_journal_cannot_record_is_not_sent() {
    let t = TestEngine::start(&[]).await;
    let Some(Store::Sqlite(pool)) = t.engine.journal.as_ref().map(|j| j.store.clone()) else {
        panic!("tests journal to SQLite");
    };
    // Every insert fails from now on.
    sqlx::query("ALTER TABLE journal RENAME TO journal_gone")
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = t
        .signal(json!({"id": "j-2", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "journal_unavailable", "{body}");
    assert_eq!(t.sim.order_count(), 0, "nothing reached the venue");
    let (_, orders) = t.get("/v1/orders?status=all").await;
    assert_eq!(orders, Value::Array(vec![]), "no order is left behind");
    t.stop().await;
}

#[actix_rt::test]
async fn an_order_evicted_from_memory_is_still_found_in_the_journal() {
    let t = TestEngine::start(&[("REDLINE__ORDERS__RETENTION_SECS", "1")]).await;
    let (status, body) = t
        .signal(json!({"id": "j-3", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.advance(5);
    t.wait_for("evicted from memory", |t| async move {
        let (_, all) = t.get("/v1/orders?status=all").await;
        all.as_array().is_some_and(|a| a.is_empty())
    })
    .await;
    let (status, order) = t.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "FILLED");
    assert_eq!(order["filled_quantity"], "0.01");
    let (status, _) = t.get("/v1/orders/never-was").await;
    assert_eq!(status, 404);
    t.stop().await;
}

#[actix_rt::test]
async fn a_halt_outlives_a_restart_until_a_person_lifts_it() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post(
            "/v1/risk/state",
            &json!({"state": "halted", "reason": "desk closed"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let dir = t.stop_keeping_data().await;

    let t = TestEngine::start(&[("REDLINE__STORAGE__DATA_DIR", dir.as_str())]).await;
    let (status, body) = t
        .signal(json!({"id": "j-4", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(t.sim.order_count(), 0);
    let (status, _) = t
        .post(
            "/v1/risk/state",
            &json!({"state": "active", "reason": "desk open"}).to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = t
        .signal(json!({"id": "j-4", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201, "{body}");
    t.stop().await;
}
