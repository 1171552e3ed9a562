//! The emergency stop: it cancels every open order on every symbol, flattens positions, is
//! latched (503 for signals; only `POST /v1/resume` lifts it, also after a restart), works
//! while 10,000 signals are queued at the router and while the breaker is open.

use futures_util::StreamExt;
use redline::actors::messages::SubmitOutcome;
use redline::actors::order_router::{GetRouterStats, SubmitSignal};
use redline::domain::SignalInput;
use redline::exchange::sim::SimFault;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::support::{TestEngine, assert_dec, fresh_data_dir, s, test_config};

/// POSTs as operator `who`.
async fn post_as(t: &TestEngine, path: &str, body: Value, who: &str) -> (u16, Value) {
    let resp = t
        .http
        .post(format!("{}{path}", t.base))
        .header("x-redline-operator", who)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn rest(t: &TestEngine, id: &str, symbol: &str, price: &str, qty: &str) {
    let (status, body) = t
        .signal(
            json!({"id": id, "symbol": symbol, "action": "buy", "order_type": "limit",
            "quantity": qty, "price": price, "time_in_force": "GTC"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "NEW", "{body}");
}

async fn buy(t: &TestEngine, id: &str, symbol: &str, qty: &str) {
    let (status, body) = t
        .signal(json!({"id": id, "symbol": symbol, "action": "buy", "quantity": qty}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED", "{body}");
}

fn symbols_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["symbol"].as_str().unwrap().to_string())
        .collect()
}

#[actix_rt::test]
async fn the_stop_cancels_everything_flattens_and_stays_latched_until_resume_even_across_a_restart()
{
    let dir = fresh_data_dir();
    let dir_str = dir.to_string_lossy().into_owned();
    let overrides = [("REDLINE__STORAGE__DATA_DIR", dir_str.as_str())];
    let t = TestEngine::start(&overrides).await;

    // Positions on 2 symbols (fees in base: 0.02 → 0.01998 BTC, 1 → 0.999 ETH).
    buy(&t, "p-btc", "BTCUSDT", "0.02").await;
    buy(&t, "p-eth", "ETHUSDT", "1").await;
    // Resting limit orders on 4 symbols.
    rest(&t, "r-btc", "BTCUSDT", "59000", "0.001").await;
    rest(&t, "r-eth", "ETHUSDT", "2900", "0.1").await;
    rest(&t, "r-sol", "SOLUSDT", "140", "1").await;
    rest(&t, "r-doge", "DOGEUSDT", "0.14", "100").await;
    t.wait_for("both positions applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
            && t.position("ETHUSDT").await["fill_count"] == 1
    })
    .await;
    assert_eq!(t.sim.open_order_views(None).unwrap().len(), 4);

    let (status, stop) = post_as(
        &t,
        "/v1/emergency-stop",
        json!({"flatten": true, "reason": "runaway strategy"}),
        "alice",
    )
    .await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["halted"], true);
    assert_eq!(stop["already_halted"], false);
    assert_eq!(stop["stop"]["by"], "alice");
    assert_eq!(stop["failed"], json!([]), "{stop}");
    assert_eq!(stop["cancelled"].as_array().unwrap().len(), 4, "{stop}");
    assert_eq!(
        symbols_of(&stop["cancelled"]),
        ["BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT"]
            .map(String::from)
            .into(),
    );
    assert!(
        stop["cancelled"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "CANCELED")
    );
    let flattened = stop["flattened"].as_array().unwrap();
    assert_eq!(flattened.len(), 2, "{stop}");
    for f in flattened {
        assert_eq!(f["side"], "sell", "{f}");
        assert_eq!(f["status"], "FILLED", "{f}");
        assert!(s(f, "client_order_id").starts_with("rl-stop-"), "{f}");
    }
    let btc = flattened.iter().find(|f| f["symbol"] == "BTCUSDT").unwrap();
    assert_dec(s(btc, "quantity"), "0.01998", "BTC closed in full");

    // The venue holds nothing open; the router adopted the closing orders and the positions
    // went flat (both holdings are whole lot steps, so exactly zero is left).
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    t.wait_for("positions flat", |t| async move {
        dec_zero(&t.position("BTCUSDT").await) && dec_zero(&t.position("ETHUSDT").await)
    })
    .await;
    let close = t.order(s(btc, "client_order_id")).await;
    assert_eq!(close["strategy"], "emergency", "{close}");
    assert_eq!(close["status"], "FILLED", "{close}");
    t.wait_for("cancels folded into the router", |t| async move {
        t.order(&resting_id("r-sol")).await["status"] == "CANCELED"
    })
    .await;

    // Latched: signals get 503, an ordinary state change cannot lift it.
    let orders_before = t.sim.order_count();
    let (status, body) = t
        .signal(
            json!({"id": "after-stop", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("trading_halted")),
        "{body}"
    );
    let (status, body) = t.post("/v1/risk/state", r#"{"state":"active"}"#).await;
    assert_eq!(status, 409, "{body}");
    let (_, risk) = t.get("/v1/risk").await;
    assert_eq!(risk["trading_state"], "halted");
    assert!(
        s(&risk, "halt_reason").contains("emergency stop: runaway strategy"),
        "{risk}"
    );
    let (status, _) = t
        .signal(
            json!({"id": "after-state", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        t.sim.order_count(),
        orders_before,
        "nothing reached the venue"
    );
    assert!(dir.join(redline::control::LATCH_FILE).exists());
    t.stop().await;

    // Restart on the same data directory: still halted.
    let t = TestEngine::start(&overrides).await;
    let (_, risk) = t.get("/v1/risk").await;
    assert_eq!(risk["trading_state"], "halted", "{risk}");
    let (status, body) = t
        .signal(json!({"id": "after-restart", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("trading_halted")),
        "{body}"
    );
    assert_eq!(t.sim.order_count(), 0);

    // Resume needs a reason, is recorded, and lifts it.
    let (status, _) = post_as(&t, "/v1/resume", json!({}), "bob").await;
    assert_eq!(status, 400);
    let (status, resumed) =
        post_as(&t, "/v1/resume", json!({"reason": "strategy fixed"}), "bob").await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["trading_state"], "active");
    assert_eq!(resumed["lifted"]["by"], "alice");
    assert!(!dir.join(redline::control::LATCH_FILE).exists());
    let (status, body) = t
        .signal(json!({"id": "after-resume", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    t.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn dec_zero(position: &Value) -> bool {
    crate::support::dec_eq(s(position, "quantity"), "0")
}

/// The client order id the router gives a signal's order.
fn resting_id(signal: &str) -> String {
    redline::domain::ClientOrderId::for_signal(&redline::domain::SignalId::new(signal).unwrap())
        .to_string()
}

/// Posts an emergency stop from a thread of its own, so the engine's thread can be held while
/// it lands; answers with the body and how many signals were answered when it came back.
fn stop_from_another_thread(
    base: String,
    done: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<(Value, usize)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            redline::exchange::ensure_tls();
            let resp = reqwest::Client::new()
                .post(format!("{base}/v1/emergency-stop"))
                .json(&json!({"flatten": false, "reason": "backlog test"}))
                .send()
                .await
                .expect("stop request");
            let answered = done.load(Ordering::SeqCst);
            assert_eq!(resp.status().as_u16(), 200);
            (resp.json().await.unwrap(), answered)
        })
    })
}

#[actix_rt::test]
async fn the_stop_lands_while_10000_signals_are_queued_at_the_router() {
    let t = TestEngine::start(&[]).await;
    rest(&t, "q-btc", "BTCUSDT", "59000", "0.001").await;
    rest(&t, "q-eth", "ETHUSDT", "2900", "0.1").await;
    rest(&t, "q-sol", "SOLUSDT", "140", "1").await;
    let orders_before = t.sim.order_count();

    // 10,000 signals sent to the router the way HTTP and Redis send them (`send`, awaiting the
    // outcome). This thread runs the actors and the tasks, and does not yield until the stop
    // has engaged, so all 10,000 are still waiting at the router when it does.
    let done = Arc::new(AtomicUsize::new(0));
    let halted = Arc::new(AtomicUsize::new(0));
    for i in 0..10_000 {
        let body = json!({"id": format!("flood-{i}"), "symbol": "BTCUSDT", "action": "buy",
            "order_type": "limit", "quantity": "0.001", "price": "59000", "time_in_force": "GTC"});
        let signal = SignalInput::from_json(body.to_string().as_bytes())
            .and_then(SignalInput::validate)
            .unwrap();
        let (router, done, halted) = (t.engine.router.clone(), done.clone(), halted.clone());
        actix_rt::spawn(async move {
            let outcome = router.send(SubmitSignal(signal)).await.unwrap();
            if matches!(
                outcome,
                SubmitOutcome::Unavailable {
                    reason: "trading_halted",
                    ..
                }
            ) {
                halted.fetch_add(1, Ordering::SeqCst);
            }
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    // The stop comes in over HTTP, handled on the server's own thread.
    let stopper = stop_from_another_thread(t.base.clone(), done.clone());
    let held = Instant::now();
    while !t.engine.latch.is_engaged() {
        assert!(
            held.elapsed() < crate::support::WAIT_LIMIT,
            "the stop never engaged"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(
        done.load(Ordering::SeqCst),
        0,
        "engaged before any signal was handled"
    );
    let (stop, done_at_answer) = loop {
        if stopper.is_finished() {
            break stopper.join().expect("stop thread");
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(1)).await;
    };
    assert_eq!(stop["failed"], json!([]), "{stop}");
    assert_eq!(stop["cancelled"].as_array().unwrap().len(), 3, "{stop}");
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    // The stop did not queue behind the signals: when it answered, most were still waiting.
    eprintln!("signals answered when the stop answered: {done_at_answer} of 10000");
    assert!(
        done_at_answer < 10_000,
        "the stop answered only after every signal"
    );

    t.wait_for("every queued signal answered", |_| {
        let done = done.clone();
        async move { done.load(Ordering::SeqCst) == 10_000 }
    })
    .await;
    // The latch was engaged before any queued signal was handled, and every order path reads
    // it (the risk gate, the router before handing an order over, the gateway before the
    // venue): all 10,000 were refused with 503 trading_halted and none reached the venue.
    // (Had a signal already been inside the gateway's handler when the latch engaged, that one
    // order could pass; the cancel-all, handled by the same gateway after it, cancels it.)
    assert_eq!(halted.load(Ordering::SeqCst), 10_000);
    let stats = t.engine.router.send(GetRouterStats).await.unwrap();
    assert_eq!((stats.signals_received, stats.orders_sent), (10_003, 3));
    assert_eq!(t.sim.order_count(), orders_before);
    t.stop().await;
}

#[actix_rt::test]
async fn the_stop_works_while_the_breaker_is_open() {
    let t = TestEngine::start(&[]).await;
    buy(&t, "b-sol", "SOLUSDT", "2").await;
    rest(&t, "b-eth", "ETHUSDT", "2900", "0.1").await;
    t.wait_for("position applied", |t| async move {
        t.position("SOLUSDT").await["fill_count"] == 1
    })
    .await;
    t.sim.inject(SimFault::FailSubmits(3));
    for i in 0..3 {
        let (status, _) = t
            .signal(json!({"id": format!("fail-{i}"), "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
            .await;
        assert_eq!(status, 502);
    }
    let (_, st) = t.get("/v1/status").await;
    assert_eq!(st["breaker"]["state"], "open", "{st}");

    let (status, stop) = t
        .post(
            "/v1/emergency-stop",
            r#"{"flatten":true,"reason":"venue trouble"}"#,
        )
        .await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["failed"], json!([]), "{stop}");
    assert_eq!(stop["stop"]["by"], "api");
    assert_eq!(stop["cancelled"][0]["symbol"], "ETHUSDT", "{stop}");
    assert_eq!(stop["flattened"][0]["symbol"], "SOLUSDT", "{stop}");
    assert_eq!(stop["flattened"][0]["status"], "FILLED", "{stop}");
    assert_dec(
        s(&stop["flattened"][0], "quantity"),
        "1.998",
        "SOL held after the fee",
    );
    t.wait_for("SOL flat", |t| async move {
        dec_zero(&t.position("SOLUSDT").await)
    })
    .await;
    let (_, st) = t.get("/v1/status").await;
    assert_eq!(
        st["breaker"]["state"], "open",
        "the stop neither asked nor moved the breaker"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn an_empty_stop_request_still_stops_and_a_second_keeps_the_first_record() {
    let t = TestEngine::start_with(test_config(&[]), Default::default()).await;
    let (status, stop) = t.post("/v1/emergency-stop", "").await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["stop"]["reason"], "no reason given");
    assert_eq!(stop["flattened"], json!([]));
    let (status, again) = t
        .post("/v1/emergency-stop", r#"{"reason":"pressed twice"}"#)
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["already_halted"], true);
    assert_eq!(again["stop"]["reason"], "no reason given");
    let (status, body) = t.post("/v1/emergency-stop", r#"{"flaten":true}"#).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("body")),
        "{body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn a_stop_on_the_redis_control_channel_is_the_same_stop() {
    let Some(url) = crate::redis_bus::redis_url_or_skip().await else {
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

#[actix_rt::test]
async fn orders_waiting_for_the_gateways_pacing_never_leave_after_the_stop() {
    let t = TestEngine::start(&[("REDLINE__GATEWAY__MAX_REQUESTS_PER_SECOND", "2")]).await;
    let halted = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    for i in 0..10 {
        let body = json!({"id": format!("paced-{i}"), "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"});
        let (engine, halted, done) = (t.engine.clone(), halted.clone(), done.clone());
        actix_rt::spawn(async move {
            let (status, body) =
                redline::web::signals::submit_signal(&engine, body.to_string().as_bytes()).await;
            if status == 503 && body["reason"] == "trading_halted" {
                halted.fetch_add(1, Ordering::SeqCst);
            }
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    // The limiter's burst of 2 goes out; the rest wait for their turn.
    t.wait_for(
        "the burst sent",
        |t| async move { t.sim.order_count() >= 2 },
    )
    .await;
    let (status, stop) = t.post("/v1/emergency-stop", r#"{"reason":"paced"}"#).await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["failed"], json!([]), "nothing left unanswered: {stop}");
    let sent = t.sim.order_count();
    t.wait_for("every signal answered", |_| {
        let done = done.clone();
        async move { done.load(Ordering::SeqCst) == 10 }
    })
    .await;
    assert_eq!(
        t.sim.order_count(),
        sent,
        "no paced order left after the stop"
    );
    assert_eq!(
        halted.load(Ordering::SeqCst) as u64,
        10 - sent,
        "the rest answered 503"
    );
    t.stop().await;
}
