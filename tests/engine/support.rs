//! A running engine for a test: HTTP on an ephemeral port, a manual clock, the sim handle.

use chrono::Duration;
use redline::clock::ManualClock;
use redline::config::{self, Config};
use redline::engine::Engine;
use redline::exchange::sim::SimExchange;
use redline::web::{self, ApiToken};
use serde_json::Value;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

/// How long a test waits for a condition before failing.
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct TestEngine {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
    pub sim: SimExchange,
    server: actix_web::dev::ServerHandle,
}

/// The defaults with the random-walk feed off (prices move only when a test says so), no order
/// throttle, plus `overrides` as REDLINE__ environment pairs.
///
/// Risk checks that would judge the older tests rather than what they test are relaxed here
/// (tests/engine/risk.rs turns each back on where it tests it): the manual clock never moves by
/// itself, so every order of a test falls in one throttle second and one duplicate window, and a
/// test that advances past the breaker cooldown would find its prices stale; some tests buy more
/// than 10% of equity in one symbol, or sell what they do not hold to see the venue refuse it.
pub fn test_config(overrides: &[(&str, &str)]) -> Config {
    let mut env: Vec<(String, String)> = vec![
        ("REDLINE__SIM__FEED_INTERVAL_MS".into(), "0".into()),
        ("REDLINE__RISK__MAX_ORDERS_PER_SECOND".into(), "0".into()),
        ("REDLINE__RISK__MAX_MESSAGES_PER_SECOND".into(), "0".into()),
        ("REDLINE__RISK__MAX_MESSAGES_PER_MINUTE".into(), "0".into()),
        ("REDLINE__RISK__DUPLICATE_WINDOW_MS".into(), "0".into()),
        ("REDLINE__RISK__MAX_PRICE_AGE_SECS".into(), "0".into()),
        ("REDLINE__RISK__MAX_POSITION_PCT".into(), "100".into()),
        ("REDLINE__RISK__CHECK_BALANCE".into(), "false".into()),
        (
            "REDLINE__GATEWAY__MAX_REQUESTS_PER_SECOND".into(),
            "0".into(),
        ),
    ];
    // Every engine keeps its journal and emergency-stop latch in a directory of its own, unless
    // the test names one (to restart on the same data).
    if !overrides
        .iter()
        .any(|(k, _)| *k == "REDLINE__STORAGE__DATA_DIR")
    {
        env.push((
            "REDLINE__STORAGE__DATA_DIR".into(),
            fresh_data_dir().to_string_lossy().into_owned(),
        ));
    }
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    config::load(None, env).expect("test config is valid")
}

/// An empty directory under the system's temp dir, unique to this process and call.
pub fn fresh_data_dir() -> std::path::PathBuf {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("redline-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl TestEngine {
    pub async fn start(overrides: &[(&str, &str)]) -> Self {
        Self::start_with(test_config(overrides), ApiToken::default()).await
    }

    pub async fn start_with(config: Config, token: ApiToken) -> Self {
        let clock = ManualClock::new(chrono::Utc::now());
        let engine = Engine::launch(config, clock.clone())
            .await
            .expect("engine starts");
        let sim = engine.sim.clone().expect("paper mode has a sim");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = web::serve(listener, engine.clone(), token, 1).expect("serve");
        let handle = server.handle();
        actix_rt::spawn(server);
        let t = Self {
            base,
            http: {
                redline::exchange::ensure_tls();
                reqwest::Client::new()
            },
            clock,
            engine,
            sim,
            server: handle,
        };
        t.wait_for(
            "engine ready",
            |t| async move { t.get("/ready").await.0 == 200 },
        )
        .await;
        t
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let req = self.http.post(format!("{}{path}", self.base));
        self.send(
            req.header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn patch(&self, path: &str, body: &str) -> (u16, Value) {
        let req = self.http.patch(format!("{}{path}", self.base));
        self.send(
            req.header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    pub async fn signal(&self, body: Value) -> (u16, Value) {
        self.post("/v1/signals", &body.to_string()).await
    }

    pub async fn set_price(&self, symbol: &str, price: &str) {
        let (status, body) = self
            .post(
                "/v1/sim/price",
                &format!(r#"{{"symbol":"{symbol}","price":"{price}"}}"#),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn position(&self, symbol: &str) -> Value {
        self.get(&format!("/v1/positions/{symbol}")).await.1
    }

    /// The venue's balance of `asset` as reported by `GET /v1/account`.
    pub async fn balance(&self, asset: &str) -> Value {
        let (_, account) = self.get("/v1/account").await;
        account["venue_balances"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["asset"] == asset).cloned())
            .unwrap_or(Value::Null)
    }

    pub async fn order(&self, id: &str) -> Value {
        self.get(&format!("/v1/orders/{id}")).await.1
    }

    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }

    /// Polls `check` until it holds; fails the test after `WAIT_LIMIT`.
    pub async fn wait_for<'a, F, Fut>(&'a self, what: &str, check: F)
    where
        F: Fn(&'a Self) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while !check(self).await {
            assert!(start.elapsed() < WAIT_LIMIT, "timed out waiting for {what}");
            actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Stops the HTTP server and flushes the journal. The data directory stays (a test may
    /// restart on it); it is under the system's temp dir.
    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the HTTP server and flushes the journal, leaving the data directory for a
    /// restart; returns it.
    pub async fn stop_keeping_data(self) -> String {
        self.server.stop(false).await;
        if let Some(journal) = &self.engine.journal {
            let _ = journal.writer.send(redline::journal::writer::Flush).await;
        }
        self.engine.config.storage.data_dir.clone()
    }
}

/// A JSON string field as text ("" when absent), for comparing rendered decimals.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Compares two decimal strings numerically ("1.20" == "1.2").
pub fn dec_eq(actual: &str, expected: &str) -> bool {
    use std::str::FromStr;
    match (
        rust_decimal::Decimal::from_str(actual),
        rust_decimal::Decimal::from_str(expected),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[track_caller]
pub fn assert_dec(actual: &str, expected: &str, what: &str) {
    assert!(
        dec_eq(actual, expected),
        "{what}: expected {expected}, got {actual:?}"
    );
}
