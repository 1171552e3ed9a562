//! The `[exchange]` section (where live mode connects) and the checks that stand between an
//! operator and an accidental real-money order: keys must be in the environment, and a mainnet
//! URL needs `i_understand_this_trades_real_money = true`.

use serde::{Deserialize, Serialize};

use super::{Config, Mode};
use crate::exchange::binance::signing::Credentials;

/// Environment variable holding the Binance API key (live mode).
pub const API_KEY_ENV: &str = "REDLINE_BINANCE_API_KEY";
/// Environment variable holding the Binance HMAC secret (live mode).
pub const API_SECRET_ENV: &str = "REDLINE_BINANCE_API_SECRET";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// REST base, without `/api` (e.g. `https://testnet.binance.vision`).
    pub rest_url: String,
    /// WebSocket API endpoint, user data comes over it (e.g. `wss://.../ws-api/v3`).
    pub ws_api_url: String,
    /// Market streams base; `/stream?streams=...` is appended.
    pub stream_url: String,
    /// Symbols traded in live mode; their filters come from the venue's exchangeInfo.
    pub symbols: Vec<String>,
    /// How long after `timestamp` the venue may still accept a signed request.
    pub recv_window_ms: u64,
    /// A request with no answer after this long has an unknown outcome.
    pub request_timeout_ms: u64,
    /// How often the clock offset to the venue is measured again.
    pub time_sync_interval_secs: u64,
    /// Must be true to trade against a mainnet URL (anything under binance.com).
    pub i_understand_this_trades_real_money: bool,
}

impl ExchangeConfig {
    /// Whether any of the URLs points at Binance's real-money venue. Testnet lives under
    /// `binance.vision`; the simulator on loopback.
    pub fn is_mainnet(&self) -> bool {
        [&self.rest_url, &self.ws_api_url, &self.stream_url]
            .iter()
            .any(|u| host_of(u).is_some_and(|h| h == "binance.com" || h.ends_with(".binance.com")))
    }
}

/// The host part of `scheme://host[:port][/path]`, lower-cased.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The Binance credentials from the environment, or a message naming what is missing.
pub fn credentials(env: impl IntoIterator<Item = (String, String)>) -> Result<Credentials, String> {
    let (mut key, mut secret) = (None, None);
    for (k, v) in env {
        if v.trim().is_empty() {
            continue;
        }
        match k.as_str() {
            API_KEY_ENV => key = Some(v),
            API_SECRET_ENV => secret = Some(v),
            _ => {}
        }
    }
    match (key, secret) {
        (Some(k), Some(s)) => Ok(Credentials::new(k, s)),
        (k, s) => {
            let missing: Vec<&str> = [(k.is_none(), API_KEY_ENV), (s.is_none(), API_SECRET_ENV)]
                .into_iter()
                .filter_map(|(m, name)| m.then_some(name))
                .collect();
            Err(format!(
                "mode = \"live\" needs Binance API credentials: set {} in the environment \
                 (for the local simulator: REDLINE_SIM_API_KEY / REDLINE_SIM_API_SECRET values, \
                 or the simulator's documented defaults)",
                missing.join(" and ")
            ))
        }
    }
}

impl Config {
    /// Problems with live mode: URLs well formed, symbols given, the real-money latch, and
    /// (from `env`) the credentials. Nothing to check in paper mode.
    pub(super) fn validate_live(&self, env: &[(String, String)]) -> Vec<String> {
        if self.mode != Mode::Live {
            return Vec::new();
        }
        let ex = &self.exchange;
        let mut problems = Vec::new();
        for (name, url, schemes) in [
            ("exchange.rest_url", &ex.rest_url, ["http", "https"]),
            ("exchange.ws_api_url", &ex.ws_api_url, ["ws", "wss"]),
            ("exchange.stream_url", &ex.stream_url, ["ws", "wss"]),
        ] {
            let scheme_ok = url
                .split_once("://")
                .is_some_and(|(s, _)| schemes.contains(&s));
            if !scheme_ok || host_of(url).is_none() {
                problems.push(format!(
                    "{name}: {url:?} is not a {}:// or {}:// URL",
                    schemes[0], schemes[1]
                ));
            }
        }
        if ex.symbols.is_empty() {
            problems.push("exchange.symbols: live mode needs at least one symbol".into());
        }
        if ex.recv_window_ms == 0 || ex.recv_window_ms > 60_000 {
            problems
                .push("exchange.recv_window_ms: must be in 1..=60000 (Binance's maximum)".into());
        }
        if ex.request_timeout_ms == 0 {
            problems.push("exchange.request_timeout_ms: must be > 0".into());
        }
        if ex.time_sync_interval_secs == 0 {
            problems.push("exchange.time_sync_interval_secs: must be > 0".into());
        }
        if ex.is_mainnet() && !ex.i_understand_this_trades_real_money {
            problems.push(
                "exchange: the URLs point at Binance mainnet, where orders spend real money; \
                 set exchange.i_understand_this_trades_real_money = true to allow it \
                 (config/binance-testnet.toml trades on the testnet instead)"
                    .into(),
            );
        }
        if let Err(e) = credentials(env.iter().cloned()) {
            problems.push(e);
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_is_recognised_by_host_only() {
        let mut ex = ExchangeConfig {
            rest_url: "https://testnet.binance.vision".into(),
            ws_api_url: "wss://ws-api.testnet.binance.vision/ws-api/v3".into(),
            stream_url: "wss://stream.testnet.binance.vision".into(),
            symbols: vec!["BTCUSDT".into()],
            recv_window_ms: 5000,
            request_timeout_ms: 10_000,
            time_sync_interval_secs: 300,
            i_understand_this_trades_real_money: false,
        };
        assert!(!ex.is_mainnet());
        ex.rest_url = "https://api.binance.com".into();
        assert!(ex.is_mainnet());
        ex.rest_url = "https://api.binance.com.evil.example".into();
        assert!(!ex.is_mainnet());
        ex.stream_url = "wss://stream.binance.com:9443".into();
        assert!(ex.is_mainnet());
        ex.stream_url = "ws://127.0.0.1:9443/binance.com".into();
        assert!(!ex.is_mainnet());
    }

    #[test]
    fn credentials_name_every_missing_variable() {
        let err = credentials(vec![(API_KEY_ENV.into(), "k".into())]).unwrap_err();
        assert!(
            err.contains(API_SECRET_ENV) && !err.contains(API_KEY_ENV),
            "{err}"
        );
        let err = credentials(vec![(API_KEY_ENV.into(), " ".into())]).unwrap_err();
        assert!(
            err.contains(API_SECRET_ENV) && err.contains(API_KEY_ENV),
            "{err}"
        );
        let ok = credentials(vec![
            (API_KEY_ENV.into(), "k".into()),
            (API_SECRET_ENV.into(), "s".into()),
        ])
        .unwrap();
        assert_eq!(ok.api_key, "k");
    }
}
