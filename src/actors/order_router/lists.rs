//! OCO order lists placed by hand (`POST /v1/order-lists/oco`). A list is checked like its two
//! legs would be (each through the symbol's rules, both through the risk gate under one breaker
//! permit), recorded as two orders (PENDING_NEW) before it is sent, sent as one list, and then
//! tracked: the legs by their own reports like any order, the list by its `listStatus`.

use serde::Serialize;
use utoipa::ToSchema;

use super::sending::gate;
use super::*;
use crate::actors::exchange_gateway::{CancelList, SubmitOco};
use crate::domain::{ListOrderStatus, OcoLeg, OcoRequest, OrderListReport};
use crate::risk::CheckRequest;

/// One leg of a manual OCO; an id is generated when absent.
#[derive(Debug, Clone)]
pub struct OcoLegInput {
    pub client_order_id: Option<ClientOrderId>,
    pub order_type: OrderType,
    pub price: Option<Price>,
    pub stop_price: Option<Price>,
    pub trailing_delta: Option<u32>,
    pub time_in_force: TimeInForce,
}

/// An OCO placed by hand. For a sell, `above` is the limit maker / take profit and `below` the
/// stop loss; a buy is the mirror image (Binance's `orderList/oco`).
#[derive(Message, Debug, Clone)]
#[rtype(result = "ListOutcome")]
pub struct PlaceOco {
    pub symbol: Symbol,
    pub side: Side,
    pub quantity: Qty,
    pub list_client_order_id: Option<ClientOrderId>,
    pub above: OcoLegInput,
    pub below: OcoLegInput,
}

#[derive(Message)]
#[rtype(result = "Option<OrderListView>")]
pub struct GetOrderList(pub ClientOrderId);

#[derive(Message)]
#[rtype(result = "Result<OrderListView, CancelError>")]
pub struct CancelOrderList(pub ClientOrderId);

/// An order list as the engine tracks it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderListView {
    #[schema(value_type = String)]
    pub list_client_order_id: ClientOrderId,
    #[schema(value_type = String)]
    pub symbol: Symbol,
    /// The venue's id, once it answered.
    pub order_list_id: Option<u64>,
    /// `EXECUTING` / `ALL_DONE` / `REJECT`; `None` until the venue answers.
    pub list_order_status: Option<ListOrderStatus>,
    /// The legs, below first.
    pub orders: Vec<Order>,
}

/// What became of a manual OCO.
#[derive(Debug)]
pub enum ListOutcome {
    Submitted(Box<OrderListView>),
    Invalid(DomainError),
    /// Not sent: the breaker, the risk gate or MAX_NUM_ORDERS said no (as for one order).
    NotSent(SubmitOutcome),
    /// The venue definitely refused the list; both legs are REJECTED.
    ExchangeRejected {
        list: Box<OrderListView>,
        code: i64,
        message: String,
    },
    /// The venue could not be reached; nothing was placed.
    ExchangeFailed {
        error: String,
    },
    /// The venue did not confirm either way; the legs are UNKNOWN until queries resolve them.
    Unknown(Box<OrderListView>),
}

/// What the router remembers about a list it placed.
pub(super) struct TrackedList {
    symbol: Symbol,
    order_list_id: Option<u64>,
    status: Option<ListOrderStatus>,
    /// Below, then above.
    legs: [ClientOrderId; 2],
}

type ListFuture = ResponseActFuture<OrderRouter, ListOutcome>;

fn ready(outcome: ListOutcome) -> ListFuture {
    Box::pin(actix::fut::ready(outcome))
}

impl OrderRouter {
    /// An id given by hand, or a fresh one; refused if reserved for signals or in use.
    fn manual_id(
        &mut self,
        given: Option<ClientOrderId>,
        field: &'static str,
    ) -> Result<ClientOrderId, DomainError> {
        match given {
            Some(id) if id.is_signal_derived() => Err(DomainError::invalid(
                field,
                "must not start with \"rl-\" (reserved for orders made from signals)",
            )),
            Some(id) if self.id_taken(&id) || self.lists.contains_key(&id) => Err(
                DomainError::invalid(field, "is already used by another order or list"),
            ),
            Some(id) => Ok(id),
            None => self.next_manual_id(),
        }
    }

    /// Builds and checks the list; nothing is recorded yet.
    fn prepare_oco(&mut self, msg: PlaceOco) -> Result<OcoRequest, DomainError> {
        let instruments = Arc::clone(&self.instruments);
        let rules = instruments.get(&msg.symbol).ok_or_else(|| {
            DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", msg.symbol),
            )
        })?;
        let list_client_order_id =
            self.manual_id(msg.list_client_order_id, "list_client_order_id")?;
        let mut leg = |input: OcoLegInput, field: &'static str| {
            Ok::<_, DomainError>(OcoLeg {
                client_order_id: self.manual_id(input.client_order_id, field)?,
                order_type: input.order_type,
                price: input.price,
                stop_price: input.stop_price,
                trailing_delta: input.trailing_delta,
                time_in_force: input.time_in_force,
            })
        };
        let above = leg(msg.above, "above.client_order_id")?;
        let below = leg(msg.below, "below.client_order_id")?;
        if above.client_order_id == below.client_order_id {
            return Err(DomainError::invalid(
                "below.client_order_id",
                "must differ from the above leg's",
            ));
        }
        let oco = OcoRequest {
            list_client_order_id,
            symbol: msg.symbol,
            side: msg.side,
            quantity: msg.quantity,
            above,
            below,
        };
        let last = self.market.last_price(&oco.symbol);
        for (leg, name) in [(&oco.above, "above"), (&oco.below, "below")] {
            intake::check_rules(&oco.leg_request(leg), rules, last)
                .map_err(|e| DomainError::invalid(name, format!("{}: {}", e.field, e.message)))?;
        }
        Ok(oco)
    }

    pub(super) fn on_oco(&mut self, msg: PlaceOco) -> ListFuture {
        let oco = match self.prepare_oco(msg) {
            Ok(oco) => oco,
            Err(e) => {
                self.stats.invalid += 1;
                return ready(ListOutcome::Invalid(e));
            }
        };
        self.send_oco(oco, None, false)
    }

    /// Places a checked OCO: MAX_NUM_ORDERS, the breaker and the risk gate (the second leg
    /// sharing the first's quantity), then both legs recorded (PENDING_NEW) and the list sent.
    pub(super) fn send_oco(
        &mut self,
        oco: OcoRequest,
        strategy: Option<String>,
        allow_duplicate: bool,
    ) -> ListFuture {
        if let Err(refusal) = self.check_open_orders(&oco.symbol, 2) {
            self.stats.refused += 1;
            return ready(ListOutcome::NotSent(SubmitOutcome::Refused(refusal)));
        }
        let legs = [oco.leg_request(&oco.below), oco.leg_request(&oco.above)];
        for leg in &legs {
            self.reserved.insert(leg.client_order_id.clone());
        }
        let checks = gate(
            self.breaker.clone(),
            self.risk.clone(),
            oco_checks(&legs, strategy.clone(), allow_duplicate),
        );
        Box::pin(checks.into_actor(self).then(move |checked, act, _| {
            for leg in &legs {
                act.reserved.remove(&leg.client_order_id);
            }
            if let Err(outcome) = checked {
                if matches!(outcome, SubmitOutcome::Refused(_)) {
                    act.stats.refused += 1;
                }
                return ready(ListOutcome::NotSent(outcome));
            }
            let now = act.clock.now();
            for leg in &legs {
                let order = Order::new(leg, None, strategy.clone(), now);
                act.publish_order(&order);
                act.orders.insert(leg.client_order_id.clone(), order);
                act.live
                    .entry(leg.symbol.clone())
                    .or_default()
                    .insert(leg.client_order_id.clone());
                act.stats.orders_sent += 1;
            }
            let list_id = oco.list_client_order_id.clone();
            let tracked = TrackedList {
                symbol: oco.symbol.clone(),
                order_list_id: None,
                status: None,
                legs: [
                    legs[0].client_order_id.clone(),
                    legs[1].client_order_id.clone(),
                ],
            };
            act.lists.insert(list_id.clone(), tracked);
            // As for single orders: the intent is committed to the journal before the list
            // leaves; if it cannot be, the list is not sent.
            let (journal, gateway) = (act.journal.clone(), act.gateway.clone());
            let intent = Entry::new(now, EntryKind::OrderIntent, &oco)
                .order(&list_id)
                .symbol(&oco.symbol)
                .by("engine");
            let sent = async move {
                if let Err(e) = commit(journal.as_ref(), intent).await {
                    return Err(ExchangeError::Connectivity(format!(
                        "not sent: the journal could not record the order list: {e}"
                    )));
                }
                gateway
                    .send(SubmitOco(oco))
                    .await
                    .unwrap_or_else(|e| Err(ExchangeError::UnknownOutcome(format!("gateway: {e}"))))
            };
            Box::pin(
                sent.into_actor(act)
                    .map(move |answer, act, ctx| act.on_oco_submitted(list_id, Ok(answer), ctx)),
            )
        }))
    }

    /// Folds the venue's answer to an OCO into its legs.
    fn on_oco_submitted(
        &mut self,
        list_id: ClientOrderId,
        answer: Result<Result<OrderListReport, ExchangeError>, actix::MailboxError>,
        ctx: &mut Context<Self>,
    ) -> ListOutcome {
        let error = match answer {
            Ok(Ok(report)) => {
                self.apply_list(&report);
                return self.list_view(&list_id).map_or(
                    ListOutcome::ExchangeFailed {
                        error: "order list lost".into(),
                    },
                    |v| ListOutcome::Submitted(Box::new(v)),
                );
            }
            Ok(Err(e)) => e,
            Err(e) => ExchangeError::UnknownOutcome(format!("gateway: {e}")),
        };
        let legs = match self.lists.get_mut(&list_id) {
            Some(l) => {
                if matches!(error, ExchangeError::Rejected { .. }) {
                    // Binance's listOrderStatus for a list whose placement failed.
                    l.status = Some(ListOrderStatus::Reject);
                }
                l.legs.clone()
            }
            None => {
                return ListOutcome::ExchangeFailed {
                    error: "order list lost".into(),
                };
            }
        };
        let now = self.clock.now();
        let (status, reason) = match &error {
            ExchangeError::Rejected { code, message } => {
                (OrderStatus::Rejected, format!("{message} ({code})"))
            }
            ExchangeError::UnknownOutcome(_) => (OrderStatus::Unknown, error.to_string()),
            _ => {
                // Never reached the venue: forget the list and its legs, and release what
                // the risk gate reserved for them.
                for id in &legs {
                    self.orders.remove(id);
                    self.risk.do_send(OrderDone(id.clone()));
                }
                self.lists.remove(&list_id);
                return ListOutcome::ExchangeFailed {
                    error: error.to_string(),
                };
            }
        };
        for id in &legs {
            let Some(order) = self.orders.get_mut(id) else {
                continue;
            };
            if order.status != OrderStatus::PendingNew {
                continue; // the venue already reported on it: trust the reports
            }
            order.status = status;
            order.reason = Some(reason.clone());
            order.updated_at = now;
            let order = order.clone();
            self.publish_order(&order);
            if status == OrderStatus::Unknown {
                self.resolve_unknown(id.clone(), 0, ctx);
            } else {
                self.risk.do_send(OrderDone(id.clone()));
                self.terminal_order.push_back((now, id.clone()));
            }
        }
        let Some(view) = self.list_view(&list_id).map(Box::new) else {
            return ListOutcome::ExchangeFailed {
                error: "order list lost".into(),
            };
        };
        match error {
            ExchangeError::Rejected { code, message } => ListOutcome::ExchangeRejected {
                list: view,
                code,
                message,
            },
            _ => ListOutcome::Unknown(view),
        }
    }

    /// Folds a list report (an answer or a pushed `listStatus`) into the list and its legs.
    pub(super) fn apply_list(&mut self, report: &OrderListReport) {
        for leg in &report.orders {
            self.apply_report(leg);
        }
        if let Some(list) = self.lists.get_mut(&report.list_client_order_id) {
            list.order_list_id = Some(report.order_list_id);
            list.status = Some(report.list_order_status);
        }
    }

    pub(super) fn list_view(&self, id: &ClientOrderId) -> Option<OrderListView> {
        let list = self.lists.get(id)?;
        Some(OrderListView {
            list_client_order_id: id.clone(),
            symbol: list.symbol.clone(),
            order_list_id: list.order_list_id,
            list_order_status: list.status,
            orders: list
                .legs
                .iter()
                .filter_map(|leg| self.orders.get(leg).cloned())
                .collect(),
        })
    }
}

/// The risk checks of an OCO's two legs: the second shares its quantity with the first.
pub(super) fn oco_checks(
    legs: &[OrderRequest; 2],
    strategy: Option<String>,
    allow_duplicate: bool,
) -> Vec<CheckRequest> {
    vec![
        CheckRequest {
            order: legs[0].clone(),
            strategy: strategy.clone(),
            allow_duplicate,
            shares_with: None,
        },
        CheckRequest {
            order: legs[1].clone(),
            strategy,
            allow_duplicate,
            shares_with: Some(legs[0].client_order_id.clone()),
        },
    ]
}

impl Handler<PlaceOco> for OrderRouter {
    type Result = ResponseActFuture<Self, ListOutcome>;

    fn handle(&mut self, msg: PlaceOco, _: &mut Context<Self>) -> Self::Result {
        self.on_oco(msg)
    }
}

impl Handler<GetOrderList> for OrderRouter {
    type Result = Option<OrderListView>;

    fn handle(&mut self, msg: GetOrderList, _: &mut Context<Self>) -> Self::Result {
        self.list_view(&msg.0)
    }
}

impl Handler<CancelOrderList> for OrderRouter {
    type Result = ResponseActFuture<Self, Result<OrderListView, CancelError>>;

    fn handle(&mut self, msg: CancelOrderList, _: &mut Context<Self>) -> Self::Result {
        let id = msg.0;
        let symbol = match self.lists.get(&id) {
            None => return Box::pin(actix::fut::ready(Err(CancelError::NotFound))),
            Some(l) => l.symbol.clone(),
        };
        let sent = self.gateway.send(CancelList {
            symbol,
            list_client_order_id: id.clone(),
        });
        Box::pin(sent.into_actor(self).map(move |res, act, _| {
            match res {
                Ok(Ok(report)) => act.apply_list(&report),
                Ok(Err(e)) => return Err(CancelError::Exchange(e)),
                Err(e) => {
                    return Err(CancelError::Exchange(ExchangeError::UnknownOutcome(
                        e.to_string(),
                    )));
                }
            }
            act.list_view(&id).ok_or(CancelError::NotFound)
        }))
    }
}
