//! Rate limits (429, 418, Retry-After) and injected faults: unknown outcomes after accept,
//! held answers, latency.

use crate::support::*;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[actix_rt::test]
async fn forced_429_then_418_for_requests_that_keep_coming() {
    let t = TestServer::start().await;
    t.admin(
        "/sim/limits",
        json!({"strikes_before_ban": 2, "ban_secs": 60, "forced_retry_after_secs": 30}),
    )
    .await;
    t.admin("/sim/faults/rate-limit", json!({"count": 1})).await;
    let r = t.get("/api/v3/ping").await;
    assert_eq!((r.status, r.code()), (429, -1003));
    assert_eq!(r.header("retry-after"), Some("30"));
    assert!(r.header("x-mbx-used-weight-1m").is_some());
    // Still backing off: refused again, then banned.
    assert_eq!(t.get("/api/v3/time").await.status, 429);
    let ban = t.get("/api/v3/time").await;
    assert_eq!((ban.status, ban.code()), (418, -1003));
    assert_eq!(ban.header("retry-after"), Some("60"));
    assert!(
        ban.body["msg"]
            .as_str()
            .unwrap()
            .starts_with("Way too much request weight used; IP banned until")
    );
    assert_eq!(t.get("/api/v3/ping").await.status, 418);
    // Resetting the limits lifts the ban (tests only).
    t.admin("/sim/limits", json!({})).await;
    assert_eq!(t.get("/api/v3/ping").await.status, 200);
    t.stop().await;
}

#[actix_rt::test]
async fn request_weight_and_order_count_limits_answer_429() {
    let t = TestServer::start().await;
    t.admin(
        "/sim/limits",
        json!({"weight_per_minute": 3, "strikes_before_ban": 100}),
    )
    .await;
    // Within two windows' worth of requests the limit must bite (a minute boundary may pass once).
    let mut refused = None;
    for _ in 0..7 {
        let r = t.get("/api/v3/ping").await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert!(
            r.header("x-mbx-used-weight-1m")
                .unwrap()
                .parse::<u32>()
                .unwrap()
                <= 3
        );
    }
    let r = refused.expect("weight limit never answered 429");
    assert!(
        r.body["msg"]
            .as_str()
            .unwrap()
            .contains("current limit is 3 request weight per 1 MINUTE")
    );
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() <= 60);

    t.admin(
        "/sim/limits",
        json!({"weight_per_minute": 6000, "orders_per_10s": 1}),
    )
    .await;
    let mut refused = None;
    for i in 0..3 {
        let r = t.market_buy("0.001", &format!("o{i}")).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let r = refused.expect("order limit never answered 429");
    assert_eq!(r.code(), -1015);
    assert!(r.header("retry-after").is_some());
    t.stop().await;
}

#[actix_rt::test]
async fn server_error_after_accept_leaves_the_order_on_the_venue() {
    let t = TestServer::start().await;
    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "server_error", "count": 1}),
    )
    .await;
    let r = t.market_buy("0.01", "unknown-1").await;
    assert_eq!((r.status, r.code()), (503, -1006));
    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "unknown-1")],
        )
        .await;
    assert_eq!((q.status, q.body["status"].as_str()), (200, Some("FILLED")));

    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "timeout", "status": 408}),
    )
    .await;
    let r = t.limit("BUY", "0.01", "50000.00", "unknown-2").await;
    assert_eq!((r.status, r.code()), (408, -1007));
    let state = t.state().await;
    assert_eq!(state["orders_accepted"], 2);
    // The same venue the engine would use in-process holds them.
    assert_eq!(t.sim.order_count(), 2);
    assert_eq!(state["distinct_client_order_ids"], 2);
    assert_eq!(state["open_orders"][0]["clientOrderId"], "unknown-2");
    // The next order is answered normally.
    assert_eq!(t.market_buy("0.01", "fine").await.status, 200);
    t.stop().await;
}

#[actix_rt::test]
async fn a_held_answer_times_out_the_client_and_latency_delays_answers() {
    let t = TestServer::start().await;
    t.admin(
        "/sim/faults/after-accept",
        json!({"kind": "hold", "hold_ms": 3000}),
    )
    .await;
    let ts = now_ms().to_string();
    let q = redline::exchange::binance::signing::encode_params([
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.01"),
        ("newClientOrderId", "held"),
        ("timestamp", ts.as_str()),
    ]);
    let url = format!("{}/api/v3/order?{q}&signature={}", t.base, t.creds.sign(&q));
    let sent = t
        .http
        .post(url)
        .header("X-MBX-APIKEY", KEY)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(sent.is_err_and(|e| e.is_timeout()));
    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "held")],
        )
        .await;
    assert_eq!(q.body["status"], "FILLED");

    t.admin("/sim/faults/latency", json!({"ms": 200})).await;
    let start = Instant::now();
    assert_eq!(t.get("/api/v3/ping").await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(200));
    t.admin("/sim/faults/clear", json!({})).await;
    t.stop().await;
}
