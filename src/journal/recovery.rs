//! Rebuilding the engine's state from the journal at start-up: every order it ever recorded
//! (with the trade ids already applied, so a fill is never applied twice), every position, and
//! the trading state. Orders that were sent but never answered come back as UNKNOWN and are
//! resolved by query, never re-sent.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::{EntryKind, JournalError, Store, StoredEntry};
use crate::domain::{ClientOrderId, Fill, Order, OrderStatus, Position, Symbol};
use crate::exchange::filters::Instruments;

/// Entries read per page.
const PAGE: i64 = 10_000;

/// The state the journal describes.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every order, in its last recorded state.
    pub orders: HashMap<ClientOrderId, Order>,
    /// Every fill the engine applied, in the order it applied them. Positions are rebuilt by
    /// replaying these (not from position snapshots), so a position always agrees with the
    /// trade ids marked applied, whatever batch a crash interrupted.
    pub fills: Vec<Fill>,
    /// The last recorded position snapshot per symbol (for marks; not for quantities).
    pub positions: HashMap<Symbol, Position>,
    /// The last trading day the risk gate started, and its starting equity.
    pub risk_day: Option<(chrono::NaiveDate, rust_decimal::Decimal)>,
    /// Strategies paused by the consecutive-loss breaker and not resumed since, with when.
    pub paused_strategies: HashMap<String, DateTime<Utc>>,
    /// The last trading state recorded (`active`, `reducing`, `halted`) and its reason.
    pub trading_state: Option<(String, String)>,
    /// Entries read.
    pub entries: u64,
    /// The last sequence number read.
    pub last_seq: i64,
    /// (symbol, trade id) of every fill in `fills`, so a fill journaled twice counts once.
    seen_trades: std::collections::HashSet<(Symbol, u64)>,
}

/// An order's last recorded state among `entries` (all about that order, oldest first).
pub fn last_order_state(entries: &[StoredEntry]) -> Option<Order> {
    entries.iter().rev().find_map(|e| {
        let p = &e.entry.payload;
        (p.get("type").and_then(|t| t.as_str()) == Some("order_updated"))
            .then(|| serde_json::from_value(p["order"].clone()).ok())
            .flatten()
    })
}

impl Recovered {
    /// Orders that got their first fill on `day` (the risk gate's trades per day).
    pub fn trades_on(&self, day: chrono::NaiveDate) -> u32 {
        let mut first_fill: HashMap<&ClientOrderId, DateTime<Utc>> = HashMap::new();
        for fill in &self.fills {
            first_fill.entry(&fill.client_order_id).or_insert(fill.ts);
        }
        let n = first_fill
            .values()
            .filter(|ts| ts.date_naive() == day)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Keeps only the trading state (paper mode: its venue starts empty each run).
    pub fn only_trading_state(self) -> Self {
        Self {
            trading_state: self.trading_state,
            ..Self::default()
        }
    }

    /// Every position, rebuilt by replaying the applied fills in order on top of empty
    /// positions for `instruments` (marked at the last recorded price). A fill for a symbol no
    /// longer configured is reported, not applied.
    pub fn rebuild_positions(&self, instruments: &Instruments) -> Vec<Position> {
        let mut positions: HashMap<Symbol, Position> = HashMap::new();
        for fill in &self.fills {
            let Some(rules) = instruments.get(&fill.symbol) else {
                tracing::error!(symbol = %fill.symbol, trade_id = fill.trade_id, "journaled fill for a symbol no longer configured; not applied");
                continue;
            };
            let position = positions.entry(fill.symbol.clone()).or_insert_with(|| {
                Position::new(
                    rules.symbol.clone(),
                    rules.base_asset.clone(),
                    rules.quote_asset.clone(),
                )
            });
            if let Err(e) = position.apply_fill(fill) {
                tracing::error!(error = %e, trade_id = fill.trade_id, "journaled fill could not be applied");
            }
        }
        for (symbol, position) in positions.iter_mut() {
            if let Some(price) = self.positions.get(symbol).and_then(|p| p.last_price) {
                position.mark(price);
            }
        }
        positions.into_values().collect()
    }

    /// Reads the whole journal. A row that cannot be understood stops recovery with its
    /// sequence number: trading on a state the engine only partly knows is worse than not
    /// trading.
    pub async fn load(store: &Store, now: DateTime<Utc>) -> Result<Self, JournalError> {
        let mut r = Recovered::default();
        loop {
            let page = store.read_after(r.last_seq, PAGE).await?;
            let Some(last) = page.last() else { break };
            r.last_seq = last.seq;
            for e in &page {
                r.apply(e)?;
            }
        }
        // Trade ids are attached after the whole journal is read: a fill may be journaled
        // before the order record it belongs to.
        let mut applied: HashMap<ClientOrderId, Vec<u64>> = HashMap::new();
        for fill in &r.fills {
            applied
                .entry(fill.client_order_id.clone())
                .or_default()
                .push(fill.trade_id);
        }
        for order in r.orders.values_mut() {
            if let Some(ids) = applied.remove(&order.client_order_id) {
                order.applied_trade_ids = ids;
            }
            if order.status == OrderStatus::PendingNew {
                // Recorded as about to be sent; whether it left is unknown. Resolved by query.
                order.status = OrderStatus::Unknown;
                order.reason = Some("the engine stopped before the venue answered".into());
                order.updated_at = now;
            }
        }
        Ok(r)
    }

    fn apply(&mut self, e: &StoredEntry) -> Result<(), JournalError> {
        self.entries += 1;
        let corrupt = |what: &str, err: serde_json::Error| JournalError::Corrupt {
            seq: e.seq,
            message: format!("{what}: {err}"),
        };
        let payload = &e.entry.payload;
        let event = payload.get("type").and_then(|t| t.as_str()).unwrap_or("");
        match (e.entry.kind, event) {
            (EntryKind::Ack | EntryKind::Rejection | EntryKind::Cancel, "order_updated") => {
                let order: Order = serde_json::from_value(payload["order"].clone())
                    .map_err(|err| corrupt("order", err))?;
                self.orders.insert(order.client_order_id.clone(), order);
            }
            (EntryKind::Fill, "fill_applied") => {
                let fill: Fill = serde_json::from_value(payload["fill"].clone())
                    .map_err(|err| corrupt("fill", err))?;
                if self
                    .seen_trades
                    .insert((fill.symbol.clone(), fill.trade_id))
                {
                    self.fills.push(fill);
                }
            }
            (EntryKind::PositionChange, "position_updated") => {
                let position: Position = serde_json::from_value(payload["position"].clone())
                    .map_err(|err| corrupt("position", err))?;
                self.positions.insert(position.symbol.clone(), position);
            }
            (EntryKind::ControlAction, "risk_day_started") => {
                let day = payload["day"].as_str().and_then(|d| d.parse().ok());
                let equity: Option<rust_decimal::Decimal> =
                    serde_json::from_value(payload["start_equity"].clone()).ok();
                if let (Some(day), Some(equity)) = (day, equity) {
                    self.risk_day = Some((day, equity));
                }
            }
            (EntryKind::ControlAction, "strategy_paused") => {
                if let Some(strategy) = payload["strategy"].as_str() {
                    self.paused_strategies
                        .insert(strategy.to_string(), e.entry.ts);
                }
            }
            (EntryKind::ControlAction, "strategy_resumed") => {
                if let Some(strategy) = payload["strategy"].as_str() {
                    self.paused_strategies.remove(strategy);
                }
            }
            (EntryKind::ControlAction, "trading_state_changed") => {
                let field = |k: &str| payload[k].as_str().unwrap_or_default().to_string();
                self.trading_state = Some((field("state"), field("reason")));
            }
            _ => {}
        }
        Ok(())
    }
}
