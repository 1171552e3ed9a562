//! OCO order lists (Binance's `POST /api/v3/orderList/oco`): placement, the one-cancels-the-other
//! rule, and cancel.
//!
//! # Placement
//! Shape first (-1158 "Order type not supported in OCO.", -1168 "At least one OCO order must be
//! contingent.", -1165/-1166/-1196..-1199 for a leg on the wrong side), then the prices against
//! the last price P (-2010 "The relationship of the prices for the orders is not correct."):
//! sell: limit leg's price (TAKE_PROFIT: its stop price) > P > stop-loss leg's stop price; buy:
//! the mirror. Then each leg is admitted like a single order (filters, LIMIT_MAKER would take,
//! stop would trigger immediately, duplicate ids). The list reserves once: a sell its quantity
//! of base, a buy `qty ×` the higher of its legs' limit prices; the reservation moves to
//! whichever leg starts working. Legs are created below first, then above (as Binance numbers
//! them), and the list is pushed as `EXEC_STARTED` / `EXECUTING`.
//!
//! # One cancels the other
//! When a leg triggers, or starts filling (a resting limit leg crossed by the price), the other
//! leg is EXPIRED first (Binance's expiry reason `OCO_TRIGGER`), then the working leg's report,
//! then the list as `ALL_DONE` / `ALL_DONE`. Whatever of the working leg is left keeps working
//! as a plain order (a partly filled stop-limit rests on the book).
//!
//! # Cancel
//! Canceling the list, or either leg by its own id, cancels both legs (CANCELED) and ends the
//! list `ALL_DONE`.

use chrono::{DateTime, Utc};

use super::order::{bad_symbol, overflow, rejected};
use super::venue::{EventSink, Venue, reserve};
use super::views::{OrderChange, SimUpdate};
use crate::domain::{
    ClientOrderId, ContingencyType, ListOrderStatus, ListStatusType, OcoLeg, OcoRequest,
    OrderListReport, OrderStatus, OrderType, Price, Side, Symbol,
};
use crate::exchange::{
    CODE_CANCEL_REJECTED, CODE_NEW_ORDER_REJECTED, CODE_NO_SUCH_ORDER, ExchangeError, ExchangeEvent,
};

/// Binance's code for a leg type an OCO does not take.
const CODE_OCO_ORDER_TYPE: i64 = -1158;
/// Binance's code for two non-contingent legs.
const CODE_OCO_BOTH_LIMIT: i64 = -1168;

/// An order list as the venue keeps it.
pub(super) struct ListRecord {
    pub list_client_order_id: ClientOrderId,
    pub symbol: Symbol,
    /// Exchange order ids of the legs: below, then above.
    pub legs: [u64; 2],
    /// One leg worked (or the list was canceled): the list no longer acts.
    pub done: bool,
    /// Time of the latest change.
    pub updated: DateTime<Utc>,
}

impl ListRecord {
    fn other(&self, leg: u64) -> u64 {
        if self.legs[0] == leg {
            self.legs[1]
        } else {
            self.legs[0]
        }
    }
}

/// Take-profit side of an OCO: LIMIT_MAKER or TAKE_PROFIT(_LIMIT).
fn is_limit_leg(t: OrderType) -> bool {
    matches!(
        t,
        OrderType::LimitMaker | OrderType::TakeProfit | OrderType::TakeProfitLimit
    )
}

fn is_stop_leg(t: OrderType) -> bool {
    matches!(t, OrderType::StopLoss | OrderType::StopLossLimit)
}

/// Checks the legs' types and positions, with Binance's codes and messages.
fn check_shape(oco: &OcoRequest) -> Result<(), ExchangeError> {
    let (above, below) = (oco.above.order_type, oco.below.order_type);
    if [above, below]
        .iter()
        .any(|&t| !is_limit_leg(t) && !is_stop_leg(t))
    {
        return Err(rejected(
            CODE_OCO_ORDER_TYPE,
            "Order type not supported in OCO.",
        ));
    }
    if is_limit_leg(above) && is_limit_leg(below) {
        return Err(rejected(
            CODE_OCO_BOTH_LIMIT,
            "At least one OCO order must be contingent.",
        ));
    }
    let wrong = match oco.side {
        Side::Sell if is_stop_leg(above) => {
            Some((-1197, "A stop loss order in a sell OCO must be below."))
        }
        Side::Sell if below == OrderType::LimitMaker => {
            Some((-1166, "A limit order in a sell OCO must be above."))
        }
        Side::Sell if is_limit_leg(below) => {
            Some((-1199, "A take profit order in a sell OCO must be above."))
        }
        Side::Buy if above == OrderType::LimitMaker => {
            Some((-1165, "A limit order in a buy OCO must be below."))
        }
        Side::Buy if is_limit_leg(above) => {
            Some((-1198, "A take profit order in a buy OCO must be below."))
        }
        Side::Buy if is_stop_leg(below) => {
            Some((-1196, "A stop loss order in a buy OCO must be above."))
        }
        _ => None,
    };
    match wrong {
        Some((code, message)) => Err(rejected(code, message)),
        None => Ok(()),
    }
}

/// Checks the legs' prices around the last price: sell limit > last > stop, buy the mirror.
/// A trailing leg sent without a stop price has nothing to compare.
fn check_prices(oco: &OcoRequest, last: Price) -> Result<(), ExchangeError> {
    let (limit_leg, stop_leg): (&OcoLeg, &OcoLeg) = match oco.side {
        Side::Sell => (&oco.above, &oco.below),
        Side::Buy => (&oco.below, &oco.above),
    };
    let limit_ref = match limit_leg.order_type {
        OrderType::TakeProfit => limit_leg.stop_price,
        _ => limit_leg.price,
    };
    let above_market = |p: Option<Price>| p.is_none_or(|p| p > last);
    let below_market = |p: Option<Price>| p.is_none_or(|p| p < last);
    let ok = match oco.side {
        Side::Sell => above_market(limit_ref) && below_market(stop_leg.stop_price),
        Side::Buy => below_market(limit_ref) && above_market(stop_leg.stop_price),
    };
    if ok {
        Ok(())
    } else {
        Err(rejected(
            CODE_NEW_ORDER_REJECTED,
            "The relationship of the prices for the orders is not correct.",
        ))
    }
}

impl Venue {
    /// Validates and places an OCO. A rejection changes nothing.
    pub fn submit_oco(
        &mut self,
        oco: OcoRequest,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderListReport, ExchangeError> {
        let market = self.markets.get(&oco.symbol).ok_or_else(bad_symbol)?;
        if !market.rules.trading {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Market is closed."));
        }
        check_shape(&oco)?;
        let duplicate_list = market
            .lists_by_client
            .get(&oco.list_client_order_id)
            .and_then(|id| self.lists.get(id))
            .is_some_and(|l| !l.done);
        if duplicate_list || oco.above.client_order_id == oco.below.client_order_id {
            return Err(rejected(CODE_NEW_ORDER_REJECTED, "Duplicate order sent."));
        }
        check_prices(&oco, market.book.price())?;
        let mut below = self.admit(oco.leg_request(&oco.below))?;
        let mut above = self.admit(oco.leg_request(&oco.above))?;
        let need = below.need.max(above.need);
        reserve(&mut self.account, &below.lock_asset, need)?;
        let list_id = self.next_list_id;
        self.next_list_id += 1;
        // The whole reservation sits with the below leg until a leg starts working.
        (below.need, above.need) = (need, rust_decimal::Decimal::ZERO);
        let below_id = self.open_record(below, Some(list_id), now);
        let above_id = self.open_record(above, Some(list_id), now);
        self.lists.insert(
            list_id,
            ListRecord {
                list_client_order_id: oco.list_client_order_id.clone(),
                symbol: oco.symbol.clone(),
                legs: [below_id, above_id],
                done: false,
                updated: now,
            },
        );
        if let Some(m) = self.markets.get_mut(&oco.symbol) {
            m.lists_by_client.insert(oco.list_client_order_id, list_id);
        }
        // Neither leg can fill or trigger on arrival (admission refused those); a limit-maker
        // leg goes on the book.
        let mut outcome = self.start(below_id, now);
        outcome = outcome.and(self.start(above_id, now));
        for id in [below_id, above_id] {
            self.announce(id, OrderChange::Submitted, &[], sink);
        }
        let report = self
            .list_report(
                list_id,
                ListStatusType::ExecStarted,
                ListOrderStatus::Executing,
            )
            .ok_or_else(overflow)?;
        publish_list(&report, sink);
        outcome.map(|()| report)
    }

    /// Cancels an executing order list by its client id.
    pub fn cancel_order_list(
        &mut self,
        symbol: &Symbol,
        list_client_order_id: &ClientOrderId,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderListReport, ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        let list_id = market
            .lists_by_client
            .get(list_client_order_id)
            .copied()
            .filter(|id| self.lists.get(id).is_some_and(|l| !l.done))
            .ok_or_else(|| rejected(CODE_CANCEL_REJECTED, "Unknown order sent."))?;
        self.cancel_list_by_id(list_id, None, now, sink)
    }

    /// The list's latest state.
    pub fn order_list(
        &self,
        symbol: &Symbol,
        list_client_order_id: &ClientOrderId,
    ) -> Result<OrderListReport, ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        let missing = || rejected(CODE_NO_SUCH_ORDER, "Order list does not exist.");
        let id = *market
            .lists_by_client
            .get(list_client_order_id)
            .ok_or_else(missing)?;
        let done = self.lists.get(&id).ok_or_else(missing)?.done;
        let (kind, status) = if done {
            (ListStatusType::AllDone, ListOrderStatus::AllDone)
        } else {
            (ListStatusType::ExecStarted, ListOrderStatus::Executing)
        };
        self.list_report(id, kind, status).ok_or_else(missing)
    }

    /// Cancels both legs of list `list_id` and ends it; `cancel_id` is the cancel request's
    /// own client id, for the legs' detailed updates.
    pub(super) fn cancel_list_by_id(
        &mut self,
        list_id: u64,
        cancel_id: Option<&ClientOrderId>,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<OrderListReport, ExchangeError> {
        let list = self.lists.get_mut(&list_id).ok_or_else(overflow)?;
        list.done = true;
        list.updated = now;
        let legs = list.legs;
        let mut outcome = Ok(());
        for leg in legs {
            if !self.orders.get(&leg).is_some_and(|r| r.status.is_open()) {
                continue;
            }
            let (_, closed) = self.close_open(leg, OrderStatus::Canceled, now)?;
            outcome = outcome.and(closed);
            let change = OrderChange::Canceled {
                cancel_id: cancel_id.cloned(),
            };
            self.announce(leg, change, &[], sink);
            self.retire(leg);
        }
        let report = self
            .list_report(list_id, ListStatusType::AllDone, ListOrderStatus::AllDone)
            .ok_or_else(overflow)?;
        publish_list(&report, sink);
        outcome.map(|()| report)
    }

    /// If order `active` is a leg of an executing list, ends the list's other leg (EXPIRED,
    /// pushed) and moves the list's reservation to `active`, which is about to work. Returns
    /// the list id, for `publish_list_done` once `active`'s own report is out.
    pub(super) fn break_list(
        &mut self,
        active: u64,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Option<u64> {
        let list_id = self.orders.get(&active)?.list_id?;
        let list = self.lists.get_mut(&list_id).filter(|l| !l.done)?;
        list.done = true;
        list.updated = now;
        let other = list.other(active);
        let moved = self
            .orders
            .get_mut(&other)
            .map_or(rust_decimal::Decimal::ZERO, |r| {
                std::mem::take(&mut r.locked)
            });
        if let Some(rec) = self.orders.get_mut(&active) {
            rec.locked += moved;
        }
        if self.orders.get(&other).is_some_and(|r| r.status.is_open())
            && self.close_open(other, OrderStatus::Expired, now).is_ok()
        {
            self.announce(other, OrderChange::Expired, &[], sink);
            self.retire(other);
        }
        Some(list_id)
    }

    /// Pushes list `list_id` as `ALL_DONE`.
    pub(super) fn publish_list_done(&self, list_id: u64, sink: &mut impl EventSink) {
        if !sink.active() && !sink.detailed() {
            return;
        }
        let done = self.list_report(list_id, ListStatusType::AllDone, ListOrderStatus::AllDone);
        if let Some(report) = done {
            publish_list(&report, sink);
        }
    }

    pub(super) fn list_report(
        &self,
        list_id: u64,
        list_status_type: ListStatusType,
        list_order_status: ListOrderStatus,
    ) -> Option<OrderListReport> {
        let list = self.lists.get(&list_id)?;
        Some(OrderListReport {
            order_list_id: list_id,
            list_client_order_id: list.list_client_order_id.clone(),
            symbol: list.symbol.clone(),
            contingency_type: ContingencyType::Oco,
            list_status_type,
            list_order_status,
            orders: list
                .legs
                .iter()
                .filter_map(|id| self.orders.get(id))
                .map(|r| r.report(Vec::new()))
                .collect(),
            ts: list.updated,
        })
    }
}

/// Pushes a list's state to both kinds of listeners.
fn publish_list(report: &OrderListReport, sink: &mut impl EventSink) {
    if sink.active() {
        sink.publish(ExchangeEvent::OrderList(report.clone()));
    }
    if sink.detailed() {
        sink.update(SimUpdate::List(report.clone()));
    }
}
