//! Live mode: connects the Binance adapter, takes the configured symbols' filters from the
//! venue's exchangeInfo, and starts the engine on them.

use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use crate::clock::SharedClock;
use crate::config::{self, Config};
use crate::domain::Symbol;
use crate::exchange::binance::signing::Credentials;
use crate::exchange::binance::{BinanceExchange, BinanceSettings};
use crate::exchange::filters::{ExchangeInfo, Instruments};

impl Engine {
    /// Starts the engine in the configured mode, with its journal (`storage`): paper on the
    /// built-in simulated exchange; live connects to the venue first (credentials from the
    /// environment) and fails with a message saying what is wrong (unreachable, keys refused,
    /// a symbol the venue does not list, an unreadable journal).
    pub async fn launch(config: Config, clock: SharedClock) -> Result<Self, String> {
        match config.mode {
            config::Mode::Paper => {
                let instruments = Arc::new(config.instruments()?);
                let sim = super::paper_venue(&config, &instruments)?;
                let exchange = Arc::new(sim.clone());
                Self::assemble_with_journal(config, clock, instruments, exchange, Some(sim)).await
            }
            config::Mode::Live => {
                let credentials = config::credentials(std::env::vars())?;
                Self::start_live(config, clock, credentials).await
            }
        }
    }

    /// Live mode against the `[exchange]` URLs with `credentials`.
    pub async fn start_live(
        config: Config,
        clock: SharedClock,
        credentials: Credentials,
    ) -> Result<Self, String> {
        let ex = &config.exchange;
        let symbols = ex
            .symbols
            .iter()
            .map(|s| Symbol::new(s).map_err(|e| format!("exchange.symbols: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let settings = BinanceSettings {
            rest_url: ex.rest_url.clone(),
            ws_api_url: ex.ws_api_url.clone(),
            stream_url: ex.stream_url.clone(),
            credentials,
            recv_window_ms: ex.recv_window_ms,
            request_timeout: Duration::from_millis(ex.request_timeout_ms),
            symbols: symbols.clone(),
            time_sync_interval: Duration::from_secs(ex.time_sync_interval_secs),
        };
        let (exchange, info) = BinanceExchange::connect(settings)
            .await
            .map_err(|e| format!("connecting to {}: {e}", ex.rest_url))?;
        let instruments = instruments_for(&info, &symbols)?;
        tracing::info!(venue = %ex.rest_url, symbols = symbols.len(), "connected to the venue");
        Self::assemble_with_journal(
            config,
            clock,
            Arc::new(instruments),
            Arc::new(exchange),
            None,
        )
        .await
    }
}

/// The configured symbols' rules from the venue's exchangeInfo; every symbol must be listed.
fn instruments_for(info: &ExchangeInfo, symbols: &[Symbol]) -> Result<Instruments, String> {
    let mut wanted = info.clone();
    wanted
        .symbols
        .retain(|s| symbols.iter().any(|w| w.as_str() == s.symbol));
    let missing: Vec<&str> = symbols
        .iter()
        .filter(|w| !wanted.symbols.iter().any(|s| s.symbol == w.as_str()))
        .map(|w| w.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "exchange.symbols: the venue does not list {}",
            missing.join(", ")
        ));
    }
    Instruments::from_exchange_info(&wanted).map_err(|e| format!("venue exchangeInfo: {e}"))
}
