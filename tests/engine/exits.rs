//! Protective exits of bracketed signals (stop-loss / take-profit as an OCO sized to what the
//! entry filled), and modifying a resting limit order (`PATCH /v1/orders/{id}`). BTCUSDT starts
//! at 60000, 0.5 BTC on each synthetic level, 100000 USDT, fees 0.1% (in BTC on a buy).

use redline::events::EngineEvent;
use redline::exchange::Exchange;
use serde_json::{Value, json};

use crate::support::{TestEngine, assert_dec, s};

/// The id of an entry's `n`th exit: `rlx-` + 20 hex digits of the entry id + `-n`.
fn exit_id(entry: &str, n: u32) -> String {
    format!("rlx-{}-{n}", &entry[3..23])
}

async fn list(t: &TestEngine, id: &str) -> Value {
    t.get(&format!("/v1/order-lists/{id}")).await.1
}

async fn sim_open_ids(t: &TestEngine) -> Vec<String> {
    let mut ids: Vec<String> = t
        .sim
        .open_orders()
        .await
        .expect("sim open orders")
        .into_iter()
        .map(|r| r.client_order_id.to_string())
        .collect();
    ids.sort();
    ids
}

/// Waits until the list `id` is EXECUTING with both legs NEW at the venue.
async fn wait_resting(t: &TestEngine, id: &str) -> Value {
    let id = id.to_string();
    t.wait_for(&format!("exit {id} resting"), |t| {
        let id = id.clone();
        async move {
            let l = list(t, &id).await;
            l["list_order_status"] == "EXECUTING"
                && l["orders"]
                    .as_array()
                    .is_some_and(|o| o.len() == 2 && o.iter().all(|leg| leg["status"] == "NEW"))
        }
    })
    .await;
    list(t, &id).await
}

#[actix_rt::test]
async fn a_filled_bracketed_buy_rests_an_oco_exit_which_takes_profit() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(
            json!({"id": "br1", "strategy": "brk", "symbol": "BTCUSDT", "action": "buy",
            "quantity": "0.1", "stop_loss_pct": "1.5", "take_profit_pct": "2.5"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    let entry = s(&body, "client_order_id").to_string();
    let exit = exit_id(&entry, 1);
    let oco = wait_resting(&t, &exit).await;
    // Below: STOP_LOSS at 60000 × 0.985; above: LIMIT_MAKER at 60000 × 1.025. Quantity:
    // 0.1 less the 0.0001 BTC fee = 0.0999 (on the 0.00001 step).
    let (stop, take) = (&oco["orders"][0], &oco["orders"][1]);
    assert_eq!(
        (stop["order_type"].as_str(), stop["side"].as_str()),
        (Some("stop_loss"), Some("sell"))
    );
    assert_eq!(take["order_type"], "limit_maker");
    assert_dec(s(stop, "stop_price"), "59100", "stop");
    assert_dec(s(take, "price"), "61500", "take profit");
    for leg in [stop, take] {
        assert_dec(
            s(leg, "quantity"),
            "0.0999",
            "exit quantity net of the base fee",
        );
        assert_eq!(leg["strategy"], "brk");
    }
    assert_eq!(
        sim_open_ids(&t).await,
        vec![format!("{exit}s"), format!("{exit}t")]
    );

    t.set_price("BTCUSDT", "61500").await;
    t.wait_for("exit done", |t| {
        let exit = exit.clone();
        async move { list(t, &exit).await["list_order_status"] == "ALL_DONE" }
    })
    .await;
    let oco = list(&t, &exit).await;
    assert_eq!(oco["orders"][0]["status"], "EXPIRED", "{oco}");
    assert_eq!(oco["orders"][1]["status"], "FILLED", "{oco}");
    t.wait_for("flat", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 2
    })
    .await;
    assert_dec(s(&t.position("BTCUSDT").await, "quantity"), "0", "flat");
    assert!(sim_open_ids(&t).await.is_empty());
}

#[actix_rt::test]
async fn a_partly_filled_entry_is_covered_then_the_exit_is_replaced_for_the_whole_fill() {
    let t = TestEngine::start(&[]).await;
    let mut events = t.engine.events.subscribe();
    // 0.8 at 60000: the 0.5 on the first ask level fills now, 0.3 rests.
    let (status, body) = t
        .signal(
            json!({"id": "br2", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
            "price": "60000", "quantity": "0.8", "stop_loss_pct": "2", "take_profit_pct": "3"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "PARTIALLY_FILLED");
    let entry = s(&body, "client_order_id").to_string();
    let first = exit_id(&entry, 1);
    let oco = wait_resting(&t, &first).await;
    assert_dec(
        s(&oco["orders"][0], "quantity"),
        "0.4995",
        "0.5 less its fee",
    );
    assert_dec(s(&oco["orders"][0], "stop_price"), "58800", "stop");
    assert_dec(s(&oco["orders"][1], "price"), "61800", "take profit");

    // The rest of the entry fills (a resting buy crossed fills at its limit, maker fee in BTC).
    t.set_price("BTCUSDT", "59999.99").await;
    let second = exit_id(&entry, 2);
    let oco = wait_resting(&t, &second).await;
    assert_dec(
        s(&oco["orders"][0], "quantity"),
        "0.7992",
        "0.4995 + 0.2997",
    );
    assert_dec(s(&oco["orders"][0], "stop_price"), "58800", "stop");
    assert_dec(s(&oco["orders"][1], "price"), "61800", "take profit");
    let old = list(&t, &first).await;
    assert_eq!(old["list_order_status"], "ALL_DONE", "{old}");
    assert_eq!(old["orders"][0]["status"], "CANCELED");
    assert_eq!(old["orders"][1]["status"], "CANCELED");
    assert_eq!(
        sim_open_ids(&t).await,
        vec![format!("{second}s"), format!("{second}t")]
    );
    // Placement, the cancel for replacement and the replacement are published.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        match &*event {
            EngineEvent::ExitPlaced {
                exit,
                quantity,
                replaced,
                ..
            } => seen.push(format!("placed {exit} {quantity} {replaced:?}")),
            EngineEvent::ExitCanceled { exit, why, .. } => {
                seen.push(format!("canceled {exit} {why}"))
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        vec![
            format!("placed {first} 0.4995 None"),
            format!("canceled {first} replace"),
            format!("placed {second} 0.7992 Some(\"{first}\")"),
        ]
    );
}

#[actix_rt::test]
async fn a_close_signal_cancels_the_exit_then_sells() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(
            json!({"id": "br3", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.02",
            "stop_loss": "59000", "take_profit": "61000"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let exit = exit_id(s(&body, "client_order_id"), 1);
    let oco = wait_resting(&t, &exit).await;
    assert_dec(s(&oco["orders"][0], "stop_price"), "59000", "absolute stop");
    assert_dec(
        s(&oco["orders"][1], "price"),
        "61000",
        "absolute take profit",
    );

    let (status, body) = t
        .signal(json!({"id": "br3-close", "symbol": "BTCUSDT", "action": "close"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED", "{body}");
    assert_dec(
        s(&body["order"], "quantity"),
        "0.01998",
        "the whole position",
    );
    let oco = list(&t, &exit).await;
    assert_eq!(oco["orders"][0]["status"], "CANCELED", "{oco}");
    assert_eq!(oco["orders"][1]["status"], "CANCELED", "{oco}");
    assert!(sim_open_ids(&t).await.is_empty());

    // Only a take-profit: one LIMIT_MAKER order, no list.
    let (status, body) = t
        .signal(
            json!({"id": "br5", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01",
            "take_profit_pct": "1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let single = format!("{}t", exit_id(s(&body, "client_order_id"), 1));
    t.wait_for("single exit", |t| {
        let single = single.clone();
        async move { t.order(&single).await["status"] == "NEW" }
    })
    .await;
    let order = t.order(&single).await;
    assert_eq!(order["order_type"], "limit_maker");
    assert_dec(s(&order, "price"), "60600", "1% above the fill");
    assert_dec(s(&order, "quantity"), "0.00999", "net of the fee");
    assert_eq!(sim_open_ids(&t).await, vec![single.clone()]);

    // A bracket on the wrong side of the entry is refused by name.
    let (status, body) = t
        .signal(
            json!({"id": "br4", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01",
            "stop_loss": "61000"}),
        )
        .await;
    assert_eq!((status, s(&body, "field")), (400, "stop_loss"), "{body}");
}

#[actix_rt::test]
async fn modifying_a_resting_limit_cancels_it_and_rests_the_replacement() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","order_type":"limit","quantity":"0.01",
                "price":"59000","client_order_id":"mod-1"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = t.patch("/v1/orders/mod-1", r#"{"price":"59500.5"}"#).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["client_order_id"], "mod-1-r1");
    assert_eq!(body["replaces"], "mod-1");
    assert_eq!(body["replaced_order"]["status"], "CANCELED");
    assert_eq!(body["order"]["status"], "NEW");
    assert_dec(s(&body["order"], "price"), "59500.5", "new price");
    assert_dec(s(&body["order"], "quantity"), "0.01", "same quantity");
    assert_eq!(t.order("mod-1").await["status"], "CANCELED");
    assert_eq!(sim_open_ids(&t).await, vec!["mod-1-r1".to_string()]);

    // Off the 0.01 tick: refused by name, nothing changed.
    let (status, body) = t
        .patch("/v1/orders/mod-1-r1", r#"{"price":"59600.001"}"#)
        .await;
    assert_eq!((status, s(&body, "field")), (400, "price"), "{body}");
    assert_eq!(t.order("mod-1-r1").await["status"], "NEW");
    assert_eq!(sim_open_ids(&t).await, vec!["mod-1-r1".to_string()]);

    // A new quantity; the next replacement counts on from -r1.
    let (status, body) = t
        .patch("/v1/orders/mod-1-r1", r#"{"quantity":"0.02"}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["client_order_id"], "mod-1-r2");
    assert_dec(s(&body["order"], "quantity"), "0.02", "new quantity");
    assert_dec(s(&body["order"], "price"), "59500.5", "price kept");
    assert_eq!(sim_open_ids(&t).await, vec!["mod-1-r2".to_string()]);

    // A canceled order, a filled one and an unknown one cannot be modified.
    let (status, body) = t.patch("/v1/orders/mod-1", r#"{"price":"59000"}"#).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["order"]["status"], "CANCELED");
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","quantity":"0.01","client_order_id":"mod-2"}"#,
        )
        .await;
    assert_eq!(
        (status, body["order"]["status"].as_str()),
        (201, Some("FILLED"))
    );
    let (status, body) = t.patch("/v1/orders/mod-2", r#"{"price":"59000"}"#).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    assert_eq!(t.patch("/v1/orders/nope", r#"{"price":"1"}"#).await.0, 404);
    assert_eq!(sim_open_ids(&t).await, vec!["mod-1-r2".to_string()]);
}

#[actix_rt::test]
async fn modifying_a_partly_filled_limit_replaces_only_what_is_left_of_the_new_total() {
    let t = TestEngine::start(&[]).await;
    // 0.8 at 60000: 0.5 fills on arrival, 0.3 rests.
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","order_type":"limit","quantity":"0.8",
                "price":"60000","client_order_id":"mod-3"}"#,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "PARTIALLY_FILLED");
    // A new total the fills already cover is an input error; nothing changes.
    let (status, body) = t.patch("/v1/orders/mod-3", r#"{"quantity":"0.5"}"#).await;
    assert_eq!((status, s(&body, "field")), (400, "quantity"), "{body}");
    assert_eq!(t.order("mod-3").await["status"], "PARTIALLY_FILLED");
    let (status, body) = t
        .patch("/v1/orders/mod-3", r#"{"price":"59000","quantity":"0.6"}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_dec(
        s(&body["order"], "quantity"),
        "0.1",
        "0.6 less the 0.5 filled",
    );
    assert_dec(
        s(&body["replaced_order"], "filled_quantity"),
        "0.5",
        "old fill kept",
    );
    assert_eq!(sim_open_ids(&t).await, vec!["mod-3-r1".to_string()]);
    let (status, body) = t.patch("/v1/orders/mod-3-r1", r#"{"quantity":"0"}"#).await;
    assert_eq!((status, s(&body, "field")), (400, "quantity"), "{body}");
}
