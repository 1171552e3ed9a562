//! What the venue did while the engine could not hear it: a fill while the user-data socket
//! was down, and new orders answered with a 5xx after the venue accepted them.

use serde_json::json;

use crate::support::{Live, d, dec, requests};

#[actix_rt::test]
async fn a_fill_while_the_user_data_socket_is_down_is_found_after_the_reconnect_once() {
    let t = Live::start().await;
    // 0.5 BTC per level from 60000 up: a limit buy of 0.7 at 60000 takes 0.5 and rests 0.2.
    let (status, body) = t
        .signal(
            json!({"id": "b", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "0.7", "price": "60000"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    assert_eq!(body["order"]["status"], "PARTIALLY_FILLED", "{body}");
    t.wait_fills("BTCUSDT", 1).await;
    let subscriptions = requests(&t.venue_state().await, "user_data_subscriptions");

    // The socket drops; the rest of the order fills before the adapter is back. The server
    // also loses that fill's two events (TRADE and the account update), so they cannot slip
    // out on the old socket before it closes: only the reconciliation can find the fill.
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "drop", "count": 2}),
    )
    .await;
    t.admin("/sim/ws/drop", json!({"user_data": true, "market": false}))
        .await;
    t.set_price("BTCUSDT", "59999").await;
    assert!(
        t.venue_state().await["open_orders"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the venue filled the order"
    );

    // Reconnected → the router re-queries its open orders → the query carries myTrades.
    t.wait_for("a new user-data subscription", || async {
        requests(&t.venue_state().await, "user_data_subscriptions") > subscriptions
    })
    .await;
    t.wait_status(&id, "FILLED").await;
    t.wait_fills("BTCUSDT", 2).await;
    let order = t.order(&id).await;
    assert_eq!(dec(&order["filled_quantity"]), d("0.7"));
    // The query returned both trades; only the missed one was applied: 0.7 less 0.0007 fees.
    let position = t.position("BTCUSDT").await;
    assert_eq!(dec(&position["quantity"]), d("0.6993"));
    assert_eq!(position["fill_count"], 2);
    t.assert_books_agree("BTCUSDT", "BTC").await;
    let stats = t.get("/v1/status").await.1;
    assert_eq!(stats["orders"]["fills_applied"], 2, "{stats}");
    t.stop().await;
}

#[actix_rt::test]
async fn a_5xx_after_the_venue_accepted_leaves_one_order_resolved_by_query() {
    let t = Live::start().await;

    // A market buy the venue fills, answered 503 -1006. Its three user-data events (NEW,
    // TRADE, account) are lost as well, so the engine cannot learn the outcome from the
    // stream before the error answer arrives: it must say "unknown" and find out by query.
    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "server_error", "count": 1}),
    )
    .await;
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "drop", "count": 3}),
    )
    .await;
    let (status, body) = t
        .signal(json!({"id": "m", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "unknown");
    assert_eq!(body["reason"], "outcome_unknown");
    assert_eq!(body["order"]["status"], "UNKNOWN");
    let market = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_status(&market, "FILLED").await;
    t.wait_fills("BTCUSDT", 1).await;
    assert_eq!(dec(&t.position("BTCUSDT").await["quantity"]), d("0.00999"));

    // A resting limit buy, answered 503 the same way (events: NEW and account).
    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "server_error", "count": 1}),
    )
    .await;
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "drop", "count": 2}),
    )
    .await;
    let (status, body) = t
        .signal(
            json!({"id": "l", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "0.02", "price": "59000"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "unknown");
    let limit = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_status(&limit, "NEW").await;

    // Neither was sent twice, neither was lost.
    let state = t.venue_state().await;
    assert_eq!(state["orders_accepted"], 2, "{state}");
    assert_eq!(state["orders_accepted_via_server"], 2);
    assert_eq!(state["distinct_client_order_ids"], 2);
    let open = state["open_orders"].as_array().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["clientOrderId"], limit.as_str());

    // The resolved order is tracked like any other: its fill arrives on the stream.
    t.set_price("BTCUSDT", "58999").await;
    t.wait_status(&limit, "FILLED").await;
    t.wait_fills("BTCUSDT", 2).await;
    // 0.03 BTC less 0.00003 in fees.
    assert_eq!(dec(&t.position("BTCUSDT").await["quantity"]), d("0.02997"));
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.stop().await;
}

#[actix_rt::test]
async fn an_order_whose_answer_times_out_is_unknown_then_resolved_by_query() {
    // The adapter gives up on an answer after 500 ms; the venue accepts the order and holds
    // the answer for 2 s. The order's events are lost too, as in the test above.
    let t = Live::start_with(|_| {}, |c| c.exchange.request_timeout_ms = 500).await;
    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "hold", "hold_ms": 2000}),
    )
    .await;
    t.admin(
        "/sim/faults/user-events",
        json!({"action": "drop", "count": 3}),
    )
    .await;
    let (status, body) = t
        .signal(json!({"id": "slow", "symbol": "ETHUSDT", "action": "buy", "quantity": "0.5"}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["order"]["status"], "UNKNOWN");
    let id = body["client_order_id"].as_str().unwrap().to_string();
    t.wait_status(&id, "FILLED").await;
    t.wait_fills("ETHUSDT", 1).await;
    // 0.5 ETH less its 0.0005 fee; one order at the venue, sent once.
    assert_eq!(dec(&t.position("ETHUSDT").await["quantity"]), d("0.4995"));
    let state = t.venue_state().await;
    assert_eq!(state["orders_accepted"], 1, "{state}");
    assert_eq!(state["distinct_client_order_ids"], 1);
    t.assert_books_agree("ETHUSDT", "ETH").await;
    t.stop().await;
}

#[actix_rt::test]
async fn an_order_placed_directly_on_the_venue_is_adopted_and_its_fill_counted() {
    let t = Live::start().await;
    // Another program on the same account places a resting limit buy.
    let placed = t
        .place_directly(&[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01"),
            ("price", "59000"),
            ("newClientOrderId", "by-hand-1"),
        ])
        .await;
    assert_eq!(placed["status"], "NEW", "{placed}");
    // Reconciliation (here on demand) finds it at the venue and adopts it; its pushed report
    // may already have done so.
    let (status, report) = t.post_json("/v1/reconcile", json!({})).await;
    assert_eq!(status, 200, "{report}");
    t.wait_status("by-hand-1", "NEW").await;
    let adopted = t.order("by-hand-1").await;
    assert_eq!(adopted["strategy"], "external", "{adopted}");
    assert_eq!(adopted["side"], "buy");
    assert_eq!(dec(&adopted["quantity"]), d("0.01"));
    // It fills; the fill counts in the engine's position, which equals the venue's balance.
    t.set_price("BTCUSDT", "58990").await;
    t.wait_status("by-hand-1", "FILLED").await;
    t.wait_fills("BTCUSDT", 1).await;
    assert_eq!(dec(&t.position("BTCUSDT").await["quantity"]), d("0.00999"));
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.stop().await;
}
