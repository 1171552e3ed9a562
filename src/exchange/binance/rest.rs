//! The signed REST client: builds each request (parameters in the query string, signed with
//! HMAC-SHA256 over exactly that string, `POST`/`DELETE` with an empty body), paces it through
//! the limits, sends it with reqwest and classifies the answer.
//!
//! `timestamp` is the wall clock (`SystemTime`, not the engine's injected clock, which may be
//! simulated) plus an offset to the venue's clock, measured from `GET /api/v3/time` at the
//! midpoint of the round trip. The offset is re-measured every `time_sync_interval` (by a task
//! `BinanceExchange::connect` starts) and at once when the venue answers -1021; a read is then
//! retried once, a write never.

use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::error::{
    CODE_INVALID_TIMESTAMP, Effect, classify_response, classify_transport, retry_after,
    transport_kind,
};
use super::limits::{Charge, Limits};
use super::models::ServerTime;
use super::signing::{Credentials, encode_params, rest_payload};
use crate::exchange::ExchangeError;

pub use crate::exchange::ensure_tls;

/// The wall clock in epoch milliseconds.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Venue clock minus local clock, from a `GET /api/v3/time` sent at `sent_ms` and answered at
/// `received_ms`: the server read its clock, on average, halfway through the round trip.
pub fn clock_offset(sent_ms: i64, server_ms: i64, received_ms: i64) -> i64 {
    server_ms - (sent_ms + (received_ms - sent_ms) / 2)
}

/// One REST request.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// From the base URL, e.g. `/api/v3/order`.
    pub path: &'static str,
    /// Request parameters, in order, not yet encoded; signed calls get `recvWindow`,
    /// `timestamp` and `signature` appended.
    pub params: Vec<(&'static str, String)>,
    pub signed: bool,
    pub charge: Charge,
    pub effect: Effect,
}

impl Call {
    pub fn new(method: Method, path: &'static str, weight: u32) -> Self {
        let effect = if method == Method::GET {
            Effect::Read
        } else {
            Effect::Write
        };
        Self {
            method,
            path,
            params: Vec::new(),
            signed: false,
            charge: Charge { weight, orders: 0 },
            effect,
        }
    }

    pub fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    /// Counts against the ORDERS limits.
    pub fn order(self) -> Self {
        self.orders(1)
    }

    /// Places `n` orders at once (an OCO places 2).
    pub fn orders(mut self, n: u32) -> Self {
        self.charge.orders = n;
        self
    }

    pub fn param(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.params.push((key, value.into()));
        self
    }
}

/// The REST side of one adapter.
pub struct Rest {
    http: reqwest::Client,
    /// e.g. `https://testnet.binance.vision` (no trailing `/api`).
    base: String,
    credentials: Credentials,
    recv_window_ms: u64,
    /// Venue clock minus wall clock, in ms.
    offset_ms: AtomicI64,
    /// Replaced once `exchangeInfo` has said what the limits are.
    limits: RwLock<Arc<Limits>>,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("offset_ms", &self.offset_ms.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Rest {
    pub fn new(
        base: &str,
        credentials: Credentials,
        recv_window_ms: u64,
        timeout: Duration,
        limits: Limits,
    ) -> Result<Self, ExchangeError> {
        ensure_tls();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ExchangeError::Connectivity(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            credentials,
            recv_window_ms,
            offset_ms: AtomicI64::new(0),
            limits: RwLock::new(Arc::new(limits)),
        })
    }

    /// The REST base URL requests go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn recv_window_ms(&self) -> u64 {
        self.recv_window_ms
    }

    pub fn limits(&self) -> Arc<Limits> {
        self.limits
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_limits(&self, limits: Limits) {
        *self.limits.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(limits);
    }

    /// The venue's clock now, by the last measured offset.
    pub fn server_ms(&self) -> i64 {
        wall_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Measures the offset to the venue's clock.
    pub async fn sync_time(&self) -> Result<i64, ExchangeError> {
        let sent = wall_ms();
        let t: ServerTime = self
            .json_once(&Call::new(Method::GET, "/api/v3/time", 1))
            .await?;
        let offset = clock_offset(sent, t.server_time, wall_ms());
        self.offset_ms.store(offset, Ordering::Relaxed);
        tracing::debug!(offset_ms = offset, "synchronised with Binance's clock");
        Ok(offset)
    }

    /// Sends `call` and parses its answer. On -1021 the clock is re-synchronised; a read is
    /// then sent once more, a write is not (the caller sees `Rejected { -1021 }`).
    pub async fn json<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ExchangeError> {
        match self.json_once(call).await {
            Err(ExchangeError::Rejected { code, message }) if code == CODE_INVALID_TIMESTAMP => {
                tracing::warn!(%message, "Binance says our timestamp is off; re-synchronising");
                if let Err(e) = self.sync_time().await {
                    tracing::warn!(error = %e, "time re-sync failed");
                }
                if call.effect == Effect::Read {
                    self.json_once(call).await
                } else {
                    Err(ExchangeError::Rejected { code, message })
                }
            }
            other => other,
        }
    }

    async fn json_once<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ExchangeError> {
        let body = self.send(call).await?;
        serde_json::from_str(&body).map_err(|e| {
            let what = format!("{} {}: unreadable answer: {e}", call.method, call.path);
            match call.effect {
                // The venue took the write (2xx), but what it did cannot be read.
                Effect::Write => ExchangeError::UnknownOutcome(what),
                Effect::Read => ExchangeError::Connectivity(what),
            }
        })
    }

    /// The query string of `call`, signed if it needs to be, as it goes on the wire.
    pub fn query_string(&self, call: &Call) -> String {
        let mut params: Vec<(&str, &str)> =
            call.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let recv_window = self.recv_window_ms.to_string();
        let timestamp = self.server_ms().to_string();
        if call.signed {
            params.push(("recvWindow", &recv_window));
            params.push(("timestamp", &timestamp));
        }
        let mut query = encode_params(params);
        if call.signed {
            // Everything is in the query string and the body is empty, so the signed payload
            // is the query string itself.
            let signature = self.credentials.sign(&rest_payload(&query, ""));
            query.push_str("&signature=");
            query.push_str(&signature);
        }
        query
    }

    /// Sends `call` once; a success answer's body, or the classified failure.
    pub async fn send(&self, call: &Call) -> Result<String, ExchangeError> {
        let limits = self.limits();
        limits.acquire(call.charge).await?;
        let query = self.query_string(call);
        let mut url = format!("{}{}", self.base, call.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut request = self.http.request(call.method.clone(), &url);
        if call.signed {
            request = request.header("X-MBX-APIKEY", &self.credentials.api_key);
        }
        // Without the URL: it carries the signed query, which has no place in logs.
        let transport = |e: reqwest::Error| {
            let e = e.without_url();
            classify_transport(transport_kind(&e), &e.to_string(), call.effect)
        };
        let response = request.send().await.map_err(|e| {
            let e = transport(e);
            tracing::warn!(method = %call.method, path = call.path, error = %e, "Binance request failed");
            e
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        limits.observe(&headers, Instant::now(), self.server_ms());
        let body = response.text().await.map_err(transport)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let wait = retry_after(&headers);
        if status == 418 || status == 429 {
            let banned = limits.ban(status, wait, Instant::now());
            return Err(ExchangeError::RateLimited {
                retry_after: Some(banned),
            });
        }
        let error = classify_response(status, &body, wait, call.effect);
        tracing::debug!(method = %call.method, path = call.path, status, error = %error, "Binance refused a request");
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_takes_the_midpoint_of_the_round_trip() {
        // Sent at 1000, answered at 1100: the server read 2050 at about 1050.
        assert_eq!(clock_offset(1000, 2050, 1100), 1000);
        // A server behind us gives a negative offset.
        assert_eq!(clock_offset(1000, 900, 1010), -105);
    }

    #[test]
    fn a_signed_query_carries_window_timestamp_and_a_signature_over_itself() {
        let rest = Rest::new(
            "http://127.0.0.1:1/",
            Credentials::new("key", "secret"),
            5000,
            Duration::from_secs(1),
            Limits::from_rules(&[]),
        )
        .unwrap();
        rest.offset_ms.store(-250, Ordering::Relaxed);
        let call = Call::new(Method::POST, "/api/v3/order", 1)
            .signed()
            .param("symbol", "BTCUSDT")
            .param("newClientOrderId", "rl-a/b");
        let before = wall_ms() - 250;
        let q = rest.query_string(&call);
        let (unsigned, signature) = q.split_once("&signature=").unwrap();
        assert!(Credentials::new("key", "secret").verify(unsigned, signature));
        assert!(
            unsigned
                .starts_with("symbol=BTCUSDT&newClientOrderId=rl-a%2Fb&recvWindow=5000&timestamp=")
        );
        let ts: i64 = unsigned.rsplit('=').next().unwrap().parse().unwrap();
        assert!(ts >= before && ts <= wall_ms() - 250);
        assert_eq!(rest.base, "http://127.0.0.1:1");
        assert!(!format!("{rest:?}").contains("secret"));
    }

    #[test]
    fn an_unsigned_query_is_just_its_params() {
        let rest = Rest::new(
            "http://x",
            Credentials::new("k", "s"),
            5000,
            Duration::from_secs(1),
            Limits::from_rules(&[]),
        )
        .unwrap();
        let call = Call::new(Method::GET, "/api/v3/exchangeInfo", 20)
            .param("symbols", r#"["BTCUSDT","ETHUSDT"]"#);
        assert_eq!(
            rest.query_string(&call),
            "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D"
        );
        assert_eq!(call.effect, Effect::Read);
    }
}
