//! The kill switch from the command line (`redline stop` / `redline resume`, through the same
//! function `main` calls, against a running engine), and shutdown: open orders stay unless configured to be cancelled, and `redline
//! run` exits cleanly on SIGTERM.

use redline::clock::ManualClock;
use redline::control::client::{
    CliCommand, ClientError, ControlClient, EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, run_cli,
};
use redline::engine::Engine;
use redline::web::ApiToken;
use serde_json::{Value, json};

use crate::support::{TestEngine, fresh_data_dir, test_config};

const TOKEN: &str = "stop-test-token";

async fn rest(t: &TestEngine, id: &str, symbol: &str, price: &str, qty: &str) {
    let resp = t
        .http
        .post(format!("{}/v1/signals", t.base))
        .bearer_auth(TOKEN)
        .json(
            &json!({"id": id, "symbol": symbol, "action": "buy", "order_type": "limit",
            "quantity": qty, "price": price, "time_in_force": "GTC"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

/// `redline stop` / `redline resume` as `main` runs them, in process: (exit code, stdout JSON).
async fn cli(base: &str, token: Option<&str>, operator: &str, command: CliCommand) -> (i32, Value) {
    let client = ControlClient::new(base, token.map(String::from), operator).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_cli(&client, command, &mut out, &mut err).await;
    (code, serde_json::from_slice(&out).unwrap_or(Value::Null))
}

#[actix_rt::test]
async fn redline_stop_and_resume_drive_a_running_engine() {
    let t = TestEngine::start_with(test_config(&[]), ApiToken::new(Some(TOKEN))).await;
    rest(&t, "cli-btc", "BTCUSDT", "59000", "0.001").await;
    rest(&t, "cli-sol", "SOLUSDT", "140", "1").await;
    let stop = |flatten| CliCommand::Stop {
        flatten,
        reason: Some("cli test".into()),
    };

    // Without the token the engine refuses, and the CLI says so with exit code 1.
    let (code, _) = cli(&t.base, None, "cli", stop(false)).await;
    assert_eq!(code, EXIT_FAILED);
    assert!(!t.engine.latch.is_engaged());

    let (code, answer) = cli(&t.base, Some(TOKEN), "dave", stop(true)).await;
    assert_eq!(code, EXIT_OK, "{answer}");
    assert_eq!(answer["halted"], true, "{answer}");
    assert_eq!(answer["stop"]["by"], "dave");
    assert_eq!(answer["cancelled"].as_array().unwrap().len(), 2, "{answer}");
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    assert!(t.engine.latch.is_engaged());

    let resume = CliCommand::Resume {
        reason: "cli all clear".into(),
    };
    let (code, answer) = cli(&t.base, Some(TOKEN), "dave", resume).await;
    assert_eq!(code, EXIT_OK, "{answer}");
    assert_eq!(answer["trading_state"], "active");
    assert!(!t.engine.latch.is_engaged());
    t.stop().await;
}

#[actix_rt::test]
async fn the_client_reports_refusals_and_unreachable_engines() {
    let t = TestEngine::start_with(test_config(&[]), ApiToken::new(Some(TOKEN))).await;
    let wrong = ControlClient::new(&t.base, Some("wrong".into()), "cli").unwrap();
    match wrong.stop(false, None).await {
        Err(ClientError::Refused { status, .. }) => assert_eq!(status, 401),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let right = ControlClient::new(&t.base, Some(TOKEN.into()), "cli").unwrap();
    assert_eq!(
        right.stop(false, Some("x")).await.unwrap()["stop"]["by"],
        "cli"
    );
    t.stop().await;
    let gone = ControlClient::new("http://127.0.0.1:9", None, "cli").unwrap();
    assert!(matches!(
        gone.resume("x").await,
        Err(ClientError::Unreachable { .. })
    ));
}

#[actix_rt::test]
async fn shutdown_leaves_open_orders_unless_told_to_cancel_them() {
    let t = TestEngine::start_with(test_config(&[]), ApiToken::new(Some(TOKEN))).await;
    rest(&t, "sd-btc", "BTCUSDT", "59000", "0.001").await;
    rest(&t, "sd-eth", "ETHUSDT", "2900", "0.1").await;
    let kept = t.engine.shutdown(false).await;
    assert!(kept.cancelled.is_empty() && kept.failed.is_empty());
    assert_eq!(t.sim.open_order_views(None).unwrap().len(), 2);

    let report = t.engine.shutdown(true).await;
    assert_eq!(report.cancelled.len(), 2, "{report:?}");
    assert!(report.failed.is_empty());
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    assert!(!t.engine.latch.is_engaged(), "shutdown is not a stop");
    // Shutdown flushed the journal: the cancels are committed without any further flush.
    let journal = &t.engine.journal.as_ref().expect("journal").store;
    let entries = journal.read_after(0, 10_000).await.unwrap();
    let cancels = entries
        .iter()
        .filter(|e| e.entry.kind == redline::journal::EntryKind::Cancel)
        .count();
    assert_eq!(cancels, 2, "both cancels are in the journal");
    t.stop().await;
}

#[actix_rt::test]
async fn serving_stops_on_the_shutdown_signal_and_cancels_open_orders_if_configured() {
    let config = test_config(&[("REDLINE__SHUTDOWN__CANCEL_OPEN_ORDERS", "true")]);
    let engine = Engine::start(config, ManualClock::new(chrono::Utc::now())).unwrap();
    let sim = engine.sim.clone().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serving = {
        let engine = engine.clone();
        actix_rt::spawn(async move {
            let signal = async move {
                let _ = rx.await;
                "test signal".to_string()
            };
            engine
                .serve_until(listener, ApiToken::default(), 1, signal)
                .await
        })
    };
    redline::exchange::ensure_tls();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    while http.get(format!("{base}/ready")).send().await.is_err() {
        assert!(
            started.elapsed() < crate::support::WAIT_LIMIT,
            "never came up"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let resp = http
        .post(format!("{base}/v1/signals"))
        .json(
            &json!({"id": "sd-1", "symbol": "ETHUSDT", "action": "buy", "order_type": "limit",
            "quantity": "0.1", "price": "2900", "time_in_force": "GTC"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);

    tx.send(()).unwrap();
    let report = serving.await.unwrap().unwrap();
    assert_eq!(report.cancelled.len(), 1, "{report:?}");
    assert!(sim.open_order_views(None).unwrap().is_empty());
    assert!(
        http.get(format!("{base}/ready")).send().await.is_err(),
        "the HTTP server is gone"
    );
}

#[actix_rt::test]
async fn a_stop_that_cannot_be_persisted_still_halts_and_the_cli_exits_2() {
    let dir = fresh_data_dir();
    let dir_str = dir.to_string_lossy().into_owned();
    let config = test_config(&[("REDLINE__STORAGE__DATA_DIR", dir_str.as_str())]);
    let t = TestEngine::start_with(config, ApiToken::new(Some(TOKEN))).await;
    // The latch file's place is taken by a directory: the stop cannot be written down.
    std::fs::create_dir_all(dir.join(redline::control::LATCH_FILE).join("in-the-way")).unwrap();
    let stop = CliCommand::Stop {
        flatten: false,
        reason: Some("disk trouble".into()),
    };
    let (code, answer) = cli(&t.base, Some(TOKEN), "erin", stop).await;
    assert_eq!(code, EXIT_PARTIAL, "{answer}");
    assert_eq!(answer["halted"], true);
    assert_eq!(answer["failed"][0]["action"], "persist", "{answer}");
    assert!(t.engine.latch.is_engaged(), "halted in memory regardless");
    let resp = t
        .http
        .post(format!("{}/v1/signals", t.base))
        .bearer_auth(TOKEN)
        .json(&json!({"id": "x", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503, "signals are refused");
    t.stop().await;
    let _ = std::fs::remove_file(&dir);
}
