//! What each engine event becomes in the journal: its kind, the indexed columns, and the full
//! event as the payload (so recovery reads back exactly what was published).

use super::{Entry, EntryKind};
use crate::domain::OrderStatus;
use crate::events::EngineEvent;

/// The journal entry for `event`.
pub fn entry_for(event: &EngineEvent) -> Entry {
    use EngineEvent as E;
    let (kind, ts) = match event {
        E::SignalDecision { ts, .. } => (EntryKind::RiskDecision, *ts),
        E::OrderUpdated { order } => {
            let kind = match order.status {
                OrderStatus::Rejected => EntryKind::Rejection,
                OrderStatus::Canceled | OrderStatus::Expired => EntryKind::Cancel,
                _ => EntryKind::Ack,
            };
            (kind, order.updated_at)
        }
        E::FillApplied { fill } => (EntryKind::Fill, fill.ts),
        E::PositionUpdated { position } => (
            EntryKind::PositionChange,
            position.updated_at.unwrap_or_else(chrono::Utc::now),
        ),
        E::RiskLimitsChanged { ts, .. } => (EntryKind::LimitChange, *ts),
        E::Discrepancy { ts, .. } => (EntryKind::Discrepancy, *ts),
        E::ExitPlaced { ts, .. } => (EntryKind::Ack, *ts),
        E::ExitCanceled { ts, .. } => (EntryKind::Cancel, *ts),
        E::ExitFailed { ts, .. } => (EntryKind::Rejection, *ts),
        E::Reconciled { ts, .. }
        | E::EmergencyStop { ts, .. }
        | E::RiskDayStarted { ts, .. }
        | E::EmergencyStopLifted { ts, .. } => (EntryKind::ControlAction, *ts),
        E::BreakerChanged { ts, .. }
        | E::TradingStateChanged { ts, .. }
        | E::StrategyPaused { ts, .. }
        | E::StrategyResumed { ts, .. }
        | E::ActorRestarted { ts, .. } => (EntryKind::ControlAction, *ts),
    };
    let mut entry = Entry::new(ts, kind, event).by("engine");
    match event {
        E::SignalDecision {
            client_order_id: Some(id),
            ..
        } => entry = entry.order(id),
        E::OrderUpdated { order } => {
            entry = entry.order(&order.client_order_id).symbol(&order.symbol)
        }
        E::FillApplied { fill } => entry = entry.order(&fill.client_order_id).symbol(&fill.symbol),
        E::PositionUpdated { position } => entry = entry.symbol(&position.symbol),
        E::Discrepancy {
            client_order_id,
            symbol,
            ..
        } => entry = entry.order(client_order_id).symbol(symbol),
        E::ExitPlaced { entry: id, .. }
        | E::ExitCanceled { entry: id, .. }
        | E::ExitFailed { entry: id, .. } => entry = entry.order(id),
        E::RiskLimitsChanged { by, .. }
        | E::StrategyResumed { by, .. }
        | E::EmergencyStop { by, .. }
        | E::EmergencyStopLifted { by, .. } => entry = entry.by(by),
        _ => {}
    }
    entry
}
