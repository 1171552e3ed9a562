//! Protective exits: a buy or sell signal with a `stop_loss` / `take_profit` (or their `_pct`
//! forms) gets an exit once its entry fills, sized to what has filled (see
//! [`crate::intake::bracket`] for prices and quantity).
//!
//! # The exit
//! Both sides given: an OCO on the opposite side, its take-profit leg a LIMIT_MAKER and its
//! stop leg a STOP_LOSS (a long's exit: SELL, LIMIT_MAKER above, STOP_LOSS below). One side
//! given: a single LIMIT_MAKER or STOP_LOSS order. Exits go through MAX_NUM_ORDERS, the
//! breaker and the risk gate like any order, under the entry's strategy; the OCO's second leg
//! is checked as sharing the first's quantity, so both count as reducing the position.
//!
//! # Ids
//! `rlx-<first 20 hex of the entry id>-<n>` for the list (or the single order), and that plus
//! `s` (stop) or `t` (take-profit) for the legs, `n` counting the exits of one entry.
//!
//! # Replacement
//! Each new fill of the entry re-sizes the exit: when the floored quantity differs from what
//! the resting exit covers, the resting exit is canceled, the router waits for the venue's
//! answer, and then places the new one (prices re-computed from the new average fill). Never
//! two exits at once, so the exits never sell more than the entry bought. A quantity too small
//! for the symbol's filters waits for more fills (the smaller exit, if any, stays). One step is
//! in flight per entry; fills arriving meanwhile are picked up when it ends.
//!
//! # The end of an exit
//! An exit leg that fills closes the position: the plan stops (the venue expires the other
//! leg). A `close` signal cancels the symbol's exits first, waits, then sells.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;

use super::lists::ListOutcome;
use super::*;
use crate::actors::exchange_gateway::CancelList;
use crate::domain::{Fill, OcoLeg, OcoRequest, OrderListReport};
use crate::intake::bracket::{self, Bracket, ExitPrices};

/// Re-checks an entry's exit against what has filled (sent by the router to itself).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct SyncExit(pub ClientOrderId);

/// How long to wait before trying again after an exit could not be canceled or placed for a
/// passing reason (breaker open, venue unreachable).
const EXIT_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(2);
/// Tries after a passing failure before the exit waits for the entry's next fill.
const EXIT_MAX_RETRIES: u32 = 5;
/// Prefix of exit ids.
const EXIT_PREFIX: &str = "rlx-";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PlanState {
    /// Keeps the exit sized to the entry's fills.
    Active,
    /// An exit leg filled: the position is being closed by the exit; nothing more is placed.
    Fired,
    /// The position is being closed by the router: the exit is canceled, nothing placed.
    Closing,
}

/// The exit the venue holds now.
#[derive(Clone, Debug)]
pub(super) struct Exit {
    /// The OCO's list id, or the single order's id.
    id: ClientOrderId,
    is_list: bool,
    legs: Vec<ClientOrderId>,
    quantity: Qty,
}

/// One entry's protective exit.
pub(super) struct ExitPlan {
    symbol: Symbol,
    /// The entry's side; the exit trades the other way.
    side: Side,
    strategy: Option<String>,
    bracket: Bracket,
    /// What the entry's fills added to the holdings so far (base asset, signed).
    held: Decimal,
    current: Option<Exit>,
    /// Exits placed so far, for ids.
    seq: u32,
    /// A cancel or placement is in flight.
    busy: bool,
    /// The exit canceled to be replaced, until the new one is placed (for the event).
    replacing: Option<ClientOrderId>,
    retries: u32,
    state: PlanState,
}

/// The venue's answer to canceling an exit.
enum CancelAnswer {
    Order(Result<Result<OrderReport, ExchangeError>, actix::MailboxError>),
    List(Result<Result<OrderListReport, ExchangeError>, actix::MailboxError>),
}

/// An exit ready to be placed.
enum ExitRequest {
    Oco(OcoRequest),
    Single(OrderRequest),
}

/// Why an exit is not placed now.
enum NotYet {
    /// Too small for the symbol's filters: wait for more fills.
    Wait,
    Fail(String),
}

impl OrderRouter {
    /// Remembers that the entry `id` (made from `signal`) is to be protected once it fills.
    pub(super) fn plan_exit(&mut self, id: &ClientOrderId, signal: &Signal, side: Side) {
        let Some(bracket) = Bracket::of(signal) else {
            return;
        };
        let plan = ExitPlan {
            symbol: signal.symbol.clone(),
            side,
            strategy: signal.strategy.clone(),
            bracket,
            held: Decimal::ZERO,
            current: None,
            seq: 0,
            busy: false,
            replacing: None,
            retries: 0,
            state: PlanState::Active,
        };
        self.exits.insert(id.clone(), plan);
    }

    /// After a restart of the router: steps that were in flight died with the old context.
    /// An exit whose legs the router still holds open is taken as the resting one (so no
    /// second exit is placed beside it), then every plan is synced.
    pub(super) fn resume_exits(&mut self, ctx: &mut Context<Self>) {
        let entries: Vec<ClientOrderId> = self.exits.keys().cloned().collect();
        for entry in entries {
            let mut legs: Vec<ClientOrderId> = self
                .exit_legs
                .iter()
                .filter(|(leg, e)| {
                    **e == entry && self.orders.get(*leg).is_some_and(|o| o.status.is_open())
                })
                .map(|(leg, _)| leg.clone())
                .collect();
            legs.sort();
            let Some(plan) = self.exits.get_mut(&entry) else {
                continue;
            };
            if plan.busy && plan.current.is_none() && !legs.is_empty() {
                let quantity = legs
                    .first()
                    .and_then(|l| self.orders.get(l))
                    .map(|o| o.quantity)
                    .unwrap_or_default();
                let is_list = legs.len() == 2;
                let id = if is_list {
                    let raw = legs[0].as_str();
                    ClientOrderId::new(&raw[..raw.len() - 1]).unwrap_or_else(|_| legs[0].clone())
                } else {
                    legs[0].clone()
                };
                plan.current = Some(Exit {
                    id,
                    is_list,
                    legs,
                    quantity,
                });
            }
            plan.busy = false;
            self.sync_exit(entry, ctx);
        }
    }

    /// A modified entry's replacement `new` is protected like the order `old` it replaces
    /// (the exit of what `old` filled stays as it is).
    pub(super) fn inherit_exit(&mut self, old: &ClientOrderId, new: &ClientOrderId) {
        let Some(plan) = self.exits.get(old) else {
            return;
        };
        let fresh = ExitPlan {
            symbol: plan.symbol.clone(),
            side: plan.side,
            strategy: plan.strategy.clone(),
            bracket: plan.bracket,
            held: Decimal::ZERO,
            current: None,
            seq: 0,
            busy: false,
            replacing: None,
            retries: 0,
            state: PlanState::Active,
        };
        self.exits.insert(new.clone(), fresh);
    }

    /// Called for each report with its fresh fills: an entry's fills re-size its exit, an
    /// exit leg's fills end the plan.
    pub(super) fn exits_on_fills(&mut self, id: &ClientOrderId, fills: &[Fill], terminal: bool) {
        if let Some(entry) = self.exit_legs.get(id) {
            if let Some(plan) = self.exits.get_mut(entry)
                && !fills.is_empty()
                && plan.state == PlanState::Active
            {
                plan.state = PlanState::Fired;
            }
            return;
        }
        let Some(plan) = self.exits.get_mut(id) else {
            return;
        };
        let base = self
            .instruments
            .get(&plan.symbol)
            .map(|r| Arc::clone(&r.base_asset));
        for fill in fills {
            let change = base.as_deref().and_then(|b| fill.base_change(b));
            plan.held = plan.held.saturating_add(change.unwrap_or_default());
        }
        if !fills.is_empty() {
            plan.retries = 0;
            if let Some(me) = &self.myself {
                me.do_send(SyncExit(id.clone()));
            }
        } else if terminal && plan.held.is_zero() && plan.current.is_none() && !plan.busy {
            self.exits.remove(id); // ended without a fill: nothing to protect
        }
    }

    /// Brings the entry's exit in line with its fills: one step (cancel or place) at a time.
    pub(super) fn sync_exit(&mut self, entry: ClientOrderId, ctx: &mut Context<Self>) {
        self.settle_current(&entry);
        let Some(plan) = self.exits.get(&entry) else {
            return;
        };
        if plan.busy {
            return; // the step in flight syncs again when it ends
        }
        match plan.state {
            PlanState::Fired => return self.forget_plan(&entry),
            PlanState::Closing if plan.current.is_some() => {
                return self.cancel_then_sync(entry, "close", ctx);
            }
            PlanState::Closing => return self.forget_plan(&entry),
            PlanState::Active => {}
        }
        let Some(rules) = self.instruments.get(&plan.symbol) else {
            return;
        };
        let Some(target) = bracket::exit_quantity(plan.held, rules) else {
            return;
        };
        if !target.is_positive() || plan.current.as_ref().map(|c| c.quantity) == Some(target) {
            return;
        }
        let request = match self.build_exit(&entry, target) {
            Ok(r) => r,
            Err(NotYet::Wait) => return,
            Err(NotYet::Fail(reason)) => return self.exit_failed(&entry, reason),
        };
        if self.exits.get(&entry).is_some_and(|p| p.current.is_some()) {
            return self.cancel_then_sync(entry, "replace", ctx);
        }
        self.place_exit(entry, request, ctx);
    }

    /// Drops a plan that has nothing left to do.
    fn forget_plan(&mut self, entry: &ClientOrderId) {
        if let Some(plan) = self.exits.get(entry)
            && !plan.busy
            && plan.current.is_none()
        {
            self.exits.remove(entry);
            self.exit_legs.retain(|_, e| e != entry);
        }
    }

    /// Looks at the resting exit's legs: once all are terminal it is gone, and if any of them
    /// filled the exit has fired.
    fn settle_current(&mut self, entry: &ClientOrderId) {
        let Some(plan) = self.exits.get_mut(entry) else {
            return;
        };
        let Some(current) = &plan.current else {
            return;
        };
        let legs: Vec<&Order> = current
            .legs
            .iter()
            .filter_map(|id| self.orders.get(id))
            .collect();
        if legs.iter().any(|o| o.filled_quantity.is_positive()) && plan.state == PlanState::Active {
            plan.state = PlanState::Fired;
        }
        if legs.iter().all(|o| o.status.is_terminal()) {
            plan.current = None;
        }
    }

    /// The exit for `quantity`, checked against the symbol's rules.
    fn build_exit(&mut self, entry: &ClientOrderId, quantity: Qty) -> Result<ExitRequest, NotYet> {
        let plan = self.exits.get(entry).ok_or(NotYet::Wait)?;
        let rules = self.instruments.get(&plan.symbol).ok_or(NotYet::Wait)?;
        let average = self
            .orders
            .get(entry)
            .and_then(|o| o.average_price)
            .ok_or(NotYet::Wait)?;
        let ExitPrices { stop, take } = plan
            .bracket
            .prices(plan.side, average, rules)
            .ok_or_else(|| NotYet::Fail("the exit prices overflow".into()))?;
        let (list_id, stop_id, take_id) = exit_ids(entry, plan.seq + 1)?;
        let list_id = &list_id;
        let side = plan.side.opposite();
        let stop_leg = stop.map(|p| OcoLeg {
            client_order_id: stop_id,
            order_type: OrderType::StopLoss,
            price: None,
            stop_price: Some(p),
            trailing_delta: None,
            time_in_force: TimeInForce::Gtc,
        });
        let take_leg = take.map(|p| OcoLeg {
            client_order_id: take_id,
            order_type: OrderType::LimitMaker,
            price: Some(p),
            stop_price: None,
            trailing_delta: None,
            time_in_force: TimeInForce::Gtc,
        });
        let oco = |above: OcoLeg, below: OcoLeg| OcoRequest {
            list_client_order_id: list_id.clone(),
            symbol: plan.symbol.clone(),
            side,
            quantity,
            above,
            below,
        };
        let request = match (stop_leg, take_leg) {
            // A sell exit (of a long) has its take-profit above; a buy exit its stop above.
            (Some(s), Some(t)) if side == Side::Sell => ExitRequest::Oco(oco(t, s)),
            (Some(s), Some(t)) => ExitRequest::Oco(oco(s, t)),
            (Some(leg), None) | (None, Some(leg)) => ExitRequest::Single(OrderRequest {
                client_order_id: leg.client_order_id,
                symbol: plan.symbol.clone(),
                side,
                order_type: leg.order_type,
                quantity,
                price: leg.price,
                time_in_force: leg.time_in_force,
                stop_price: leg.stop_price,
                trailing_delta: None,
                quote_quantity: None,
            }),
            (None, None) => return Err(NotYet::Fail("no exit price".into())),
        };
        let last = self.market.last_price(&plan.symbol);
        let legs = match &request {
            ExitRequest::Oco(o) => vec![o.leg_request(&o.above), o.leg_request(&o.below)],
            ExitRequest::Single(r) => vec![r.clone()],
        };
        for leg in &legs {
            match intake::check_rules(leg, rules, last) {
                Ok(()) => {}
                Err(e) if e.field == "quantity" => return Err(NotYet::Wait),
                Err(e) => return Err(NotYet::Fail(e.to_string())),
            }
        }
        Ok(request)
    }

    /// Sends the exit and records what the venue answered.
    fn place_exit(&mut self, entry: ClientOrderId, request: ExitRequest, ctx: &mut Context<Self>) {
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

    fn exit_failed(&mut self, entry: &ClientOrderId, reason: String) {
        tracing::error!(%entry, %reason, "protective exit not placed");
        let ts = self.clock.now();
        self.events.publish_with(|| EngineEvent::ExitFailed {
            entry: entry.to_string(),
            reason,
            ts,
        });
    }

    fn retry_later(&mut self, entry: ClientOrderId, retry: bool, ctx: &mut Context<Self>) {
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
    fn cancel_then_sync(
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
    pub(super) fn cancel_exits_for_close(
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
fn why(outcome: &SubmitOutcome) -> String {
    outcome
        .reason()
        .map(|(r, d)| format!("{r}: {d}"))
        .unwrap_or_else(|| outcome.status().to_string())
}

/// The ids of an entry's `n`th exit: list (or single order), stop leg, take-profit leg.
fn exit_ids(
    entry: &ClientOrderId,
    n: u32,
) -> Result<(ClientOrderId, ClientOrderId, ClientOrderId), NotYet> {
    let tail = entry.as_str().strip_prefix("rl-").unwrap_or(entry.as_str());
    let short: String = tail.chars().take(20).collect();
    let base = format!("{EXIT_PREFIX}{short}-{n}");
    let id = |s: String| ClientOrderId::new(&s).map_err(|e| NotYet::Fail(e.to_string()));
    Ok((
        id(base.clone())?,
        id(format!("{base}s"))?,
        id(format!("{base}t"))?,
    ))
}

impl Handler<SyncExit> for OrderRouter {
    type Result = ();

    fn handle(&mut self, msg: SyncExit, ctx: &mut Context<Self>) {
        self.sync_exit(msg.0, ctx);
    }
}
