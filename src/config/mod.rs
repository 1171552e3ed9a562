//! Engine configuration: serde structs that refuse unknown keys, loaded from the embedded
//! `config/default.toml`, an optional file merged over it, and `REDLINE__SECTION__KEY`
//! environment overrides (see [`load`]); then [`Config::validate`] lists every problem at once.

mod live;
mod load;

/// The `[risk]` section lives with the risk code, which also changes it at runtime.
pub use crate::risk::RiskConfig;
pub use live::{API_KEY_ENV, API_SECRET_ENV, ExchangeConfig, credentials};
pub use load::{ConfigError, load};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mode: Mode,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub signals: SignalConfig,
    pub orders: OrdersConfig,
    pub risk: RiskConfig,
    pub breaker: BreakerConfig,
    pub gateway: GatewayConfig,
    pub supervisor: SupervisorConfig,
    pub redis: RedisConfig,
    pub shutdown: ShutdownConfig,
    pub exchange: ExchangeConfig,
    pub storage: StorageConfig,
    pub reconcile: ReconcileConfig,
    pub sim: SimConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The built-in simulated exchange.
    Paper,
    /// Binance Spot (or its testnet, or `redline sim-exchange`) at the `[exchange]` URLs.
    Live,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub bind: String,
    pub workers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignalConfig {
    pub max_age_ms: u64,
    pub max_future_skew_ms: u64,
    pub dedup_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    pub retention_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    pub cooldown_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub max_requests_per_second: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorConfig {
    pub max_restarts: u32,
    pub restart_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    pub url: String,
    pub signal_channel: String,
    pub event_channel: String,
    /// Operator commands (emergency stop, resume). Unauthenticated, like all of pub/sub:
    /// whoever can PUBLISH to Redis can stop (and resume) trading.
    pub control_channel: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// How long requests in flight may take to finish after SIGTERM/SIGINT.
    pub timeout_secs: u64,
    /// Cancel every open order on the way out (open orders otherwise stay on the venue).
    pub cancel_open_orders: bool,
}

/// Reconciliation with the venue (see `actors::reconciler`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Seconds between periodic runs (0 = only at start-up, after reconnects and on demand).
    pub interval_secs: u64,
    /// Orders resting longer than this are cancelled (0 = never).
    pub stale_order_secs: u64,
    /// An UNKNOWN order the venue has never heard of is resolved as not sent after this long.
    pub unknown_grace_secs: u64,
    /// What to do with open orders at the venue that redline did not place.
    pub external_orders: ExternalOrders,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExternalOrders {
    /// Track them (their fills count in the positions).
    Adopt,
    /// Cancel them.
    Cancel,
}

/// Where what must survive a restart lives: the journal and the emergency-stop latch.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory of the embedded SQLite journal (`journal.db`) and the emergency-stop latch
    /// (`emergency-stop.json`), created if missing.
    pub data_dir: String,
    /// A `postgres://` URL to journal to PostgreSQL instead (`DATABASE_URL` sets it too);
    /// empty = SQLite under `data_dir`.
    pub database_url: String,
}

impl StorageConfig {
    /// What `journal::Store::open` takes: the PostgreSQL URL, or the SQLite file's path.
    pub fn journal_target(&self) -> String {
        if self.database_url.is_empty() {
            std::path::Path::new(&self.data_dir)
                .join("journal.db")
                .to_string_lossy()
                .into_owned()
        } else {
            self.database_url.clone()
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    pub seed: u64,
    pub taker_fee_rate: Decimal,
    pub maker_fee_rate: Decimal,
    pub volatility: Decimal,
    pub feed_interval_ms: u64,
    pub book_levels: u32,
    pub level_spacing: Decimal,
    pub retained_orders: usize,
    pub exchange_info: String,
    pub balances: BTreeMap<String, Decimal>,
    pub markets: BTreeMap<String, SimMarketConfig>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimMarketConfig {
    pub start_price: Decimal,
    pub level_qty: Decimal,
}

impl Config {
    /// Every problem with the configuration, so an operator fixes them in one go.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, msg: String| {
            if !ok {
                problems.push(msg);
            }
        };
        check(
            self.http.bind.parse::<SocketAddr>().is_ok(),
            format!(
                "http.bind: {:?} is not an address like 127.0.0.1:8080",
                self.http.bind
            ),
        );
        check(
            self.log
                .level
                .parse::<tracing_subscriber::EnvFilter>()
                .is_ok(),
            format!("log.level: {:?} is not a tracing filter", self.log.level),
        );
        check(
            self.signals.max_age_ms > 0,
            "signals.max_age_ms: must be > 0".into(),
        );
        check(
            self.signals.dedup_window_secs.saturating_mul(1000)
                >= self.signals.max_age_ms.saturating_add(self.signals.max_future_skew_ms),
            "signals.dedup_window_secs: must cover signals.max_age_ms + signals.max_future_skew_ms, \
             or a replayed signal could be accepted again"
                .into(),
        );
        for problem in self.risk.validate(None) {
            check(false, problem.to_string());
        }
        check(
            self.breaker.failure_threshold > 0,
            "breaker.failure_threshold: must be > 0".into(),
        );
        check(
            self.supervisor.max_restarts > 0,
            "supervisor.max_restarts: must be > 0".into(),
        );
        check(
            self.supervisor.restart_window_secs > 0,
            "supervisor.restart_window_secs: must be > 0".into(),
        );
        for (name, value) in [
            ("redis.signal_channel", &self.redis.signal_channel),
            ("redis.event_channel", &self.redis.event_channel),
            ("redis.control_channel", &self.redis.control_channel),
        ] {
            check(!value.is_empty(), format!("{name}: must not be empty"));
        }
        check(
            self.redis.control_channel != self.redis.signal_channel
                && self.redis.control_channel != self.redis.event_channel,
            "redis.control_channel: must differ from the signal and event channels".into(),
        );
        if !self.redis.url.is_empty() {
            check(
                redis::IntoConnectionInfo::into_connection_info(self.redis.url.as_str()).is_ok(),
                format!("redis.url: {:?} is not a redis:// URL", self.redis.url),
            );
        }
        let sim = &self.sim;
        for (name, rate) in [
            ("sim.taker_fee_rate", sim.taker_fee_rate),
            ("sim.maker_fee_rate", sim.maker_fee_rate),
        ] {
            check(
                (Decimal::ZERO..Decimal::ONE).contains(&rate),
                format!("{name}: must be in [0, 1)"),
            );
        }
        check(
            (Decimal::ZERO..Decimal::ONE).contains(&sim.volatility),
            "sim.volatility: must be in [0, 1)".into(),
        );
        check(
            !self.storage.data_dir.is_empty(),
            "storage.data_dir: must not be empty".into(),
        );
        check(
            self.storage.database_url.is_empty()
                || self.storage.database_url.starts_with("postgres://")
                || self.storage.database_url.starts_with("postgresql://"),
            "storage.database_url: must be a postgres:// URL (or empty for SQLite)".into(),
        );
        check(sim.book_levels > 0, "sim.book_levels: must be > 0".into());
        check(
            sim.retained_orders > 0,
            "sim.retained_orders: must be > 0".into(),
        );
        for (asset, amount) in &sim.balances {
            check(
                *amount >= Decimal::ZERO,
                format!("sim.balances.{asset}: must be >= 0"),
            );
        }
        for (symbol, m) in &sim.markets {
            check(
                m.start_price > Decimal::ZERO,
                format!("sim.markets.{symbol}.start_price: must be > 0"),
            );
            check(
                m.level_qty > Decimal::ZERO,
                format!("sim.markets.{symbol}.level_qty: must be > 0"),
            );
        }
        problems
    }
}
