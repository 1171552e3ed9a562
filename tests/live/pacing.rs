//! Request pacing: the adapter's limiters, sized from the venue's exchangeInfo, keep a burst
//! under the venue's limit; and a 418 ban stops every request until its Retry-After.

use futures_util::future::join_all;
use serde_json::json;
use std::time::{Duration, Instant};

use crate::support::{Live, requests};

/// The simulator's ORDERS per 1 SECOND limit for the burst test.
const ORDERS_PER_SECOND: u32 = 5;

#[actix_rt::test]
async fn a_burst_of_signals_is_held_back_under_the_venue_limit_and_never_gets_a_429() {
    // Set before the engine connects: exchangeInfo publishes ORDERS 5 per 1 SECOND, and the
    // server enforces it with 429 -1015.
    let t = Live::start_with(|s| s.limits.orders_per_second = ORDERS_PER_SECOND, |_| {}).await;
    let n = 3 * ORDERS_PER_SECOND as usize;
    let started = Instant::now();
    let answers = join_all((0..n).map(|i| {
        t.signal(
            json!({"id": format!("burst-{i}"), "symbol": "BTCUSDT", "action": "buy",
                        "quantity": "0.001"}),
        )
    }))
    .await;
    let elapsed = started.elapsed();
    for (status, body) in &answers {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["order"]["status"], "FILLED", "{body}");
    }
    let state = t.venue_state().await;
    assert_eq!(state["orders_accepted"], n, "{state}");
    assert_eq!(requests(&state, "answered_429"), 0, "{state}");
    assert_eq!(requests(&state, "answered_418"), 0, "{state}");
    // The adapter lets through at most 80 % of the limit per second after a burst of one
    // (one every 250 ms): 15 orders take at least 14 × 250 ms.
    assert!(
        elapsed >= Duration::from_millis(3_000),
        "15 orders in {elapsed:?}: the limiter did not hold them back"
    );
    t.wait_fills("BTCUSDT", n as u64).await;
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.stop().await;
}

#[actix_rt::test]
async fn a_418_stops_every_request_until_retry_after() {
    // Two refused signals in a row are two venue failures; the breaker's default threshold
    // (3) could then open on one unrelated failure, which is not what this test is about.
    let t = Live::start_with(|_| {}, |c| c.breaker.failure_threshold = 10).await;
    let buy =
        |id: &str| json!({"id": id, "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"});
    let (status, body) = t.signal(buy("before")).await;
    assert_eq!(status, 201, "{body}");

    // The venue bans the IP for 2 s: the next request it sees gets 418 with Retry-After: 2.
    t.admin("/sim/faults/ban", json!({"secs": 2})).await;
    let (status, body) = t.signal(buy("banned")).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["status"], "failed");
    let state = t.venue_state().await;
    assert_eq!(requests(&state, "answered_418"), 1, "{state}");
    let seen = requests(&state, "rest");
    let status_page = t.get("/v1/status").await.1;
    assert!(
        status_page["exchange"]["limits"]["banned_until"].is_string(),
        "{status_page}"
    );

    // Now the adapter refuses on its own, at once, and the venue sees nothing.
    let started = Instant::now();
    let (status, body) = t.signal(buy("held")).await;
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["reason"], "exchange_unavailable");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("rate limited by the exchange; nothing is sent for the next"),
        "{detail}"
    );
    let state = t.venue_state().await;
    assert_eq!(requests(&state, "rest"), seen, "the venue saw a request");
    assert_eq!(state["orders_accepted"], 1);

    // After Retry-After, orders go through again (the same signal id may be retried).
    t.wait_for("the ban to end", || async {
        t.get("/v1/status").await.1["exchange"]["limits"]["banned_until"].is_null()
    })
    .await;
    let (status, body) = t.signal(buy("held")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    assert_eq!(t.venue_state().await["orders_accepted"], 2);
    t.wait_fills("BTCUSDT", 2).await;
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.stop().await;
}

#[actix_rt::test]
async fn a_418_on_the_websocket_api_stops_rest_requests_too() {
    let t = Live::start_with(|_| {}, |c| c.breaker.failure_threshold = 10).await;
    let before = t.venue_state().await;
    let subscriptions = requests(&before, "user_data_subscriptions");

    // Banned while the user-data socket is down: the adapter's resubscribe gets 418 with
    // data.retryAfter, which must stop its REST requests as well (one IP, one ban).
    t.admin("/sim/faults/ban", json!({"secs": 2})).await;
    t.admin("/sim/ws/drop", json!({"user_data": true, "market": false}))
        .await;
    // The adapter learns of the ban from the refused subscribe, and /v1/status says the
    // stream is down and why.
    t.wait_for("the refused subscribe to ban the adapter", || async {
        let exchange = t.get("/v1/status").await.1["exchange"].clone();
        let why = exchange["user_data"]["last_error"].as_str().unwrap_or("");
        exchange["limits"]["banned_until"].is_string()
            && exchange["user_data"]["subscribed"] == false
            && why.contains("subscribe refused: HTTP 418")
    })
    .await;
    let seen = requests(&t.venue_state().await, "rest");
    let (status, body) = t
        .signal(json!({"id": "ws-ban", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 502, "{body}");
    let state = t.venue_state().await;
    assert_eq!(requests(&state, "rest"), seen, "a REST request went out");
    assert_eq!(requests(&state, "answered_418"), 0, "{state}");

    // After the ban: subscribed again, and orders go through.
    t.wait_for("a new user-data subscription", || async {
        requests(&t.venue_state().await, "user_data_subscriptions") > subscriptions
    })
    .await;
    t.wait_for("/v1/status to show the stream subscribed", || async {
        t.get("/v1/status").await.1["exchange"]["user_data"]["subscribed"] == true
    })
    .await;
    let (status, body) = t
        .signal(json!({"id": "ws-ban", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 201, "{body}");
    t.stop().await;
}
