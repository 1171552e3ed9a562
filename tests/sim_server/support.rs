//! A running simulator server for a test, with signing and polling helpers.

use futures_util::{SinkExt, StreamExt};
use redline::config;
use redline::engine::build_sim;
use redline::exchange::binance::signing::{Credentials, encode_params, ws_payload};
use redline::exchange::sim::SimExchange;
use redline::exchange::sim_server::{self, SimServerSettings};
use reqwest::Method;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long a test waits for a condition before failing.
pub const WAIT_LIMIT: Duration = Duration::from_secs(5);

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct TestServer {
    pub base: String,
    pub ws_base: String,
    pub http: reqwest::Client,
    pub creds: Credentials,
    pub sim: SimExchange,
    server: actix_web::dev::ServerHandle,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(0)
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl TestServer {
    /// The default config with the feed off and 1 BTC besides the default USDT.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut SimServerSettings)) -> Self {
        // reqwest is built without a TLS provider (Cargo.toml: rustls-no-provider); even plain
        // HTTP clients need one installed.
        redline::exchange::ensure_tls();
        let env = [
            ("REDLINE__SIM__FEED_INTERVAL_MS", "0"),
            ("REDLINE__SIM__BALANCES__BTC", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = config::load(None, env).expect("config");
        let instruments = config.instruments().expect("instruments");
        let sim = build_sim(&config, &instruments).expect("sim");
        let info: Value =
            serde_json::from_str(&config.exchange_info_text().expect("info")).expect("json");
        let creds = Credentials::new(KEY, SECRET);
        let mut settings = SimServerSettings::new(creds.clone(), info);
        settings.workers = 1;
        tweak(&mut settings);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = sim_server::serve(listener, sim.clone(), settings).expect("serve");
        let handle = server.handle();
        actix_rt::spawn(server);
        let t = Self {
            base: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            http: reqwest::Client::new(),
            creds,
            sim,
            server: handle,
        };
        let start = Instant::now();
        while t.get("/api/v3/ping").await.status != 200 {
            assert!(start.elapsed() < WAIT_LIMIT, "server did not start");
        }
        t
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A signed request with every parameter in the query string.
    pub async fn signed(&self, method: Method, path: &str, params: &[(&str, &str)]) -> Resp {
        self.signed_split(method, path, params, &[]).await
    }

    /// A signed request with `query` in the query string and `body` in a form body; the
    /// signature (over query + body) goes at the end of the body, or of the query when there
    /// is no body.
    pub async fn signed_split(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &[(&str, &str)],
    ) -> Resp {
        let ts = now_ms().to_string();
        let mut query: Vec<(&str, &str)> = query.to_vec();
        let mut body: Vec<(&str, &str)> = body.to_vec();
        if body.is_empty() {
            query.push(("timestamp", &ts));
        } else {
            body.push(("timestamp", &ts));
        }
        self.raw_signed(
            method,
            path,
            &encode_params(query),
            &encode_params(body),
            KEY,
        )
        .await
    }

    /// Signs `query` + `body` as given and sends them with `key`.
    pub async fn raw_signed(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: &str,
        key: &str,
    ) -> Resp {
        let sig = self.creds.sign(&format!("{query}{body}"));
        let (query, body) = if body.is_empty() {
            (format!("{query}&signature={sig}"), String::new())
        } else {
            (query.to_string(), format!("{body}&signature={sig}"))
        };
        let url = format!("{}{path}?{query}", self.base);
        let mut req = self.http.request(method, url).header("X-MBX-APIKEY", key);
        if !body.is_empty() {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        self.send(req).await
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let resp = self
            .send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await;
        assert_eq!(resp.status, 200, "{path}: {:?}", resp.body);
        resp.body
    }

    pub async fn set_price(&self, symbol: &str, price: &str) {
        self.admin(
            "/sim/price",
            serde_json::json!({"symbol": symbol, "price": price}),
        )
        .await;
    }

    pub async fn state(&self) -> Value {
        self.get("/sim/state").await.body
    }

    pub async fn market_buy(&self, qty: &str, id: &str) -> Resp {
        self.signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", qty),
                ("newClientOrderId", id),
            ],
        )
        .await
    }

    pub async fn limit(&self, side: &str, qty: &str, price: &str, id: &str) -> Resp {
        self.signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", side),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", qty),
                ("price", price),
                ("newClientOrderId", id),
            ],
        )
        .await
    }

    pub async fn ws(&self, path: &str) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(format!("{}{path}", self.ws_base))
            .await
            .expect("ws connect");
        ws
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// The next JSON text message, answering pings on the way; `None` when the connection ends.
pub async fn next_json(ws: &mut Ws) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("timed out waiting for a WebSocket message");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).expect("json")),
            Some(Ok(Message::Ping(p))) => {
                let _ = ws.send(Message::Pong(p)).await;
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Reads messages until one satisfies `pick`; fails after `WAIT_LIMIT` or if the connection ends.
pub async fn wait_json(ws: &mut Ws, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < WAIT_LIMIT, "timed out waiting for {what}");
        match next_json(ws).await {
            Some(v) if pick(&v) => return v,
            Some(_) => {}
            None => panic!("connection ended while waiting for {what}"),
        }
    }
}

pub async fn ws_send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("ws send");
}

/// `userDataStream.subscribe.signature` params signed with `secret_ok` (false: a bad signature).
pub fn subscribe_request(t: &TestServer, id: &str, good: bool) -> Value {
    let ts = now_ms().to_string();
    let payload = ws_payload([("apiKey", KEY), ("timestamp", ts.as_str())]);
    let signature = if good {
        t.creds.sign(&payload)
    } else {
        "00".repeat(32)
    };
    json!({"id": id, "method": "userDataStream.subscribe.signature",
           "params": {"apiKey": KEY, "timestamp": ts.parse::<i64>().unwrap(), "signature": signature}})
}
