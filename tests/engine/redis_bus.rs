//! Signals over Redis pub/sub produce orders, events go out on the events channel, and an
//! emergency stop on the control channel is the same stop as over HTTP.

use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::emergency::rest;
use crate::support::{TestEngine, test_config};

static CHANNEL_SEQ: AtomicU32 = AtomicU32::new(0);

/// The Redis URL, or `None` (with a loud note) when Redis is not reachable outside CI. Under
/// `CI=true` a missing Redis fails the test.
async fn redis_url_or_skip() -> Option<String> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let reachable = match redis::Client::open(url.as_str()) {
        Ok(c) => c.get_multiplexed_async_connection().await.is_ok(),
        Err(_) => false,
    };
    if reachable {
        return Some(url);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("Redis is required in CI but not reachable at {url}");
    }
    eprintln!("SKIPPED: redis not reachable at {url}");
    None
}

#[actix_rt::test]
async fn a_signal_over_redis_makes_an_order_and_events_go_out() {
    let Some(url) = redis_url_or_skip().await else {
        return;
    };
    let n = CHANNEL_SEQ.fetch_add(1, Ordering::SeqCst);
    let signals = format!("redline-test:{}:{n}:signals", std::process::id());
    let events = format!("redline-test:{}:{n}:events", std::process::id());
    let config = test_config(&[
        ("REDLINE__REDIS__URL", url.as_str()),
        ("REDLINE__REDIS__SIGNAL_CHANNEL", signals.as_str()),
        ("REDLINE__REDIS__EVENT_CHANNEL", events.as_str()),
    ]);
    let t = TestEngine::start_with(config, Default::default()).await;
    let bridge = redline::bus::spawn_for(&t.engine).expect("redis configured");

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut sub = client.get_async_pubsub().await.unwrap();
    sub.subscribe(&events).await.unwrap();
    let mut publisher = client.get_multiplexed_async_connection().await.unwrap();

    // The bridge subscribes asynchronously: publish until someone is listening.
    let signal =
        json!({"id": "redis-1", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"})
            .to_string();
    t.wait_for("bridge subscribed", |_| {
        let (mut conn, signals, signal) = (publisher.clone(), signals.clone(), signal.clone());
        async move {
            let receivers: i64 = redis::cmd("PUBLISH")
                .arg(&signals)
                .arg(&signal)
                .query_async(&mut conn)
                .await
                .unwrap_or(0);
            receivers > 0
        }
    })
    .await;

    let mut seen: Vec<Value> = Vec::new();
    let mut stream = sub.on_message();
    let deadline = tokio::time::Instant::now() + crate::support::WAIT_LIMIT;
    while !(seen
        .iter()
        .any(|e| e["type"] == "signal_decision" && e["status"] == "submitted")
        && seen.iter().any(|e| e["type"] == "fill_applied")
        && seen.iter().any(|e| e["type"] == "position_updated"))
    {
        let msg = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("events within the wait limit")
            .expect("stream open");
        seen.push(serde_json::from_slice(msg.get_payload_bytes()).expect("events are JSON"));
    }
    let (_, orders) = t.get("/v1/orders?status=all").await;
    assert_eq!(orders.as_array().map(Vec::len), Some(1), "{orders}");
    assert_eq!(orders[0]["signal_id"], "redis-1");
    assert_eq!(
        t.sim.order_count(),
        1,
        "one order even though the signal may have been published more than once"
    );
    let _ = redis::cmd("PUBLISH")
        .arg(&signals)
        .arg("not json")
        .query_async::<i64>(&mut publisher)
        .await;
    drop(bridge);
    t.stop().await;
}

#[actix_rt::test]
async fn a_stop_on_the_redis_control_channel_is_the_same_stop() {
    let Some(url) = redis_url_or_skip().await else {
        return;
    };
    let prefix = format!("redline-test:{}:stop", std::process::id());
    let (signals, events, control) = (
        format!("{prefix}:signals"),
        format!("{prefix}:events"),
        format!("{prefix}:control"),
    );
    let config = test_config(&[
        ("REDLINE__REDIS__URL", url.as_str()),
        ("REDLINE__REDIS__SIGNAL_CHANNEL", signals.as_str()),
        ("REDLINE__REDIS__EVENT_CHANNEL", events.as_str()),
        ("REDLINE__REDIS__CONTROL_CHANNEL", control.as_str()),
    ]);
    let t = TestEngine::start_with(config, Default::default()).await;
    let _bridge = redline::bus::spawn_for(&t.engine).expect("redis configured");
    rest(&t, "rd-eth", "ETHUSDT", "2900", "0.1").await;

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut sub = client.get_async_pubsub().await.unwrap();
    sub.subscribe(&events).await.unwrap();
    let publisher = client.get_multiplexed_async_connection().await.unwrap();
    let stop = json!({"command": "emergency_stop", "flatten": true, "reason": "from redis", "by": "carol"}).to_string();
    // The listener subscribes asynchronously: publish until someone is listening.
    t.wait_for("control listener subscribed", |_| {
        let (mut conn, control, stop) = (publisher.clone(), control.clone(), stop.clone());
        async move {
            let receivers: i64 = redis::cmd("PUBLISH")
                .arg(&control)
                .arg(&stop)
                .query_async(&mut conn)
                .await
                .unwrap_or(0);
            receivers > 0
        }
    })
    .await;

    let mut stream = sub.on_message();
    let deadline = tokio::time::Instant::now() + crate::support::WAIT_LIMIT;
    let answer = loop {
        let msg = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("a control answer within the wait limit")
            .expect("stream open");
        let event: Value = serde_json::from_slice(msg.get_payload_bytes()).unwrap();
        if event["type"] == "control_answer" {
            break event;
        }
    };
    assert_eq!(answer["command"], "emergency_stop", "{answer}");
    assert_eq!(answer["answer"]["halted"], true, "{answer}");
    assert_eq!(answer["answer"]["stop"]["by"], "carol");
    assert_eq!(
        answer["answer"]["cancelled"][0]["symbol"], "ETHUSDT",
        "{answer}"
    );
    assert!(t.engine.latch.is_engaged());
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    let (status, _) = t
        .signal(
            json!({"id": "rd-after", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(status, 503);

    let mut conn = publisher.clone();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&control)
        .arg(json!({"command": "resume", "reason": "all clear", "by": "carol"}).to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    t.wait_for("resumed", |t| async move {
        t.get("/v1/risk").await.1["trading_state"] == "active"
    })
    .await;
    assert!(!t.engine.latch.is_engaged());
    t.stop().await;
}
