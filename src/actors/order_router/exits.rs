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

use rust_decimal::Decimal;

use super::*;
use crate::domain::{Fill, OcoLeg, OcoRequest};
use crate::intake::bracket::{self, Bracket, ExitPrices};

mod steps;

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
