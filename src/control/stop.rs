//! The emergency stop and its release, as one function each for every door (HTTP, Redis).

use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde::Serialize;
use std::time::Duration;

use crate::actors::exchange_gateway::{CancelAll, EmergencySubmit, SettleSubmits};
use crate::actors::messages::VenueUpdate;
use crate::actors::position::GetPosition;
use crate::actors::risk_gate::{EngageStop, GetRiskState, ReleaseStop, TradingState};
use crate::domain::{ClientOrderId, Order, OrderReport, OrderStatus, Side, Symbol};
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::exchange::ExchangeError;
use crate::intake;
use crate::journal::writer::commit;
use crate::journal::{Entry, EntryKind};

use super::{STOP_ORDER_PREFIX, StopRecord};

/// How long one venue request of the stop may take before it is reported as failed.
const VENUE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the stop waits for orders sent before it to be answered before cancelling.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a position actor may take to say what it holds before its last snapshot is used.
const POSITION_TIMEOUT: Duration = Duration::from_secs(2);

fn pending_flattens(
    engine: &Engine,
) -> std::sync::MutexGuard<'_, Vec<(Symbol, ClientOrderId, u64)>> {
    engine
        .latch
        .pending_flattens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
pub struct StopRequest {
    pub flatten: bool,
    pub reason: String,
    /// Who: the operator header, else `api`, `cli` or `redis`.
    pub by: String,
}

/// One order the stop cancelled.
#[derive(Debug, Clone, Serialize)]
pub struct CancelledOrder {
    pub symbol: Symbol,
    pub client_order_id: ClientOrderId,
    pub exchange_order_id: u64,
    pub status: OrderStatus,
    /// What had executed before the cancel.
    pub executed_qty: Decimal,
}

/// One closing order the stop sent.
#[derive(Debug, Clone, Serialize)]
pub struct FlattenOrder {
    pub symbol: Symbol,
    pub side: Side,
    pub quantity: Decimal,
    pub status: OrderStatus,
    pub executed_qty: Decimal,
    pub client_order_id: ClientOrderId,
}

/// Something the stop could not do; the operator must look at it.
#[derive(Debug, Clone, Serialize)]
pub struct StopFailure {
    pub symbol: Option<Symbol>,
    /// `persist`, `cancel_all`, `flatten`, or `request` (a stop request it could not fully
    /// read: it stopped anyway, without flattening).
    pub action: &'static str,
    pub error: String,
}

/// The answer to an emergency stop.
#[derive(Debug, Clone, Serialize)]
pub struct StopReport {
    /// Always true: the latch is engaged before anything else is tried.
    pub halted: bool,
    /// A stop was already in force (its record is kept; the sweep ran again).
    pub already_halted: bool,
    pub stop: StopRecord,
    pub cancelled: Vec<CancelledOrder>,
    pub flattened: Vec<FlattenOrder>,
    pub failed: Vec<StopFailure>,
}

/// The answer to a resume.
#[derive(Debug, Clone, Serialize)]
pub struct ResumeReport {
    pub trading_state: TradingState,
    /// The stop that was lifted, if one was in force.
    pub lifted: Option<StopRecord>,
}

/// Longest reason kept; a longer one is cut (a stop is never refused for its wording).
const MAX_REASON_LEN: usize = 256;
/// Longest operator name kept from a door that cannot refuse (Redis).
const MAX_OPERATOR_LEN: usize = 64;

/// A reason as recorded: control characters become spaces, at most 256 bytes, trimmed.
pub fn clean_reason(raw: &str) -> String {
    let mut s: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.len() > MAX_REASON_LEN {
        let mut end = MAX_REASON_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Who, from a door that cannot answer 400: the given name if it is 1-64 printable
/// characters, else `door`.
pub fn operator_or(given: Option<&str>, door: &str) -> String {
    match given {
        Some(v)
            if !v.is_empty() && v.len() <= MAX_OPERATOR_LEN && !v.chars().any(char::is_control) =>
        {
            v.to_string()
        }
        _ => door.to_string(),
    }
}

fn fail(symbol: Option<&Symbol>, action: &'static str, error: impl ToString) -> StopFailure {
    StopFailure {
        symbol: symbol.cloned(),
        action,
        error: error.to_string(),
    }
}

/// Tells the router about reports it should fold in (never awaited: correctness does not
/// depend on its mailbox; the same reports also arrive on the venue's push stream).
fn tell_router(engine: &Engine, reports: &[OrderReport]) {
    for r in reports {
        engine.router.do_send(VenueUpdate::Report(r.clone()));
    }
}

/// Cancels every open order and order list on every configured symbol, concurrently.
pub async fn cancel_everywhere(engine: &Engine) -> (Vec<CancelledOrder>, Vec<StopFailure>) {
    let symbols: Vec<Symbol> = engine
        .instruments
        .iter()
        .map(|r| r.symbol.clone())
        .collect();
    let calls = symbols.iter().map(|symbol| {
        let sent = engine.gateway.send(CancelAll {
            symbol: symbol.clone(),
        });
        async move { (symbol, tokio::time::timeout(VENUE_TIMEOUT, sent).await) }
    });
    let (mut cancelled, mut failed) = (Vec::new(), Vec::new());
    for (symbol, answer) in join_all(calls).await {
        match answer {
            Ok(Ok(Ok(reports))) => {
                tell_router(engine, &reports);
                cancelled.extend(reports.into_iter().map(|r| CancelledOrder {
                    symbol: r.symbol,
                    client_order_id: r.client_order_id,
                    exchange_order_id: r.exchange_order_id,
                    status: r.status,
                    executed_qty: r.executed_qty.0,
                }));
            }
            Ok(Ok(Err(e))) => failed.push(fail(Some(symbol), "cancel_all", e)),
            Ok(Err(e)) => failed.push(fail(Some(symbol), "cancel_all", e)),
            Err(_) => failed.push(fail(Some(symbol), "cancel_all", "no answer in time")),
        }
    }
    (cancelled, failed)
}

/// The id of the stop's closing order for `symbol`, within the venue's 36 characters.
fn stop_order_id(symbol: &Symbol, ms: i64) -> Result<ClientOrderId, String> {
    let mut raw = format!("{STOP_ORDER_PREFIX}{ms}-{symbol}");
    raw.truncate(36);
    ClientOrderId::new(&raw).map_err(|e| e.to_string())
}

/// Closes every position at least one lot step large with a market order, concurrently.
async fn flatten_all(engine: &Engine) -> (Vec<FlattenOrder>, Vec<StopFailure>) {
    let ms = engine.clock.now().timestamp_millis();
    let held = engine.positions.all();
    let calls = held.into_iter().map(|snapshot| async move {
        let symbol = snapshot.symbol.clone();
        let (qty, fill_count) = match engine.positions.actor(&symbol) {
            Some(actor) => {
                match tokio::time::timeout(POSITION_TIMEOUT, actor.send(GetPosition)).await {
                    Ok(Ok(p)) => (p.quantity, p.fill_count),
                    _ => (snapshot.quantity, snapshot.fill_count),
                }
            }
            None => (snapshot.quantity, snapshot.fill_count),
        };
        {
            let mut pending = pending_flattens(engine);
            pending.retain(|(s, _, count)| !(s == &symbol && fill_count > *count));
            if let Some((_, id, _)) = pending.iter().find(|(s, _, _)| s == &symbol) {
                return Err(fail(
                    Some(&symbol),
                    "flatten",
                    format!("{id}, sent by an earlier stop, is not yet reflected in the position; not sending another (retry shortly)"),
                ));
            }
        }
        let Some(rules) = engine.instruments.get(&symbol) else {
            return Err(fail(
                Some(&symbol),
                "flatten",
                "not a configured instrument",
            ));
        };
        let id = stop_order_id(&symbol, ms).map_err(|e| fail(Some(&symbol), "flatten", e))?;
        let Some(request) = intake::order_to_close(id, rules, qty) else {
            return Ok(None); // flat, or less than one step
        };
        let (side, quantity, id) = (
            request.side,
            request.quantity.0,
            request.client_order_id.clone(),
        );
        // Journaled (the order, then its intent, committed) before it is sent, so after a
        // crash the engine knows it may have sold and resolves it by query.
        if let Some(journal) = &engine.journal {
            let now = engine.clock.now();
            let order = Order::new(&request, None, Some("emergency".into()), now);
            engine.events.publish(EngineEvent::OrderUpdated { order });
            let intent = Entry::new(now, EntryKind::OrderIntent, &request)
                .order(&id)
                .symbol(&symbol)
                .by("emergency_stop");
            if let Err(e) = commit(Some(&journal.writer), intent).await {
                // The position matters more than the record: close it anyway, and say so.
                tracing::error!(error = %e, %id, "flatten order not journaled; sending it anyway");
            }
        }
        let sent = engine.gateway.send(EmergencySubmit(request));
        let answer = tokio::time::timeout(VENUE_TIMEOUT, sent).await;
        let maybe_filled = match &answer {
            Ok(Ok(Ok(report))) => report.executed_qty.is_positive(),
            Ok(Ok(Err(e))) => matches!(e, ExchangeError::UnknownOutcome(_)),
            _ => true,
        };
        if maybe_filled {
            pending_flattens(engine).push((symbol.clone(), id.clone(), fill_count));
        }
        match answer {
            Ok(Ok(Ok(report))) => {
                tell_router(engine, std::slice::from_ref(&report));
                Ok(Some(FlattenOrder {
                    symbol,
                    side,
                    quantity,
                    status: report.status,
                    executed_qty: report.executed_qty.0,
                    client_order_id: id,
                }))
            }
            Ok(Ok(Err(e))) => Err(fail(Some(&symbol), "flatten", format!("{id}: {e}"))),
            Ok(Err(e)) => Err(fail(Some(&symbol), "flatten", format!("{id}: {e}"))),
            Err(_) => Err(fail(
                Some(&symbol),
                "flatten",
                format!("{id}: no answer in time; the order's outcome is unknown"),
            )),
        }
    });
    let (mut flattened, mut failed) = (Vec::new(), Vec::new());
    for result in join_all(calls).await {
        match result {
            Ok(Some(order)) => flattened.push(order),
            Ok(None) => {}
            Err(f) => failed.push(f),
        }
    }
    (flattened, failed)
}

/// Halts trading (latched, durably), cancels every open order on every symbol and, with
/// `flatten`, closes every position with market orders. Never fails as a whole: whatever
/// could not be done is listed in `failed`.
pub async fn emergency_stop(engine: &Engine, req: StopRequest) -> StopReport {
    let record = StopRecord {
        reason: req.reason.clone(),
        by: req.by.clone(),
        at: engine.clock.now(),
        flatten: req.flatten,
    };
    // 1. From here on nothing new leaves: the risk gate, router and gateway read this flag.
    let (stop, already_halted, saved) = engine.latch.engage(record);
    tracing::error!(by = %req.by, reason = %req.reason, flatten = req.flatten, already_halted, "EMERGENCY STOP: trading halted");
    let mut failed = Vec::new();
    if let Err(e) = saved {
        tracing::error!(error = %e, "emergency stop not persisted: it will not survive a restart");
        failed.push(fail(None, "persist", e));
    }
    // 2. The gate shows `halted` with the stop's reason. Not awaited: its mailbox may hold a
    // check for every queued signal, and the latch already refuses them all (and
    // `GetRiskState` shows the latch even before this message is handled).
    engine.risk.do_send(EngageStop {
        reason: stop.reason.clone(),
    });
    // 3. Orders already on their way to the venue when the latch engaged land first, so the
    // cancel-all sees them (the sim answers at once; a real venue within its timeout).
    let settle = engine.gateway.send(SettleSubmits {
        within: SETTLE_TIMEOUT,
    });
    match tokio::time::timeout(SETTLE_TIMEOUT + Duration::from_secs(1), settle).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => failed.push(fail(
            None,
            "cancel_all",
            format!("{n} order(s) sent before the stop were still unanswered; they may rest on the venue uncancelled: check open orders"),
        )),
        _ => failed.push(fail(
            None,
            "cancel_all",
            "could not learn whether orders sent before the stop have landed: check open orders",
        )),
    }
    // 4. Cancel everything, then 5. close what is held (cancels first release locked funds).
    // One sweep at a time: two stops at once (HTTP and Redis, or a retry) must not both
    // flatten the same position. The latch above is engaged before waiting here.
    let _sweep = engine.latch.sweep.lock().await;
    let (cancelled, cancel_failures) = cancel_everywhere(engine).await;
    failed.extend(cancel_failures);
    let flattened = if req.flatten {
        let (orders, flatten_failures) = flatten_all(engine).await;
        failed.extend(flatten_failures);
        orders
    } else {
        Vec::new()
    };
    engine.events.publish(EngineEvent::EmergencyStop {
        by: req.by,
        reason: req.reason,
        flatten: req.flatten,
        cancelled: cancelled.len(),
        flattened: flattened.len(),
        failed: failed.len(),
        ts: engine.clock.now(),
    });
    StopReport {
        halted: true,
        already_halted,
        stop,
        cancelled,
        flattened,
        failed,
    }
}

/// Lifts the emergency stop (durably first) and sets trading `active`. Also resumes from an
/// ordinary halt. Fails only if the durable record cannot be removed or the gate is gone; the
/// stop then stays in force.
pub async fn resume(engine: &Engine, reason: &str, by: &str) -> Result<ResumeReport, String> {
    let lifted = engine
        .latch
        .release()
        .map_err(|e| format!("the emergency stop could not be lifted: {e}"))?;
    let reason = format!("resumed by {by}: {reason}");
    tracing::warn!(%by, %reason, was_latched = lifted.is_some(), "trading resumed");
    engine
        .risk
        .send(ReleaseStop {
            reason: reason.clone(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let report = engine
        .risk
        .send(GetRiskState)
        .await
        .map_err(|e| e.to_string())?;
    engine.events.publish(EngineEvent::EmergencyStopLifted {
        by: by.to_string(),
        reason,
        ts: engine.clock.now(),
    });
    Ok(ResumeReport {
        trading_state: report.trading_state,
        lifted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_cleaned_not_refused() {
        assert_eq!(clean_reason("  fat\nfinger "), "fat finger");
        assert_eq!(clean_reason(&"é".repeat(200)).len(), 256);
        assert_eq!(operator_or(Some("al\nice"), "redis"), "redis");
        assert_eq!(operator_or(Some("alice"), "redis"), "alice");
    }

    #[test]
    fn stop_order_ids_fit_the_venue() {
        let long = Symbol::new("ABCDEFGHIJKLMNOPQRST").unwrap();
        let id = stop_order_id(&long, 1_800_000_000_000).unwrap();
        assert!(id.as_str().len() <= 36 && id.as_str().starts_with(STOP_ORDER_PREFIX));
        let btc = Symbol::new("BTCUSDT").unwrap();
        assert_eq!(
            stop_order_id(&btc, 1_800_000_000_000).unwrap().as_str(),
            "rl-stop-1800000000000-BTCUSDT"
        );
    }
}
