//! The simulator and the engine as child processes of the test, on free loopback ports.

use redline::exchange::binance::signing::{Credentials, encode_params};
use serde_json::Value;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// How long any condition may take.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
const KEY: &str = "recovery-key";
const SECRET: &str = "recovery-secret";

/// Relaxed risk checks (see tests/engine/support.rs): this test is about recovery.
const RISK_ENV: [(&str, &str); 8] = [
    ("REDLINE__RISK__MAX_ORDERS_PER_SECOND", "0"),
    ("REDLINE__RISK__MAX_MESSAGES_PER_SECOND", "0"),
    ("REDLINE__RISK__MAX_MESSAGES_PER_MINUTE", "0"),
    ("REDLINE__RISK__DUPLICATE_WINDOW_MS", "0"),
    ("REDLINE__RISK__MAX_PRICE_AGE_SECS", "0"),
    ("REDLINE__RISK__MAX_POSITION_PCT", "100"),
    ("REDLINE__RISK__CHECK_BALANCE", "false"),
    ("REDLINE__GATEWAY__MAX_REQUESTS_PER_SECOND", "0"),
];

pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "redline-{tag}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `redline` child process with a clean environment (no REDIS_URL or DATABASE_URL from the
/// caller: the engine must journal to its own SQLite file and take signals only over HTTP).
fn redline(args: &[&str], env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redline"));
    cmd.args(args)
        .env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .env("REDLINE__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn redline")
}

pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, || async {
        check().await.then_some(()).ok_or_else(String::new)
    })
    .await
}

/// Polls `check` until it is `Ok`; on timeout fails with the last `Err` it gave.
pub async fn wait_for<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        let why = match check().await {
            Ok(()) => return,
            Err(why) => why,
        };
        assert!(
            start.elapsed() < WAIT_LIMIT,
            "timed out waiting for {what}: {why}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn dec_eq(a: &str, b: &str) -> bool {
    match (
        rust_decimal::Decimal::from_str(a),
        rust_decimal::Decimal::from_str(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn client() -> reqwest::Client {
    redline::exchange::ensure_tls();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `redline sim-exchange`, killed when dropped.
pub struct Sim {
    pub port: u16,
    base: String,
    http: reqwest::Client,
    creds: Credentials,
    child: Child,
}

impl Sim {
    pub async fn start() -> Self {
        let port = free_port();
        let env = [
            ("REDLINE__SIM__FEED_INTERVAL_MS", "0".to_string()),
            ("REDLINE_SIM_API_KEY", KEY.to_string()),
            ("REDLINE_SIM_API_SECRET", SECRET.to_string()),
        ];
        let child = redline(
            &["sim-exchange", "--bind", &format!("127.0.0.1:{port}")],
            &env,
        );
        let sim = Sim {
            port,
            base: format!("http://127.0.0.1:{port}"),
            http: client(),
            creds: Credentials::new(KEY, SECRET),
            child,
        };
        wait_until("sim-exchange up", || async {
            sim.http
                .get(format!("{}/api/v3/ping", sim.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        sim
    }

    pub async fn state(&self) -> Value {
        let resp = self
            .http
            .get(format!("{}/sim/state", self.base))
            .send()
            .await;
        resp.expect("sim state").json().await.expect("json")
    }

    /// Every order on `symbol`, through the signed REST API (as Binance's allOrders).
    pub async fn all_orders(&self, symbol: &str) -> Vec<Value> {
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let query = encode_params([("symbol", symbol), ("limit", "1000"), ("timestamp", &ts)]);
        let sig = self.creds.sign(&query);
        let resp = self
            .http
            .get(format!(
                "{}/api/v3/allOrders?{query}&signature={sig}",
                self.base
            ))
            .header("X-MBX-APIKEY", KEY)
            .send()
            .await
            .expect("allOrders");
        let body: Value = resp.json().await.expect("json");
        body.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("allOrders: {body}"))
    }

    /// The venue's total (free + locked) of `asset`, as a decimal string.
    pub async fn balance(&self, asset: &str) -> String {
        let state = self.state().await;
        let total = state["balances"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["asset"] == asset)
            .map(|b| {
                let f = |k: &str| rust_decimal::Decimal::from_str(b[k].as_str().unwrap_or("0"));
                f("free").unwrap_or_default() + f("locked").unwrap_or_default()
            })
            .unwrap_or_default();
        total.to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `redline run` in live mode against the simulator, journaling under a data dir.
pub struct Engine {
    pub base: String,
    pub http: reqwest::Client,
    child: Child,
}

impl Engine {
    pub async fn start(sim: &Sim, data: &Path) -> Self {
        let port = free_port();
        let p = sim.port;
        let mut env: Vec<(&str, String)> = vec![
            ("REDLINE__MODE", "live".into()),
            ("REDLINE__HTTP__BIND", format!("127.0.0.1:{port}")),
            (
                "REDLINE__EXCHANGE__REST_URL",
                format!("http://127.0.0.1:{p}"),
            ),
            (
                "REDLINE__EXCHANGE__WS_API_URL",
                format!("ws://127.0.0.1:{p}/ws-api/v3"),
            ),
            (
                "REDLINE__EXCHANGE__STREAM_URL",
                format!("ws://127.0.0.1:{p}"),
            ),
            (
                "REDLINE__STORAGE__DATA_DIR",
                data.to_string_lossy().into_owned(),
            ),
            ("REDLINE_BINANCE_API_KEY", KEY.into()),
            ("REDLINE_BINANCE_API_SECRET", SECRET.into()),
        ];
        env.extend(RISK_ENV.iter().map(|(k, v)| (*k, v.to_string())));
        let child = redline(&["run"], &env);
        let engine = Engine {
            base: format!("http://127.0.0.1:{port}"),
            http: client(),
            child,
        };
        wait_until("engine ready (recovered and reconciled)", || async {
            engine.get("/ready").await.0 == 200
        })
        .await;
        engine
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        match self.http.get(format!("{}{path}", self.base)).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("engine answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.kill();
    }
}
