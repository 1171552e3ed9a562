//! The ways an order could be doubled, lost or left unchecked, each pinned down. Races are
//! made real by queueing both messages on the router before either is handled.

use redline::actors::messages::SubmitOutcome;
use redline::actors::order_router::{SubmitOrder, SubmitSignal};
use redline::domain::{ClientOrderId, OrderType, Qty, Side, SignalInput, Symbol, TimeInForce};
use redline::exchange::sim::SimFault;
use serde_json::json;

use crate::support::TestEngine;

fn manual(id: &str) -> SubmitOrder {
    SubmitOrder {
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Buy,
        order_type: OrderType::Market,
        quantity: Qty("0.001".parse().unwrap()),
        price: None,
        time_in_force: TimeInForce::Gtc,
        client_order_id: Some(ClientOrderId::new(id).unwrap()),
        allow_duplicate: false,
        stop_price: None,
        trailing_delta: None,
    }
}

fn signal(json: serde_json::Value) -> SubmitSignal {
    SubmitSignal(
        SignalInput::from_json(json.to_string().as_bytes())
            .unwrap()
            .validate()
            .unwrap(),
    )
}

#[actix_rt::test]
async fn two_manual_orders_racing_with_one_client_order_id_make_one_order() {
    let t = TestEngine::start(&[]).await;
    let (a, b) = futures_util::join!(
        t.engine.router.send(manual("same-id")),
        t.engine.router.send(manual("same-id"))
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let sent = outcomes
        .iter()
        .filter(|o| matches!(o, SubmitOutcome::Submitted(_)))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, SubmitOutcome::Invalid(e) if e.field == "client_order_id"))
        .count();
    assert_eq!((sent, refused), (1, 1), "{outcomes:?}");
    assert_eq!(t.sim.order_count(), 1);
    t.stop().await;
}

#[actix_rt::test]
async fn manual_orders_cannot_take_a_signal_order_id() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001","client_order_id":"rl-abc"}"#,
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("client_order_id")),
        "{body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn two_closes_racing_sell_the_position_once() {
    let t = TestEngine::start(&[]).await;
    let (status, _) = t
        .signal(json!({"id": "open", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201);
    t.wait_for("bought", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    let (a, b) = futures_util::join!(
        t.engine.router.send(signal(
            json!({"id": "close-a", "symbol": "BTCUSDT", "action": "close"})
        )),
        t.engine.router.send(signal(
            json!({"id": "close-b", "symbol": "BTCUSDT", "action": "close"})
        )),
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let sent = outcomes
        .iter()
        .filter(|o| matches!(o, SubmitOutcome::Submitted(_)))
        .count();
    let busy = outcomes
        .iter()
        .filter(|o| o.reason().is_some_and(|(r, _)| r == "close_in_progress"))
        .count();
    assert_eq!((sent, busy), (1, 1), "{outcomes:?}");
    assert_eq!(t.sim.order_count(), 2, "one buy, one close");
    t.stop().await;
}

#[actix_rt::test]
async fn a_signal_refused_while_the_breaker_is_open_can_be_retried_with_its_id() {
    let t = TestEngine::start(&[]).await;
    t.sim.inject(SimFault::FailSubmits(3));
    for i in 0..3 {
        let (status, _) = t.signal(json!({"id": format!("f{i}"), "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"})).await;
        assert_eq!(status, 502);
    }
    let retry = json!({"id": "later", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"});
    assert_eq!(t.signal(retry.clone()).await.0, 503);
    t.advance(31);
    let (status, body) = t.signal(retry).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("submitted")),
        "{body}"
    );
    // And a signal that failed to reach the venue can be retried too: same id, same order id.
    let (status, body) = t
        .signal(json!({"id": "f0", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (201, Some("submitted")),
        "{body}"
    );
    assert_eq!(t.sim.order_count(), 2);
    t.stop().await;
}

#[actix_rt::test]
async fn a_half_open_trial_refused_by_risk_frees_the_trial_slot() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_ORDER_QTY__BTCUSDT", "0.05")]).await;
    t.sim.inject(SimFault::FailSubmits(3));
    for i in 0..3 {
        t.signal(json!({"id": format!("f{i}"), "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"})).await;
    }
    t.advance(31);
    let (status, body) = t
        .signal(json!({"id": "too-big", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.06"}))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("max_order_qty")),
        "{body}"
    );
    let (status, body) = t
        .signal(json!({"id": "fine", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(
        status, 201,
        "the refused trial must not hold the slot: {body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn an_absurd_price_is_refused_and_the_router_survives() {
    let t = TestEngine::start(&[]).await;
    // Sizing 5 USDT at this price would overflow Decimal; the price filter refuses it first.
    let (status, body) = t
        .signal(json!({"id": "tiny", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "price": "0.000000000000000000000001"}))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("price")),
        "{body}"
    );
    let (status, _) = t
        .signal(json!({"id": "next", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 201, "the router is still alive");
    t.stop().await;
}
