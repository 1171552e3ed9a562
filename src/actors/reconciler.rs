//! The reconciliation actor: compares what the engine believes with what the venue says, and
//! repairs the difference. It runs at start-up (the engine takes no signal until the first run
//! succeeds), every `reconcile.interval_secs`, after every reconnect of the venue's push
//! stream, and on demand (`POST /v1/reconcile`).
//!
//! One run:
//! - every order open at the venue that the engine does not hold is adopted as external (its
//!   fills then count in the positions), or cancelled if `reconcile.external_orders = "cancel"`;
//! - every order the engine holds open or UNKNOWN is checked: if the venue's filled quantity
//!   differs, or the venue no longer lists it as open, the order is queried and the answer
//!   folded in (missed fills are applied once: fills are keyed by trade id); an UNKNOWN order the
//!   venue has never heard of, older than `reconcile.unknown_grace_secs`, is resolved as not sent;
//! - orders resting longer than `reconcile.stale_order_secs` (if set) are cancelled.
//!
//! Every discrepancy is an event (journaled) and a counter.

use actix::{
    Actor, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, ResponseActFuture,
    WrapFuture,
};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::exchange_gateway::{Cancel, ExchangeGateway, FetchOpenOrders, Query};
use super::messages::VenueUpdate;
use super::order_router::{CancelOrder, ListOrders, OrderRouter, ResolveNotAtVenue};
use crate::clock::SharedClock;
use crate::config::{ExternalOrders, ReconcileConfig};
use crate::domain::{ClientOrderId, OrderReport, OrderStatus};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::{CODE_NO_SUCH_ORDER, ExchangeError};

/// Wait before retrying a start-up reconciliation that failed.
const STARTUP_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs one reconciliation; answers with what it found and did.
#[derive(Message)]
#[rtype(result = "Result<ReconcileReport, String>")]
pub struct Reconcile {
    /// Why: "startup", "interval", "reconnect", "on_demand".
    pub reason: &'static str,
}

/// The last run's report and the counters since start.
#[derive(Message)]
#[rtype(result = "ReconcileStatus")]
pub struct GetReconcileStatus;

/// One thing the venue and the engine disagreed on, and what was done about it.
#[derive(Debug, Clone, Serialize)]
pub struct Discrepancy {
    /// `external_order`, `missed_fill`, `missed_update`, `not_at_venue`, `stale_order`.
    pub kind: &'static str,
    pub client_order_id: String,
    pub symbol: String,
    /// What was done: `adopted`, `cancelled`, `queried`, `resolved_rejected`, `failed: ...`.
    pub action: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    pub reason: &'static str,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub venue_open_orders: usize,
    pub engine_open_orders: usize,
    pub discrepancies: Vec<Discrepancy>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReconcileStatus {
    /// Whether a run has succeeded since start (the engine takes signals only then).
    pub reconciled: bool,
    pub runs: u64,
    pub failures: u64,
    /// Discrepancies found since start, by kind.
    pub discrepancies: HashMap<&'static str, u64>,
    pub last_error: Option<String>,
    pub last_report: Option<ReconcileReport>,
}

pub struct Reconciler {
    settings: ReconcileConfig,
    gateway: Addr<ExchangeGateway>,
    router: Addr<OrderRouter>,
    clock: SharedClock,
    events: EventBus,
    /// Set after the first successful run; the HTTP and Redis intakes refuse signals until then.
    ready: Arc<AtomicBool>,
    running: bool,
    status: ReconcileStatus,
}

impl Reconciler {
    pub fn new(
        settings: ReconcileConfig,
        gateway: Addr<ExchangeGateway>,
        router: Addr<OrderRouter>,
        clock: SharedClock,
        events: EventBus,
        ready: Arc<AtomicBool>,
    ) -> Self {
        Self {
            settings,
            gateway,
            router,
            clock,
            events,
            ready,
            running: false,
            status: ReconcileStatus::default(),
        }
    }

    fn start_up(&mut self, ctx: &mut Context<Self>) {
        let run = self.run("startup");
        ctx.spawn(run.map(|result, act, ctx| {
            if let Err(e) = result {
                tracing::error!(error = %e, "start-up reconciliation failed; no signal is taken until it succeeds; retrying");
                ctx.run_later(STARTUP_RETRY, |act, ctx| act.start_up(ctx));
            } else {
                act.schedule(ctx);
            }
        }));
    }

    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if self.settings.interval_secs == 0 {
            return;
        }
        let every = std::time::Duration::from_secs(self.settings.interval_secs);
        ctx.run_interval(every, |act, ctx| {
            if !act.running {
                ctx.spawn(act.run("interval").map(|_, _, _| ()));
            }
        });
    }

    /// One run, as an actor future (the actor's state is touched only between awaits).
    fn run(
        &mut self,
        reason: &'static str,
    ) -> ResponseActFuture<Self, Result<ReconcileReport, String>> {
        if self.running {
            return Box::pin(actix::fut::ready(Err(
                "a reconciliation is already running".to_string(),
            )));
        }
        self.running = true;
        let started_at = self.clock.now();
        let (gateway, router) = (self.gateway.clone(), self.router.clone());
        let settings = self.settings.clone();
        let now = started_at;
        let work = async move {
            let venue = gateway
                .send(FetchOpenOrders)
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("venue open orders: {e}"))?;
            let held = router
                .send(ListOrders {
                    open_only: false,
                    symbol: None,
                })
                .await
                .map_err(|e| e.to_string())?;
            let held_ids: std::collections::HashSet<ClientOrderId> =
                held.iter().map(|o| o.client_order_id.clone()).collect();
            // In-flight orders (PENDING_NEW) are the submit path's to settle, not ours.
            let engine: Vec<_> = held
                .into_iter()
                .filter(|o| !o.status.is_terminal() && o.status != OrderStatus::PendingNew)
                .collect();
            let venue_by_id: HashMap<&ClientOrderId, &OrderReport> =
                venue.iter().map(|r| (&r.client_order_id, r)).collect();
            let mut found = Vec::new();

            // Orders at the venue the engine does not hold.
            for report in &venue {
                if held_ids.contains(&report.client_order_id) {
                    continue;
                }
                // Not held at all: the router adopts it (or it is cancelled, by config).
                let action = match settings.external_orders {
                    ExternalOrders::Adopt => {
                        router.do_send(VenueUpdate::Report(report.clone()));
                        "adopted".to_string()
                    }
                    ExternalOrders::Cancel => {
                        let cancel = Cancel {
                            symbol: report.symbol.clone(),
                            id: report.client_order_id.clone(),
                        };
                        match gateway.send(cancel).await {
                            Ok(Ok(r)) => {
                                router.do_send(VenueUpdate::Report(r));
                                "cancelled".to_string()
                            }
                            Ok(Err(e)) => format!("failed: {e}"),
                            Err(e) => format!("failed: {e}"),
                        }
                    }
                };
                found.push(Discrepancy {
                    kind: "external_order",
                    client_order_id: report.client_order_id.to_string(),
                    symbol: report.symbol.to_string(),
                    action,
                });
            }

            // Orders the engine holds open or UNKNOWN.
            for order in &engine {
                let at_venue = venue_by_id.get(&order.client_order_id);
                let kind = match at_venue {
                    Some(r)
                        if r.executed_qty == order.filled_quantity && r.status == order.status =>
                    {
                        None
                    }
                    Some(_) => Some("missed_fill"),
                    None => Some("missed_update"),
                };
                let Some(mut kind) = kind else { continue };
                let query = Query {
                    symbol: order.symbol.clone(),
                    id: order.client_order_id.clone(),
                };
                let action = match gateway.send(query).await {
                    Ok(Ok(report)) => {
                        router.do_send(VenueUpdate::Report(report));
                        "queried".to_string()
                    }
                    Ok(Err(ExchangeError::Rejected { code, .. })) if code == CODE_NO_SUCH_ORDER => {
                        kind = "not_at_venue";
                        let grace = Duration::seconds(settings.unknown_grace_secs as i64);
                        if order.status == OrderStatus::Unknown && now - order.updated_at >= grace {
                            router.do_send(ResolveNotAtVenue(order.client_order_id.clone()));
                            "resolved_rejected".to_string()
                        } else {
                            "left_for_next_run".to_string()
                        }
                    }
                    Ok(Err(e)) => format!("failed: {e}"),
                    Err(e) => format!("failed: {e}"),
                };
                found.push(Discrepancy {
                    kind,
                    client_order_id: order.client_order_id.to_string(),
                    symbol: order.symbol.to_string(),
                    action,
                });
            }

            // Orders resting too long.
            if settings.stale_order_secs > 0 {
                let limit = Duration::seconds(settings.stale_order_secs as i64);
                for order in engine.iter().filter(|o| o.status.is_open()) {
                    if now - order.created_at < limit {
                        continue;
                    }
                    let action = match router
                        .send(CancelOrder(order.client_order_id.clone()))
                        .await
                    {
                        Ok(Ok(_)) => "cancelled".to_string(),
                        Ok(Err(e)) => format!("failed: {e}"),
                        Err(e) => format!("failed: {e}"),
                    };
                    found.push(Discrepancy {
                        kind: "stale_order",
                        client_order_id: order.client_order_id.to_string(),
                        symbol: order.symbol.to_string(),
                        action,
                    });
                }
            }
            Ok::<_, String>((venue.len(), engine.len(), found))
        };
        Box::pin(work.into_actor(self).map(move |result, act, _| {
            act.running = false;
            act.status.runs += 1;
            match result {
                Ok((venue_open_orders, engine_open_orders, discrepancies)) => {
                    let report = ReconcileReport {
                        reason,
                        started_at,
                        finished_at: act.clock.now(),
                        venue_open_orders,
                        engine_open_orders,
                        discrepancies,
                    };
                    act.record(&report);
                    if !act.ready.swap(true, Ordering::SeqCst) {
                        tracing::info!("reconciled with the venue; taking signals");
                    }
                    Ok(report)
                }
                Err(e) => {
                    act.status.failures += 1;
                    act.status.last_error = Some(e.clone());
                    Err(e)
                }
            }
        }))
    }

    fn record(&mut self, report: &ReconcileReport) {
        for d in &report.discrepancies {
            *self.status.discrepancies.entry(d.kind).or_default() += 1;
            tracing::warn!(kind = d.kind, id = %d.client_order_id, symbol = %d.symbol, action = %d.action, "reconciliation discrepancy");
            self.events.publish(EngineEvent::Discrepancy {
                kind: d.kind,
                client_order_id: d.client_order_id.clone(),
                symbol: d.symbol.clone(),
                action: d.action.clone(),
                ts: report.finished_at,
            });
        }
        self.events.publish(EngineEvent::Reconciled {
            reason: report.reason,
            discrepancies: report.discrepancies.len(),
            ts: report.finished_at,
        });
        self.status.reconciled = true;
        self.status.last_error = None;
        self.status.last_report = Some(report.clone());
    }
}

impl Actor for Reconciler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.start_up(ctx);
    }
}

impl Handler<Reconcile> for Reconciler {
    type Result = ResponseActFuture<Self, Result<ReconcileReport, String>>;

    fn handle(&mut self, msg: Reconcile, _: &mut Context<Self>) -> Self::Result {
        self.run(msg.reason)
    }
}

impl Handler<GetReconcileStatus> for Reconciler {
    type Result = actix::MessageResult<GetReconcileStatus>;

    fn handle(&mut self, _: GetReconcileStatus, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(self.status.clone())
    }
}
