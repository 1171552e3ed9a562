//! Market data: one combined-stream connection per adapter,
//! `{stream_url}/stream?streams=btcusdt@trade/ethusdt@trade/...` (lower-case names) for every
//! configured symbol. Each trade becomes `ExchangeEvent::Price` (the engine marks positions at the
//! last trade price). `bookTicker` is not subscribed: the engine has no use for the mid yet, and
//! it would multiply the traffic.
//!
//! Reconnects like the user-data stream (backoff, idle timeout, before 24 h, on
//! `serverShutdown`). A market reconnect does not emit `Reconnected` (no order can have been
//! missed); instead the last prices are re-read over REST so that no price stays stale until the
//! next trade.

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::fanout::Fanout;
use super::models::Trade;
use super::parse;
use super::reconnect::{self, Backoff, MAX_CONNECTION_AGE, Read};
use super::rest::Rest;
use crate::domain::Symbol;
use crate::exchange::ExchangeEvent;

pub struct MarketStream {
    /// e.g. `wss://stream.binance.com:9443`.
    pub base_url: String,
    pub symbols: Vec<Symbol>,
    /// For re-reading prices after a reconnect.
    pub rest: Arc<Rest>,
    pub fanout: Arc<Fanout>,
    pub timeout: Duration,
    pub shutdown: watch::Receiver<bool>,
}

/// The combined-stream URL for `symbols`.
pub fn stream_url(base: &str, symbols: &[Symbol]) -> String {
    let streams: Vec<String> = symbols
        .iter()
        .map(|s| format!("{}@trade", s.as_str().to_ascii_lowercase()))
        .collect();
    format!(
        "{}/stream?streams={}",
        base.trim_end_matches('/'),
        streams.join("/")
    )
}

/// What one combined-stream frame means.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Event(ExchangeEvent),
    Shutdown,
    Ignored,
}

/// Reads one combined-stream frame `{"stream":..,"data":{..}}` (raw frames are accepted too).
pub fn parse_frame(text: &str) -> Frame {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        tracing::warn!("unreadable market-stream frame");
        return Frame::Ignored;
    };
    let data = value.get("data").cloned().unwrap_or(value);
    match data.get("e").and_then(Value::as_str) {
        Some("trade") => match serde_json::from_value::<Trade>(data)
            .map_err(|e| e.to_string())
            .and_then(|t| parse::trade_price(&t))
        {
            Ok(event) => Frame::Event(event),
            Err(e) => {
                tracing::warn!(error = %e, "trade event not usable");
                Frame::Ignored
            }
        },
        Some("serverShutdown") => Frame::Shutdown,
        _ => Frame::Ignored,
    }
}

impl MarketStream {
    /// Runs until the adapter shuts down. Does nothing without symbols.
    pub async fn run(mut self) {
        if self.symbols.is_empty() {
            return;
        }
        let url = stream_url(&self.base_url, &self.symbols);
        let mut backoff = Backoff::default();
        let mut first = true;
        loop {
            let socket = tokio::select! {
                s = reconnect::open(&url, self.timeout) => s,
                _ = reconnect::stopped(&mut self.shutdown) => return,
            };
            match socket {
                Err(e) => tracing::warn!(error = %e, "Binance market stream: could not connect"),
                Ok(mut socket) => {
                    tracing::info!(
                        symbols = self.symbols.len(),
                        "connected to Binance market streams"
                    );
                    if !first {
                        self.refresh_prices().await;
                    }
                    backoff.reset();
                    let deadline = tokio::time::sleep(MAX_CONNECTION_AGE);
                    tokio::pin!(deadline);
                    let why = loop {
                        let read = tokio::select! {
                            r = reconnect::read(&mut socket) => r,
                            _ = &mut deadline => break "connection nearing Binance's 24 h limit".to_string(),
                            _ = reconnect::stopped(&mut self.shutdown) => {
                                let _ = socket.close(None).await;
                                return;
                            }
                        };
                        match read {
                            Read::Nothing => {}
                            Read::Gone(why) => break why,
                            Read::Text(text) => match parse_frame(&text) {
                                Frame::Event(e) => self.fanout.publish(e),
                                Frame::Shutdown => break "serverShutdown".to_string(),
                                Frame::Ignored => {}
                            },
                        }
                    };
                    let _ = socket.close(None).await;
                    tracing::warn!(reason = %why, "Binance market stream dropped; reconnecting");
                }
            }
            first = false;
            if !reconnect::pause(backoff.next_delay(), &mut self.shutdown).await {
                return;
            }
        }
    }

    async fn refresh_prices(&self) {
        match super::endpoints::prices(&self.rest, &self.symbols).await {
            Ok(prices) => {
                let now = chrono::Utc::now();
                for (symbol, price) in prices {
                    self.fanout.publish(ExchangeEvent::Price {
                        symbol,
                        price,
                        ts: now,
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not re-read prices after a reconnect"),
        }
    }
}
