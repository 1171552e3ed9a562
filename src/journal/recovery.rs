//! Rebuilding the engine's state from the journal at start-up: every order it ever recorded
//! (with the trade ids already applied, so a fill is never applied twice), every position, and
//! the trading state. Orders that were sent but never answered come back as UNKNOWN and are
//! resolved by query, never re-sent.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::{EntryKind, JournalError, Store, StoredEntry};
use crate::domain::{ClientOrderId, Fill, Order, OrderStatus, Position, Symbol};

/// Entries read per page.
const PAGE: i64 = 10_000;

/// The state the journal describes.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every order, in its last recorded state.
    pub orders: HashMap<ClientOrderId, Order>,
    /// Every position, in its last recorded state.
    pub positions: HashMap<Symbol, Position>,
    /// The last trading state recorded (`active`, `reducing`, `halted`) and its reason.
    pub trading_state: Option<(String, String)>,
    /// Entries read.
    pub entries: u64,
    /// The last sequence number read.
    pub last_seq: i64,
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
        for order in r.orders.values_mut() {
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
                let mut order: Order = serde_json::from_value(payload["order"].clone())
                    .map_err(|err| corrupt("order", err))?;
                if let Some(previous) = self.orders.remove(&order.client_order_id) {
                    order.applied_trade_ids = previous.applied_trade_ids;
                }
                self.orders.insert(order.client_order_id.clone(), order);
            }
            (EntryKind::Fill, "fill_applied") => {
                let fill: Fill = serde_json::from_value(payload["fill"].clone())
                    .map_err(|err| corrupt("fill", err))?;
                if let Some(order) = self.orders.get_mut(&fill.client_order_id)
                    && !order.applied_trade_ids.contains(&fill.trade_id)
                {
                    order.applied_trade_ids.push(fill.trade_id);
                }
            }
            (EntryKind::PositionChange, "position_updated") => {
                let position: Position = serde_json::from_value(payload["position"].clone())
                    .map_err(|err| corrupt("position", err))?;
                self.positions.insert(position.symbol.clone(), position);
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
