//! A live engine for a test: the simulator server (`sim_server::serve`, its own `SimExchange`,
//! feed off) on 127.0.0.1:0, the engine in live mode pointed at it through the Binance adapter,
//! and the engine's HTTP API on another ephemeral port. Everything in-process, nothing
//! reaches the internet.

use redline::clock::SystemClock;
use redline::config::{self, Config, Mode};
use redline::engine::{Engine, build_sim};
use redline::exchange::binance::signing::Credentials;
use redline::exchange::sim_server::{self, SimServerSettings};
use redline::web::{self, ApiToken};
use rust_decimal::Decimal;
use serde_json::Value;
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a test waits for a condition before failing.
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);

const KEY: &str = "live-test-key";
const SECRET: &str = "live-test-secret";

pub struct Live {
    /// The engine's HTTP API, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
    /// The simulator server (REST, WebSocket API, streams and `/sim/` admin).
    pub venue: String,
    pub http: reqwest::Client,
    engine_server: actix_web::dev::ServerHandle,
    venue_server: actix_web::dev::ServerHandle,
    /// The engine's journal directory, removed by `stop`.
    data_dir: String,
}

/// The engine's test configuration: live mode on BTCUSDT and ETHUSDT, with the risk throttles
/// relaxed as in tests/engine/support.rs (the risk gate has its own tests) and the gateway's
/// own pacing off, so the adapter's limiters are what paces requests. The same config builds
/// the simulator's venue (feed off: prices move only by `POST /sim/price`).
pub fn live_config() -> Config {
    let env = [
        ("REDLINE__SIM__FEED_INTERVAL_MS", "0"),
        ("REDLINE__RISK__MAX_ORDERS_PER_SECOND", "0"),
        ("REDLINE__RISK__MAX_MESSAGES_PER_SECOND", "0"),
        ("REDLINE__RISK__MAX_MESSAGES_PER_MINUTE", "0"),
        ("REDLINE__RISK__DUPLICATE_WINDOW_MS", "0"),
        ("REDLINE__RISK__MAX_PRICE_AGE_SECS", "0"),
        ("REDLINE__RISK__MAX_POSITION_PCT", "100"),
        ("REDLINE__RISK__CHECK_BALANCE", "false"),
        ("REDLINE__GATEWAY__MAX_REQUESTS_PER_SECOND", "0"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let mut config = config::load(None, env).expect("test config is valid");
    // Each test journals to a SQLite file of its own (live mode recovers from it at start).
    config.storage.data_dir = temp_data_dir().to_string_lossy().into_owned();
    config
}

/// A fresh directory under the system temp dir, unique per call.
fn temp_data_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "redline-live-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Live {
    pub async fn start() -> Self {
        Self::start_with(|_| {}, |_| {}).await
    }

    /// `venue` changes the server's settings (e.g. its rate limits, its exchangeInfo) before
    /// the engine connects, so what the adapter reads at connect reflects them; `engine`
    /// changes the engine's configuration.
    pub async fn start_with(
        venue: impl FnOnce(&mut SimServerSettings),
        engine: impl FnOnce(&mut Config),
    ) -> Self {
        redline::exchange::ensure_tls();
        // Logs only when asked for: RUST_LOG=redline=debug cargo test --test live
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let mut config = live_config();

        // The venue.
        let instruments = config.instruments().expect("instruments");
        let sim = build_sim(&config, &instruments).expect("sim");
        let info: Value =
            serde_json::from_str(&config.exchange_info_text().expect("info")).expect("json");
        let mut settings = SimServerSettings::new(Credentials::new(KEY, SECRET), info);
        settings.workers = 1;
        venue(&mut settings);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind venue");
        let addr = listener.local_addr().expect("addr");
        let venue_server = sim_server::serve(listener, sim, settings).expect("serve");
        let venue_handle = venue_server.handle();
        actix_rt::spawn(venue_server);

        // The engine, live, against it.
        config.mode = Mode::Live;
        config.exchange.rest_url = format!("http://{addr}");
        config.exchange.ws_api_url = format!("ws://{addr}/ws-api/v3");
        config.exchange.stream_url = format!("ws://{addr}");
        config.exchange.symbols = vec!["BTCUSDT".into(), "ETHUSDT".into()];
        engine(&mut config);
        let data_dir = config.storage.data_dir.clone();
        let engine =
            Engine::start_live(config, Arc::new(SystemClock), Credentials::new(KEY, SECRET))
                .await
                .expect("the engine connects to the simulator");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind engine");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = web::serve(listener, engine, ApiToken::default(), 1).expect("serve");
        let engine_handle = server.handle();
        actix_rt::spawn(server);

        let t = Self {
            base,
            venue: format!("http://{addr}"),
            http: reqwest::Client::new(),
            engine_server: engine_handle,
            venue_server: venue_handle,
            data_dir,
        };
        t.wait_for("engine ready", || async { t.get("/ready").await.0 == 200 })
            .await;
        // Fills are pushed over the user-data stream: tests act once it is subscribed.
        t.wait_for("user-data stream subscribed", || async {
            requests(&t.venue_state().await, "user_data_subscriptions") >= 1
        })
        .await;
        t
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET` on the engine's API.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// `DELETE` on the engine's API.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base)))
            .await
    }

    /// `POST` of a JSON body on the engine's API.
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }

    /// `POST /v1/signals` on the engine.
    pub async fn signal(&self, body: Value) -> (u16, Value) {
        self.send(
            self.http
                .post(format!("{}/v1/signals", self.base))
                .json(&body),
        )
        .await
    }

    pub async fn position(&self, symbol: &str) -> Value {
        self.get(&format!("/v1/positions/{symbol}")).await.1
    }

    pub async fn order(&self, id: &str) -> Value {
        self.get(&format!("/v1/orders/{id}")).await.1
    }

    /// A signed `POST /api/v3/order` straight to the simulator, as another program trading on
    /// the same account would send it; answers the venue's JSON.
    pub async fn place_directly(&self, params: &[(&str, &str)]) -> Value {
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("timestamp", &ts));
        let query = redline::exchange::binance::signing::encode_params(all);
        let signature = Credentials::new(KEY, SECRET).sign(&query);
        let (status, answer) = self
            .send(
                self.http
                    .post(format!(
                        "{}/api/v3/order?{query}&signature={signature}",
                        self.venue
                    ))
                    .header("X-MBX-APIKEY", KEY),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// A `POST` to the simulator's admin API; it must answer 200.
    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .send(self.http.post(format!("{}{path}", self.venue)).json(&body))
            .await;
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    }

    pub async fn set_price(&self, symbol: &str, price: &str) {
        self.admin(
            "/sim/price",
            serde_json::json!({"symbol": symbol, "price": price}),
        )
        .await;
    }

    /// `GET /sim/state`.
    pub async fn venue_state(&self) -> Value {
        let (status, state) = self
            .send(self.http.get(format!("{}/sim/state", self.venue)))
            .await;
        assert_eq!(status, 200, "{state}");
        state
    }

    /// The simulator's balance of `asset`, free + locked (0 when it holds none).
    pub async fn venue_balance(&self, asset: &str) -> Decimal {
        let state = self.venue_state().await;
        balance_in(&state["balances"], asset)
    }

    /// The engine's `GET /v1/account` venue balances, as (asset, free, locked), sorted.
    pub async fn engine_balances(&self) -> Vec<(String, Decimal, Decimal)> {
        let (status, account) = self.get("/v1/account").await;
        assert_eq!(status, 200, "{account}");
        balances(&account["venue_balances"])
    }

    /// Polls `check` until it holds; fails the test after `WAIT_LIMIT`.
    pub async fn wait_for<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = Instant::now();
        while !check().await {
            assert!(start.elapsed() < WAIT_LIMIT, "timed out waiting for {what}");
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the engine's position in `symbol` has applied `fills` fills.
    pub async fn wait_fills(&self, symbol: &str, fills: u64) {
        self.wait_for(&format!("{fills} fills on {symbol}"), || async {
            self.position(symbol).await["fill_count"].as_u64() == Some(fills)
        })
        .await;
    }

    /// Waits until the engine holds order `id` with `status`.
    pub async fn wait_status(&self, id: &str, status: &str) {
        self.wait_for(&format!("{id} {status}"), || async {
            self.order(id).await["status"] == status
        })
        .await;
    }

    /// The engine's position in `symbol` equals the simulator's balance of `base` (which the
    /// venue started with none of), and every venue balance the engine reports equals the
    /// simulator's, exactly.
    pub async fn assert_books_agree(&self, symbol: &str, base: &str) {
        let position = dec(&self.position(symbol).await["quantity"]);
        assert_eq!(
            position,
            self.venue_balance(base).await,
            "{symbol} position vs the venue's {base}"
        );
        let venue = balances(&self.venue_state().await["balances"]);
        assert_eq!(
            self.engine_balances().await,
            venue,
            "GET /v1/account balances vs GET /sim/state"
        );
    }

    pub async fn stop(self) {
        self.engine_server.stop(false).await;
        self.venue_server.stop(false).await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A decimal rendered as a JSON string (or number); panics on anything else.
#[track_caller]
pub fn dec(v: &Value) -> Decimal {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a decimal: {other}"),
    };
    Decimal::from_str(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal literal")
}

/// `[{"asset","free","locked"}]` as sorted (asset, free, locked), zero balances left out
/// (Binance leaves them out of `account`; the simulator may list them).
pub fn balances(list: &Value) -> Vec<(String, Decimal, Decimal)> {
    let mut out: Vec<_> = list
        .as_array()
        .expect("balances")
        .iter()
        .map(|b| {
            let asset = b["asset"].as_str().expect("asset").to_string();
            (asset, dec(&b["free"]), dec(&b["locked"]))
        })
        .filter(|(_, f, l)| !(f.is_zero() && l.is_zero()))
        .collect();
    out.sort();
    out
}

fn balance_in(list: &Value, asset: &str) -> Decimal {
    balances(list)
        .into_iter()
        .find(|(a, _, _)| a == asset)
        .map_or(Decimal::ZERO, |(_, f, l)| f + l)
}

/// The numeric field `key` of `GET /sim/state`'s `requests`.
pub fn requests(state: &Value, key: &str) -> u64 {
    state["requests"][key].as_u64().expect("request counter")
}
