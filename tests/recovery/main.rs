//! Crash recovery, process level: `redline sim-exchange` and `redline run` (live mode against
//! it) as real processes. The engine is killed with SIGKILL while signals stream in, restarted,
//! and every signal is replayed; then the simulator's orders, the engine's orders and positions
//! must agree, and no order may have been sent twice.

mod support;

use serde_json::{Value, json};

use support::{Engine, Sim, wait_for, wait_until};

/// Signals per round; the engine is killed after `kill_after` of them were answered.
const PER_ROUND: usize = 30;

fn signal(round: usize, i: usize) -> Value {
    // Two in three are market buys (they fill at once); every third is a limit buy far below
    // the market (it rests), so open orders cross the crash too.
    if i % 3 == 2 {
        json!({"id": format!("k{round}-{i}"), "symbol": "BTCUSDT", "action": "buy",
               "order_type": "limit", "quantity": "0.001", "price": "50000.00"})
    } else {
        json!({"id": format!("k{round}-{i}"), "symbol": "BTCUSDT", "action": "buy",
               "quantity": "0.001"})
    }
}

#[actix_rt::test]
async fn a_killed_engine_recovers_every_order_and_never_sends_one_twice() {
    let sim = Sim::start().await;
    let data = support::temp_dir("recovery");
    let mut engine = Engine::start(&sim, &data).await;
    for (round, kill_after) in [3usize, 11, 24].into_iter().enumerate() {
        // Stream the round's signals from several tasks; kill the engine mid-stream.
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut senders = Vec::new();
        for lane in 0..3 {
            let (base, http, answered) =
                (engine.base.clone(), engine.http.clone(), answered.clone());
            senders.push(actix_rt::spawn(async move {
                for i in (lane..PER_ROUND).step_by(3) {
                    let sent = http
                        .post(format!("{base}/v1/signals"))
                        .json(&signal(round, i))
                        .send()
                        .await;
                    if sent.is_err() {
                        return; // the engine is gone
                    }
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }));
        }
        wait_until("signals answered before the kill", || async {
            answered.load(std::sync::atomic::Ordering::SeqCst) >= kill_after
        })
        .await;
        engine.kill();
        for s in senders {
            let _ = s.await;
        }
        engine = Engine::start(&sim, &data).await;
        // Replay every signal of the round: each was either sent once already (duplicate),
        // or is sent now; none twice.
        for i in 0..PER_ROUND {
            let (status, body) = engine.post("/v1/signals", &signal(round, i)).await;
            assert!(
                [200, 201, 202].contains(&status),
                "round {round} signal {i}: {status} {body}"
            );
        }
        check_agreement(&sim, &engine, round).await;
    }
    engine.kill();
}

/// The simulator and the engine agree: no order twice, every venue order known with the same
/// status and filled quantity, and the BTC position equals the venue's BTC balance.
async fn check_agreement(sim: &Sim, engine: &Engine, round: usize) {
    let state = sim.state().await;
    assert_eq!(
        state["orders_accepted"], state["distinct_client_order_ids"],
        "round {round}: an order was sent twice: {state}"
    );
    let venue_orders = sim.all_orders("BTCUSDT").await;
    assert!(!venue_orders.is_empty());
    wait_for("the engine agrees with every venue order", || async {
        for o in &venue_orders {
            let id = o["clientOrderId"].as_str().unwrap_or_default();
            let (status, mine) = engine.get(&format!("/v1/orders/{id}")).await;
            let filled = mine["filled_quantity"].as_str().unwrap_or("");
            if status != 200
                || mine["status"] != o["status"]
                || !support::dec_eq(filled, o["executedQty"].as_str().unwrap_or(""))
            {
                return Err(format!(
                    "round {round}: {id}: engine {status} {mine} / venue {o}"
                ));
            }
        }
        Ok(())
    })
    .await;
    // Every order the engine holds for this test's signals exists at the venue (an UNKNOWN
    // intent that never left is allowed to stay UNKNOWN, never to be doubled).
    let (_, mine) = engine.get("/v1/orders?status=all").await;
    for o in mine.as_array().unwrap() {
        let id = o["client_order_id"].as_str().unwrap();
        let at_venue = venue_orders.iter().any(|v| v["clientOrderId"] == id);
        assert!(
            at_venue || o["status"] == "UNKNOWN" || o["status"] == "REJECTED",
            "round {round}: engine order {id} is {} but the venue has no such order",
            o["status"]
        );
    }
    let btc = sim.balance("BTC").await;
    wait_for("the position equals the venue's balance", || async {
        let (_, p) = engine.get("/v1/positions/BTCUSDT").await;
        let held = p["quantity"].as_str().unwrap_or("0").to_string();
        if support::dec_eq(&held, &btc) {
            Ok(())
        } else {
            Err(format!("round {round}: position {held}, venue BTC {btc}"))
        }
    })
    .await;
}
