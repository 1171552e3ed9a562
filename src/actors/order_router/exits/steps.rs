//! The two steps of keeping an exit: placing one (through the breaker and risk gate like any
//! order) and canceling the resting one (waiting for the venue's answer before the next step).

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::super::lists::ListOutcome;
use super::super::*;
use super::{EXIT_MAX_RETRIES, EXIT_RETRY_DELAY, Exit, ExitRequest, PlanState};
use crate::actors::exchange_gateway::CancelList;
use crate::domain::OrderListReport;

/// The venue's answer to canceling an exit.
enum CancelAnswer {
    Order(Result<Result<OrderReport, ExchangeError>, actix::MailboxError>),
    List(Result<Result<OrderListReport, ExchangeError>, actix::MailboxError>),
}

impl OrderRouter {
    /// Sends the exit and records what the venue answered.
    pub(super) fn place_exit(
        &mut self,
        entry: ClientOrderId,
        request: ExitRequest,
        ctx: &mut Context<Self>,
    ) {
        let Some(plan) = self.exits.get_mut(&entry) else {
            return;
        };
        plan.busy = true;
        plan.seq += 1;
        let strategy = plan.strategy.clone();
        let (exit, stop, take) = match &request {
            ExitRequest::Oco(o) => {
                let legs = vec![
                    o.below.client_order_id.clone(),
                    o.above.client_order_id.clone(),
                ];
                let (stop, take) = if o.side == Side::Sell {
                    (o.below.stop_price, o.above.price)
                } else {
                    (o.above.stop_price, o.below.price)
                };
                let exit = Exit {
                    id: o.list_client_order_id.clone(),
                    is_list: true,
                    legs,
                    quantity: o.quantity,
                };
                (exit, stop, take)
            }
            ExitRequest::Single(r) => {
                let exit = Exit {
                    id: r.client_order_id.clone(),
                    is_list: false,
                    legs: vec![r.client_order_id.clone()],
                    quantity: r.quantity,
                };
                (exit, r.stop_price, r.price)
            }
        };
        for leg in &exit.legs {
            self.exit_legs.insert(leg.clone(), entry.clone());
        }
        // Ok(placed or maybe placed), Err((reason, retry))
        let sent: ResponseActFuture<Self, Result<(), (String, bool)>> = match request {
            ExitRequest::Oco(oco) => Box::pin(self.send_oco(oco, strategy, true).map(
                |outcome, _, _| match outcome {
                    ListOutcome::Submitted(_) | ListOutcome::Unknown(_) => Ok(()),
                    ListOutcome::NotSent(o) => Err((why(&o), o.is_retryable())),
                    ListOutcome::ExchangeFailed { error } => Err((error, true)),
                    ListOutcome::ExchangeRejected { code, message, .. } => {
                        Err((format!("{message} ({code})"), false))
                    }
                    ListOutcome::Invalid(e) => Err((e.to_string(), false)),
                },
            )),
            ExitRequest::Single(order) => Box::pin(self.place(order, None, strategy, true).map(
                |outcome, _, _| match outcome {
                    SubmitOutcome::Submitted(_) | SubmitOutcome::Unknown(_) => Ok(()),
                    other => Err((why(&other), other.is_retryable())),
                },
            )),
        };
        ctx.spawn(sent.map(move |answer, act, ctx| {
            let Some(plan) = act.exits.get_mut(&entry) else {
                return;
            };
            plan.busy = false;
            let replaced = plan.replacing.take();
            match answer {
                Ok(()) => {
                    plan.retries = 0;
                    let ts = act.clock.now();
                    let text = |p: Option<Price>| p.map(|p| p.0.normalize().to_string());
                    let event = EngineEvent::ExitPlaced {
                        entry: entry.to_string(),
                        exit: exit.id.to_string(),
                        legs: exit.legs.iter().map(ToString::to_string).collect(),
                        quantity: exit.quantity.0.normalize().to_string(),
                        stop_loss: text(stop),
                        take_profit: text(take),
                        replaced: replaced.map(|r| r.to_string()),
                        ts,
                    };
                    tracing::info!(%entry, exit = %exit.id, quantity = %exit.quantity.0, "exit placed");
                    plan.current = Some(exit);
                    act.events.publish_with(|| event);
                    act.sync_exit(entry, ctx);
                }
                Err((reason, retry)) => {
                    for leg in &exit.legs {
                        act.exit_legs.remove(leg);
                    }
                    act.exit_failed(&entry, reason);
                    act.retry_later(entry, retry, ctx);
                }
            }
        }));
    }

    pub(super) fn exit_failed(&mut self, entry: &ClientOrderId, reason: String) {
        tracing::error!(%entry, %reason, "protective exit not placed");
        let ts = self.clock.now();
        self.events.publish_with(|| EngineEvent::ExitFailed {
            entry: entry.to_string(),
            reason,
            ts,
        });
    }

    pub(super) fn retry_later(
        &mut self,
        entry: ClientOrderId,
        retry: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(plan) = self.exits.get_mut(&entry) else {
            return;
        };
        if !retry || plan.retries >= EXIT_MAX_RETRIES {
            return; // the next fill of the entry tries again
        }
        plan.retries += 1;
        ctx.run_later(EXIT_RETRY_DELAY, move |act, ctx| act.sync_exit(entry, ctx));
    }

    /// Cancels the resting exit, waits for the venue, then syncs again.
    pub(super) fn cancel_then_sync(
        &mut self,
        entry: ClientOrderId,
        why: &'static str,
        ctx: &mut Context<Self>,
    ) {
        let Some(cancel) = self.start_cancel(&entry, why) else {
            return;
        };
        ctx.spawn(cancel.into_actor(self).map(move |answer, act, ctx| {
            let ok = act.finish_cancel(&entry, answer);
            if ok {
                act.sync_exit(entry, ctx);
            } else {
                act.retry_later(entry, true, ctx);
            }
        }));
    }

    /// Sends the cancel of the entry's resting exit (counted by the message throttle).
    fn start_cancel(
        &mut self,
        entry: &ClientOrderId,
        why: &'static str,
    ) -> Option<BoxFuture<'static, CancelAnswer>> {
        let plan = self.exits.get_mut(entry)?;
        let current = plan.current.clone()?;
        if plan.busy {
            return None;
        }
        plan.busy = true;
        let symbol = plan.symbol.clone();
        if why == "replace" {
            plan.replacing = Some(current.id.clone());
        }
        self.risk.do_send(MessageSent);
        let ts = self.clock.now();
        self.events.publish_with(|| EngineEvent::ExitCanceled {
            entry: entry.to_string(),
            exit: current.id.to_string(),
            why,
            ts,
        });
        let gateway = self.gateway.clone();
        Some(if current.is_list {
            let msg = CancelList {
                symbol,
                list_client_order_id: current.id,
            };
            async move { CancelAnswer::List(gateway.send(msg).await) }.boxed()
        } else {
            let msg = Cancel {
                symbol,
                id: current.id,
            };
            async move { CancelAnswer::Order(gateway.send(msg).await) }.boxed()
        })
    }

    /// Folds a cancel answer in; `false` if the venue did not answer with the exit's state
    /// (the caller tries again later; a fill meanwhile shows in the legs' own reports).
    fn finish_cancel(&mut self, entry: &ClientOrderId, answer: CancelAnswer) -> bool {
        let ok = match answer {
            CancelAnswer::Order(Ok(Ok(report))) => {
                self.apply_report(&report);
                true
            }
            CancelAnswer::List(Ok(Ok(report))) => {
                self.apply_list(&report);
                true
            }
            CancelAnswer::Order(Ok(Err(e))) | CancelAnswer::List(Ok(Err(e))) => {
                tracing::warn!(%entry, error = %e, "exit cancel failed");
                false
            }
            CancelAnswer::Order(Err(e)) | CancelAnswer::List(Err(e)) => {
                tracing::warn!(%entry, error = %e, "exit cancel not delivered");
                false
            }
        };
        if let Some(plan) = self.exits.get_mut(entry) {
            plan.busy = false;
        }
        self.settle_current(entry);
        ok
    }

    /// Before a close: every exit on `symbol` stops being maintained and the resting ones are
    /// canceled; the future ends when the venue has answered each cancel.
    pub(in crate::actors::order_router) fn cancel_exits_for_close(
        &mut self,
        symbol: &Symbol,
    ) -> ResponseActFuture<Self, ()> {
        let entries: Vec<ClientOrderId> = self
            .exits
            .iter()
            .filter(|(_, p)| p.symbol == *symbol)
            .map(|(id, _)| id.clone())
            .collect();
        let mut cancels = Vec::new();
        for entry in entries.clone() {
            if let Some(plan) = self.exits.get_mut(&entry) {
                plan.state = PlanState::Closing;
            }
            if let Some(cancel) = self.start_cancel(&entry, "close") {
                cancels.push(cancel.map(move |answer| (entry, answer)));
            }
        }
        let all = futures_util::future::join_all(cancels);
        Box::pin(all.into_actor(self).map(move |answers, act, _| {
            for (entry, answer) in answers {
                act.finish_cancel(&entry, answer);
            }
            for entry in &entries {
                act.forget_plan(entry);
            }
        }))
    }
}

/// `reason: detail` of an outcome that placed nothing.
pub(super) fn why(outcome: &SubmitOutcome) -> String {
    outcome
        .reason()
        .map(|(r, d)| format!("{r}: {d}"))
        .unwrap_or_else(|| outcome.status().to_string())
}
