//! Loading: embedded defaults, then the operator's file, then the environment.
//!
//! Environment overrides: `REDLINE__HTTP__BIND=127.0.0.1:9000` sets `http.bind`. Segments are
//! lower-cased except below `markets`/`balances`/`max_order_qty` tables, whose keys are symbols
//! or assets. A value that parses as a TOML integer, boolean or array is taken as one; anything
//! else (including decimals, so they stay exact) is a string. `REDIS_URL` sets `redis.url`.

use std::path::Path;

use super::Config;
use crate::exchange::filters::Instruments;

const DEFAULTS: &str = include_str!("../../config/default.toml");
const EMBEDDED_EXCHANGE_INFO: &str = include_str!("../../config/exchange_info.json");
const ENV_PREFIX: &str = "REDLINE__";

/// Everything wrong with a configuration, one problem per line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

/// Loads and validates the configuration. `file` is merged over the defaults; `env` is the
/// process environment (passed in so tests can supply their own).
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table: toml::Table = toml::from_str(DEFAULTS)
        .map_err(|e| ConfigError::one(format!("embedded defaults: {e}")))?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::one(format!("{}: {e}", path.display())))?;
        let overlay: toml::Table = toml::from_str(&text)
            .map_err(|e| ConfigError::one(format!("{}: {e}", path.display())))?;
        merge(&mut table, overlay);
    }
    let env: Vec<(String, String)> = env.into_iter().collect();
    for (key, value) in env.iter().cloned() {
        if let Some(path) = key.strip_prefix(ENV_PREFIX) {
            set_path(&mut table, &segments(path), parse_env_value(&value));
        } else if key == "DATABASE_URL"
            && (value.starts_with("postgres://") || value.starts_with("postgresql://"))
        {
            set_path(
                &mut table,
                &["storage".into(), "database_url".into()],
                toml::Value::String(value),
            );
        } else if key == "REDIS_URL" && !value.is_empty() {
            set_path(
                &mut table,
                &["redis".into(), "url".into()],
                toml::Value::String(value),
            );
        }
    }
    let config: Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::one(e.to_string()))?;
    let mut problems = config.validate();
    problems.extend(config.validate_live(&env));
    match config.instruments() {
        Ok(instruments) => problems.extend(config.cross_check(&instruments)),
        Err(e) => problems.push(e),
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError { problems })
    }
}

impl Config {
    /// The symbols and their filters: the embedded file, or `sim.exchange_info` if set.
    pub fn instruments(&self) -> Result<Instruments, String> {
        let text = self.exchange_info_text()?;
        Instruments::from_exchange_info_json(&text).map_err(|e| format!("sim.exchange_info: {e}"))
    }

    /// The `exchangeInfo` document the instruments come from: the embedded file, or
    /// `sim.exchange_info` if set (the simulator server serves it as `exchangeInfo`).
    pub fn exchange_info_text(&self) -> Result<String, String> {
        if self.sim.exchange_info.is_empty() {
            Ok(EMBEDDED_EXCHANGE_INFO.to_string())
        } else {
            std::fs::read_to_string(&self.sim.exchange_info)
                .map_err(|e| format!("sim.exchange_info: {}: {e}", self.sim.exchange_info))
        }
    }

    /// Problems that need the instrument list: every symbol named in the config must exist.
    fn cross_check(&self, instruments: &Instruments) -> Vec<String> {
        let known = |s: &str| instruments.symbols().any(|k| k.as_str() == s);
        let mut problems = Vec::new();
        let known_fn = |s: &str| known(s);
        for problem in self.risk.validate(Some(&known_fn)) {
            if problem.message.contains("not a configured instrument") {
                problems.push(problem.to_string());
            }
        }
        for s in self.sim.markets.keys() {
            if !known(s) {
                problems.push(format!("sim.markets.{s}: not a configured instrument"));
            }
        }
        for rules in instruments.iter() {
            if !self.sim.markets.contains_key(rules.symbol.as_str()) {
                problems.push(format!(
                    "sim.markets.{}: missing (every instrument needs a start_price and level_qty)",
                    rules.symbol
                ));
            }
        }
        problems
    }
}

/// Tables whose keys are data (symbols, assets), not config field names: keep their case.
const DATA_TABLES: [&str; 4] = ["markets", "balances", "max_order_qty", "min_order_qty"];

fn segments(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for seg in path.split("__") {
        let keep_case = out
            .last()
            .is_some_and(|p| DATA_TABLES.contains(&p.as_str()));
        out.push(if keep_case {
            seg.to_string()
        } else {
            seg.to_ascii_lowercase()
        });
    }
    out
}

fn parse_env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Array(_)),
            ) => v,
            _ => toml::Value::String(raw.to_string()),
        },
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cursor = table;
    for seg in parents {
        let entry = cursor
            .entry(seg.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let Some(next) = entry.as_table_mut() else {
            return;
        };
        cursor = next;
    }
    cursor.insert(last.clone(), value);
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let c = load(None, env(&[])).unwrap();
        assert_eq!(c.http.bind, "127.0.0.1:8080");
        assert_eq!(c.instruments().unwrap().len(), 4);
    }

    #[test]
    fn environment_overrides_any_key_exactly() {
        let c = load(
            None,
            env(&[
                ("REDLINE__HTTP__BIND", "127.0.0.1:9000"),
                ("REDLINE__BREAKER__FAILURE_THRESHOLD", "7"),
                ("REDLINE__SIM__BALANCES__USDT", "123.45"),
                ("REDLINE__RISK__MAX_ORDER_QTY__BTCUSDT", "0.5"),
                ("REDIS_URL", "redis://127.0.0.1:6379"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.http.bind, "127.0.0.1:9000");
        assert_eq!(c.breaker.failure_threshold, 7);
        assert_eq!(c.sim.balances["USDT"], Decimal::from_str("123.45").unwrap());
        assert_eq!(
            c.risk.max_order_qty["BTCUSDT"],
            Decimal::from_str("0.5").unwrap()
        );
        assert_eq!(c.redis.url, "redis://127.0.0.1:6379");
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let err = load(
            None,
            env(&[
                ("REDLINE__HTTP__BIND", "not-an-address"),
                ("REDLINE__BREAKER__FAILURE_THRESHOLD", "0"),
                ("REDLINE__RISK__ALLOWED_SYMBOLS", "[\"NOPE\"]"),
            ]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 3, "{text}");
        assert!(
            text.contains("http.bind")
                && text.contains("failure_threshold")
                && text.contains("NOPE")
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = load(None, env(&[("REDLINE__HTTP__BINDD", "x")])).unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    fn shipped(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(name)
    }

    const KEYS: [(&str, &str); 2] = [
        ("REDLINE_BINANCE_API_KEY", "k"),
        ("REDLINE_BINANCE_API_SECRET", "s"),
    ];

    #[test]
    fn live_mode_without_keys_is_refused_naming_both_variables() {
        let err = load(Some(&shipped("binance-testnet.toml")), env(&[])).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(
            err.problems[0].contains("REDLINE_BINANCE_API_KEY and REDLINE_BINANCE_API_SECRET"),
            "{err}"
        );
    }

    #[test]
    fn shipped_live_configs_load_with_keys() {
        let c = load(Some(&shipped("binance-testnet.toml")), env(&KEYS)).unwrap();
        assert_eq!(c.mode, super::super::Mode::Live);
        assert!(!c.exchange.is_mainnet());
        let c = load(Some(&shipped("local-sim.toml")), env(&KEYS)).unwrap();
        assert_eq!(c.exchange.rest_url, "http://127.0.0.1:9443");
    }

    #[test]
    fn mainnet_needs_the_explicit_real_money_flag() {
        let mut vars = env(&KEYS);
        vars.extend(env(&[
            ("REDLINE__MODE", "live"),
            ("REDLINE__EXCHANGE__REST_URL", "https://api.binance.com"),
        ]));
        let err = load(None, vars.clone()).unwrap_err();
        assert!(
            err.to_string()
                .contains("i_understand_this_trades_real_money"),
            "{err}"
        );
        vars.extend(env(&[(
            "REDLINE__EXCHANGE__I_UNDERSTAND_THIS_TRADES_REAL_MONEY",
            "true",
        )]));
        assert!(load(None, vars).unwrap().exchange.is_mainnet());
    }

    #[test]
    fn live_urls_must_have_the_right_scheme() {
        let mut vars = env(&KEYS);
        vars.extend(env(&[
            ("REDLINE__MODE", "live"),
            (
                "REDLINE__EXCHANGE__WS_API_URL",
                "http://127.0.0.1:9443/ws-api/v3",
            ),
        ]));
        let err = load(None, vars).unwrap_err();
        assert!(err.to_string().contains("exchange.ws_api_url"), "{err}");
    }
}
