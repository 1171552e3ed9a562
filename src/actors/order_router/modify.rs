//! Modifying a resting LIMIT order (`PATCH /v1/orders/{id}`): cancel, then replace.
//!
//! # Rules
//! - Only an open (NEW or PARTIALLY_FILLED) LIMIT order can be modified; anything else is a
//!   conflict.
//! - The new order is `<old id>-r<n>` (the next `n`; `-r1` for an id without one) when that
//!   fits Binance's 36 characters, else a fresh manual id (`rlm-...`). It keeps the old
//!   order's symbol, side, time in force and strategy, and takes the new price and quantity.
//! - Quantity: the requested quantity is the order's new *total*. What the old order filled
//!   counts toward it, so the new order is for `requested − filled` (filled as the cancel
//!   confirms it). Without a new quantity the old total is kept, so the new order is for what
//!   was left unfilled.
//! - The new values are checked against the symbol's filters before anything is sent (an
//!   input error names the field). The cancel counts toward the message throttle. Only a
//!   confirmed cancel places the new order, through the breaker and the risk gate like any
//!   order. If the order filled meanwhile (the cancel fails, or leaves nothing to place), the
//!   answer is a conflict carrying the order's state, and nothing is placed.
//! - A bracketed entry keeps its protection: the new order gets the old one's exit plan.

use rust_decimal::Decimal;

use super::*;

/// Cancel-replace of a resting limit order.
#[derive(Message, Debug, Clone)]
#[rtype(result = "ModifyOutcome")]
pub struct ModifyOrder {
    pub client_order_id: ClientOrderId,
    pub price: Option<Price>,
    /// The order's new total quantity (what already filled counts toward it).
    pub quantity: Option<Qty>,
}

#[derive(Debug)]
pub enum ModifyOutcome {
    /// The old order was canceled; `new` is what became of its replacement.
    Replaced {
        old: Box<Order>,
        new: SubmitOutcome,
    },
    Invalid(DomainError),
    NotFound,
    /// Not modifiable (not open, not a limit order, or it filled meanwhile); `order` is its
    /// state. Nothing was placed.
    Conflict {
        detail: String,
        order: Box<Order>,
    },
    /// The cancel failed for a reason other than the order having ended.
    Exchange(ExchangeError),
}

type ModifyFuture = ResponseActFuture<OrderRouter, ModifyOutcome>;

fn ready(outcome: ModifyOutcome) -> ModifyFuture {
    Box::pin(actix::fut::ready(outcome))
}

impl OrderRouter {
    fn on_modify(&mut self, msg: ModifyOrder) -> ModifyFuture {
        let Some(old) = self.orders.get(&msg.client_order_id).cloned() else {
            return ready(ModifyOutcome::NotFound);
        };
        let conflict = |detail: String, old: &Order| {
            ready(ModifyOutcome::Conflict {
                detail,
                order: Box::new(old.clone()),
            })
        };
        if !matches!(old.status, OrderStatus::New | OrderStatus::PartiallyFilled) {
            return conflict(format!("the order is {}", old.status.as_str()), &old);
        }
        if old.order_type != OrderType::Limit {
            return conflict("only LIMIT orders can be modified".into(), &old);
        }
        if msg.price.is_none() && msg.quantity.is_none() {
            return ready(ModifyOutcome::Invalid(DomainError::invalid(
                "price",
                "give a new price, a new quantity, or both",
            )));
        }
        let total = msg.quantity.unwrap_or(old.quantity);
        let request = match self.replacement(&old, msg.price, total, old.filled_quantity) {
            Ok(r) => r,
            Err(e) => return ready(ModifyOutcome::Invalid(e)),
        };
        self.reserved.insert(request.client_order_id.clone());
        self.risk.do_send(MessageSent);
        let cancel = self.gateway.send(Cancel {
            symbol: old.symbol.clone(),
            id: old.client_order_id.clone(),
        });
        let old_id = old.client_order_id.clone();
        Box::pin(cancel.into_actor(self).then(move |answer, act, _| {
            act.reserved.remove(&request.client_order_id);
            let error = match answer {
                Ok(Ok(report)) => {
                    act.apply_report(&report);
                    None
                }
                Ok(Err(e)) => Some(e),
                Err(e) => Some(ExchangeError::UnknownOutcome(e.to_string())),
            };
            let Some(old) = act.orders.get(&old_id).cloned() else {
                return ready(ModifyOutcome::NotFound);
            };
            if let Some(e) = error {
                return if old.status.is_terminal() || matches!(e, ExchangeError::Rejected { .. }) {
                    // Most likely filled meanwhile: nothing is placed; its reports follow.
                    ready(ModifyOutcome::Conflict {
                        detail: format!("the cancel failed ({e}); nothing was placed"),
                        order: Box::new(old),
                    })
                } else {
                    ready(ModifyOutcome::Exchange(e))
                };
            }
            if old.status != OrderStatus::Canceled {
                return ready(ModifyOutcome::Conflict {
                    detail: format!("the order is {}; nothing was placed", old.status.as_str()),
                    order: Box::new(old),
                });
            }
            // What filled up to the cancel counts toward the new total.
            let mut request = request;
            match total.0.checked_sub(old.filled_quantity.0) {
                Some(rest) if rest > Decimal::ZERO => request.quantity = Qty(rest),
                _ => {
                    return ready(ModifyOutcome::Conflict {
                        detail: format!(
                            "{} already filled, which covers the new quantity; nothing was placed",
                            old.filled_quantity.0.normalize()
                        ),
                        order: Box::new(old),
                    });
                }
            }
            let new_id = request.client_order_id.clone();
            act.inherit_exit(&old_id, &new_id);
            let placed = act.place(request, None, old.strategy.clone(), true);
            Box::pin(placed.map(move |new, act, _| {
                if !matches!(new, SubmitOutcome::Submitted(_) | SubmitOutcome::Unknown(_)) {
                    act.exits.remove(&new_id);
                }
                ModifyOutcome::Replaced {
                    old: Box::new(old),
                    new,
                }
            }))
        }))
    }

    /// The replacement order, checked against the symbol's filters, for `total − filled`.
    fn replacement(
        &mut self,
        old: &Order,
        price: Option<Price>,
        total: Qty,
        filled: Qty,
    ) -> Result<OrderRequest, DomainError> {
        let rules = self.instruments.get(&old.symbol).cloned().ok_or_else(|| {
            DomainError::invalid(
                "symbol",
                format!("{} is not a configured instrument", old.symbol),
            )
        })?;
        let price = price
            .or(old.price)
            .ok_or_else(|| DomainError::invalid("price", "is required"))?;
        let rest = total
            .0
            .checked_sub(filled.0)
            .filter(|r| *r > Decimal::ZERO)
            .ok_or_else(|| {
                DomainError::invalid(
                    "quantity",
                    format!(
                        "must be more than the {} already filled",
                        filled.0.normalize()
                    ),
                )
            })?;
        let id = self.replacement_id(&old.client_order_id)?;
        let request = OrderRequest::limit(
            id,
            old.symbol.clone(),
            old.side,
            Qty(rest),
            price,
            old.time_in_force,
        );
        // The total must be on the step too (a quantity error names the field the caller sent).
        rules
            .check_order(
                &OrderRequest {
                    quantity: total,
                    ..request.clone()
                },
                None,
            )
            .map_err(|v| DomainError::invalid(v.field, v.to_string()))?;
        intake::check_rules(&request, &rules, self.market.last_price(&old.symbol))?;
        Ok(request)
    }

    /// `<id>-r<n+1>` (from `-r<n>`, else `-r1`) if it fits and is free, else a manual id.
    fn replacement_id(&mut self, old: &ClientOrderId) -> Result<ClientOrderId, DomainError> {
        let raw = old.as_str();
        let (stem, n) = match raw.rsplit_once("-r") {
            Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (stem, n.parse::<u32>().unwrap_or(0))
            }
            _ => (raw, 0),
        };
        let next = format!("{stem}-r{}", n.saturating_add(1));
        match ClientOrderId::new(&next) {
            Ok(id) if !id.is_signal_derived() && !self.id_taken(&id) => Ok(id),
            _ => self.next_manual_id(),
        }
    }
}

impl Handler<ModifyOrder> for OrderRouter {
    type Result = ResponseActFuture<Self, ModifyOutcome>;

    fn handle(&mut self, msg: ModifyOrder, _: &mut Context<Self>) -> Self::Result {
        self.on_modify(msg)
    }
}
