//! The emergency stop under load: 10,000 signals queued at the router, orders waiting for
//! the gateway's pacing, and the circuit breaker open.

use redline::actors::messages::SubmitOutcome;
use redline::actors::order_router::{GetRouterStats, SubmitSignal};
use redline::domain::SignalInput;
use redline::exchange::sim::SimFault;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::emergency::{buy, dec_zero, rest};
use crate::support::{TestEngine, assert_dec, s};

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
