//! Pacing: limits sized from exchangeInfo, corrected by the venue's headers, and the ban
//! after a 429/418 (times are passed in, so nothing sleeps but the burst test's few ms).
use crate::exchange::ExchangeError;
use crate::exchange::binance::limits::*;
use crate::exchange::binance::models::RateLimit;
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::{Duration, Instant};

fn rule(kind: &str, interval: &str, n: u32, limit: u32) -> RateLimit {
    RateLimit {
        rate_limit_type: kind.into(),
        interval: interval.into(),
        interval_num: n,
        limit,
    }
}

fn binance() -> Limits {
    Limits::from_rules(&[
        rule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
        rule("ORDERS", "SECOND", 10, 50),
        rule("ORDERS", "DAY", 1, 160_000),
        rule("CONNECTIONS", "MINUTE", 5, 300),
    ])
}

const READ: Charge = Charge {
    weight: 4,
    orders: 0,
};
const ORDER: Charge = Charge {
    weight: 1,
    orders: 1,
};

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn rules_are_sized_from_exchange_info_and_connections_skipped() {
    let l = binance();
    let now = Instant::now();
    l.observe(
        &headers(&[
            ("x-mbx-used-weight-1m", "1"),
            ("x-mbx-order-count-10s", "2"),
            ("x-mbx-order-count-1d", "3"),
        ]),
        now,
        0,
    );
    let snap = l.snapshot();
    assert_eq!(snap.weight_limit, Some(6000));
    let names: Vec<(&str, u64, u32)> = snap
        .counters
        .iter()
        .map(|(h, u, l)| (h.as_str(), *u, *l))
        .collect();
    assert_eq!(
        names,
        [
            ("x-mbx-used-weight-1m", 1, 6000),
            ("x-mbx-order-count-10s", 2, 50),
            ("x-mbx-order-count-1d", 3, 160_000)
        ]
    );
    // The cap is 90 %: 5400 of 6000 weight, 45 of 50 orders per 10 s.
    l.observe(
        &headers(&[
            ("x-mbx-used-weight-1m", "5396"),
            ("x-mbx-order-count-10s", "44"),
        ]),
        now,
        0,
    );
    assert_eq!(l.decide(READ, now), Decision::Go);
    assert_eq!(l.decide(ORDER, now), Decision::Go);
    l.observe(
        &headers(&[
            ("x-mbx-used-weight-1m", "5397"),
            ("x-mbx-order-count-10s", "45"),
        ]),
        now,
        0,
    );
    assert_eq!(l.decide(READ, now), Decision::Wait(Duration::from_secs(60)));
    assert_eq!(
        l.decide(ORDER, now),
        Decision::Wait(Duration::from_secs(10))
    );
}

#[test]
fn the_venues_weight_count_holds_requests_until_its_window_ends() {
    let l = binance();
    let now = Instant::now();
    assert_eq!(l.decide(READ, now), Decision::Go);
    // 45 s into the venue's minute, 5398 used: a weight-4 request would pass the 90 % cap.
    l.observe(&headers(&[("x-mbx-used-weight-1m", "5398")]), now, 45_000);
    assert_eq!(l.decide(READ, now), Decision::Wait(Duration::from_secs(15)));
    // A new order costs weight 1 and fits.
    assert_eq!(l.decide(ORDER, now), Decision::Go);
    assert_eq!(l.decide(READ, now + Duration::from_secs(15)), Decision::Go);
    let snap = l.snapshot();
    assert_eq!(
        (snap.used_weight, snap.weight_limit),
        (Some(5398), Some(6000))
    );
}

#[test]
fn order_counts_hold_orders_only_and_a_full_day_refuses() {
    let l = binance();
    let now = Instant::now();
    l.observe(&headers(&[("x-mbx-order-count-10s", "45")]), now, 3_000);
    assert_eq!(l.decide(ORDER, now), Decision::Wait(Duration::from_secs(7)));
    assert_eq!(l.decide(READ, now), Decision::Go);
    let l = binance();
    l.observe(
        &headers(&[("x-mbx-order-count-1d", "144000")]),
        now,
        86_400_000 - 5_000,
    );
    assert_eq!(
        l.decide(ORDER, now),
        Decision::Refuse(Duration::from_secs(5))
    );
}

#[test]
fn a_ban_refuses_every_request_until_retry_after() {
    let l = binance();
    let now = Instant::now();
    assert_eq!(
        l.ban(418, Some(Duration::from_secs(300)), now),
        Duration::from_secs(300)
    );
    for charge in [READ, ORDER] {
        assert_eq!(
            l.decide(charge, now + Duration::from_secs(100)),
            Decision::Refuse(Duration::from_secs(200))
        );
    }
    assert_eq!(l.decide(READ, now + Duration::from_secs(300)), Decision::Go);
    assert!(l.snapshot().banned_until.is_some());
    assert_eq!(
        l.ban_left(now + Duration::from_secs(100)),
        Some(Duration::from_secs(200))
    );
    assert_eq!(l.ban_left(now + Duration::from_secs(300)), None);
    // A shorter later ban does not shorten the first.
    l.ban(429, Some(Duration::from_secs(1)), now);
    assert_eq!(
        l.decide(READ, now + Duration::from_secs(10)),
        Decision::Refuse(Duration::from_secs(290))
    );
    // Without Retry-After, a 418 bans for Binance's shortest ban.
    let l = binance();
    assert_eq!(l.ban(418, None, now), Duration::from_secs(120));
}

#[tokio::test]
async fn acquire_fails_fast_while_banned_and_passes_otherwise() {
    let l = binance();
    assert!(l.acquire(READ).await.is_ok());
    l.ban(429, Some(Duration::from_secs(30)), Instant::now());
    match l.acquire(ORDER).await {
        Err(ExchangeError::RateLimited {
            retry_after: Some(d),
        }) => {
            assert!(d <= Duration::from_secs(30) && d > Duration::from_secs(29))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_limiter_lets_a_burst_through_then_paces() {
    let l = Limits::from_rules(&[rule("ORDERS", "SECOND", 1, 100)]);
    let start = Instant::now();
    for _ in 0..10 {
        l.acquire(ORDER).await.unwrap();
    }
    assert!(start.elapsed() < Duration::from_millis(5));
    l.acquire(ORDER).await.unwrap();
    l.acquire(ORDER).await.unwrap();
    // The refill is 80 per second: 12.5 ms per order once the burst of 10 is spent.
    assert!(start.elapsed() >= Duration::from_millis(12));
}
