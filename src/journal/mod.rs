//! The journal: an append-only record of everything the engine decided and learned — signals,
//! risk decisions, order intents, venue answers, fills, cancels, position changes, limit
//! changes and control actions, each with who and when.
//!
//! - `store`: the database behind it (SQLite file by default, PostgreSQL when the URL says so),
//!   versioned migrations embedded in the binary, rows that can never be updated or deleted.
//! - `writer`: the actor that owns the store. Entries are batched into one transaction per
//!   flush (group commit); an order intent is written with [`writer::RecordDurable`], whose
//!   answer comes only once the row is committed, so the intent is on disk before the request
//!   leaves for the exchange.

pub mod events;
pub mod recovery;
pub mod store;
pub mod writer;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use store::Store;
pub use writer::{JournalWriter, Record, RecordDurable};

/// What an entry records. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Signal,
    RiskDecision,
    /// An order about to be sent: written durably before the request leaves.
    OrderIntent,
    /// The venue's answer or pushed report for an order.
    Ack,
    Rejection,
    Fill,
    Cancel,
    PositionChange,
    LimitChange,
    ControlAction,
    /// Something reconciliation found and repaired.
    Discrepancy,
}

impl EntryKind {
    pub const ALL: [EntryKind; 11] = [
        EntryKind::Signal,
        EntryKind::RiskDecision,
        EntryKind::OrderIntent,
        EntryKind::Ack,
        EntryKind::Rejection,
        EntryKind::Fill,
        EntryKind::Cancel,
        EntryKind::PositionChange,
        EntryKind::LimitChange,
        EntryKind::ControlAction,
        EntryKind::Discrepancy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Signal => "signal",
            EntryKind::RiskDecision => "risk_decision",
            EntryKind::OrderIntent => "order_intent",
            EntryKind::Ack => "ack",
            EntryKind::Rejection => "rejection",
            EntryKind::Fill => "fill",
            EntryKind::Cancel => "cancel",
            EntryKind::PositionChange => "position_change",
            EntryKind::LimitChange => "limit_change",
            EntryKind::ControlAction => "control_action",
            EntryKind::Discrepancy => "discrepancy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry to append. `payload` holds the full record (the order, the fill, the decision)
/// as JSON; the other fields are indexed columns for look-ups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub ts: DateTime<Utc>,
    pub kind: EntryKind,
    pub client_order_id: Option<String>,
    pub symbol: Option<String>,
    /// Who caused it: "engine" for the engine's own actions, otherwise the operator or caller.
    pub actor: Option<String>,
    pub payload: serde_json::Value,
}

impl Entry {
    /// An entry with `payload` serialized; a payload that cannot be serialized (never the
    /// case for the engine's own types) is recorded as its error message, not dropped.
    pub fn new(ts: DateTime<Utc>, kind: EntryKind, payload: &impl Serialize) -> Self {
        let payload = serde_json::to_value(payload)
            .unwrap_or_else(|e| serde_json::json!({ "unserializable": e.to_string() }));
        Self {
            ts,
            kind,
            client_order_id: None,
            symbol: None,
            actor: None,
            payload,
        }
    }

    pub fn order(mut self, client_order_id: impl ToString) -> Self {
        self.client_order_id = Some(client_order_id.to_string());
        self
    }

    pub fn symbol(mut self, symbol: impl ToString) -> Self {
        self.symbol = Some(symbol.to_string());
        self
    }

    pub fn by(mut self, actor: impl ToString) -> Self {
        self.actor = Some(actor.to_string());
        self
    }
}

/// An entry as stored, with its sequence number (strictly increasing in append order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: Entry,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum JournalError {
    /// The database could not be opened, migrated or written. Nothing was recorded.
    #[error("journal storage: {0}")]
    Storage(String),
    /// A stored row could not be read back (corrupt or from a newer version).
    #[error("journal row {seq}: {message}")]
    Corrupt { seq: i64, message: String },
    /// The journal actor is gone.
    #[error("journal unavailable")]
    Unavailable,
}

impl From<sqlx::Error> for JournalError {
    fn from(e: sqlx::Error) -> Self {
        JournalError::Storage(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for JournalError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        JournalError::Storage(format!("migration: {e}"))
    }
}
