//! After an order is sent: venue reports folded in (fills forwarded once, by trade id),
//! queries that resolve UNKNOWN orders and resynchronise after a reconnect, and eviction.

use super::*;
use crate::control::STOP_ORDER_PREFIX;

impl OrderRouter {
    /// Queries one order and folds the answer in.
    pub(super) fn refresh_order(
        &mut self,
        symbol: Symbol,
        id: ClientOrderId,
        ctx: &mut Context<Self>,
    ) {
        let query = self.gateway.send(Query { symbol, id });
        ctx.spawn(query.into_actor(self).map(|res, act, _| match res {
            Ok(Ok(report)) => act.apply_report(&report),
            Ok(Err(e)) => tracing::warn!(error = %e, "order query failed"),
            Err(e) => tracing::warn!(error = %e, "order query not delivered"),
        }));
    }

    /// Queries an UNKNOWN order until the venue says what became of it. Never re-sends it, and
    /// never concludes it failed: "no such order" may only mean the venue has not recorded it
    /// yet (or the request is still on its way), so after the last try it stays UNKNOWN.
    pub(super) fn resolve_unknown(
        &mut self,
        id: ClientOrderId,
        attempt: usize,
        ctx: &mut Context<Self>,
    ) {
        let Some(delay) = UNKNOWN_RETRY_DELAYS_MS.get(attempt) else {
            tracing::error!(%id, "order still UNKNOWN after every query; left for reconciliation");
            return;
        };
        ctx.run_later(std::time::Duration::from_millis(*delay), move |act, ctx| {
            let Some(order) = act
                .orders
                .get(&id)
                .filter(|o| o.status == OrderStatus::Unknown)
            else {
                return;
            };
            let query = Query {
                symbol: order.symbol.clone(),
                id: id.clone(),
            };
            ctx.spawn(act.gateway.send(query).into_actor(act).map(
                move |res, act, ctx| match res {
                    Ok(Ok(report)) => act.apply_report(&report),
                    _ => act.resolve_unknown(id, attempt + 1, ctx),
                },
            ));
        });
    }

    /// Takes over an order the venue reports but this engine does not hold: the emergency
    /// stop's closing orders (`rl-stop-...`, strategy `emergency`) and anything placed outside
    /// redline (strategy `external`). Its fills then reach the positions and the risk gate
    /// like any other, once each. `false` if the report says too little to build an order.
    fn adopt(&mut self, report: &OrderReport) -> bool {
        let strategy = if report
            .client_order_id
            .as_str()
            .starts_with(STOP_ORDER_PREFIX)
        {
            "emergency"
        } else {
            "external"
        };
        let now = self.clock.now();
        if report.status.is_terminal() && now - report.ts > self.settings.order_retention {
            // Most likely an order this engine held and already evicted: adopting it again
            // would apply its fills a second time.
            self.stats.unmatched_reports += 1;
            tracing::warn!(id = %report.client_order_id, "report for an order that ended longer ago than orders are kept; not adopted");
            return false;
        }
        let Some(order) = Order::adopt(report, strategy, now) else {
            self.stats.unmatched_reports += 1;
            tracing::warn!(id = %report.client_order_id, status = report.status.as_str(), "report for an order this engine does not hold, without its terms; left for reconciliation");
            return false;
        };
        self.stats.adopted_orders += 1;
        tracing::warn!(id = %report.client_order_id, symbol = %report.symbol, strategy, status = report.status.as_str(), fills = report.fills.len(), "adopted an order this engine did not place");
        let id = order.client_order_id.clone();
        // Journaled before any of its fills, so recovery knows the order its fills belong to.
        self.publish_order(&order);
        self.live
            .entry(order.symbol.clone())
            .or_default()
            .insert(id.clone());
        self.orders.insert(id, order);
        true
    }

    /// Folds a venue report into its order (adopting an order it does not hold) and forwards
    /// each fill not seen before.
    pub(super) fn apply_report(&mut self, report: &OrderReport) {
        if !self.orders.contains_key(&report.client_order_id) && !self.adopt(report) {
            return;
        }
        let Some(order) = self.orders.get_mut(&report.client_order_id) else {
            return;
        };
        let was_terminal = order.status.is_terminal();
        let before = (order.status, order.filled_quantity);
        let fresh = order.apply_report(report);
        let changed = before != (order.status, order.filled_quantity);
        let now_terminal = order.status.is_terminal();
        let order_snapshot = changed.then(|| order.clone());
        let strategy = order.strategy.clone();
        self.exits_on_fills(&report.client_order_id, &fresh, now_terminal);
        if !fresh.is_empty() {
            let actor = self.positions.actor(&report.symbol);
            for fill in fresh {
                self.stats.fills_applied += 1;
                self.risk.do_send(RecordFill {
                    fill: fill.clone(),
                    strategy: strategy.clone(),
                });
                self.events
                    .publish_with(|| EngineEvent::FillApplied { fill: fill.clone() });
                match &actor {
                    Some(a) => a.do_send(ApplyFill(fill)),
                    None => {
                        tracing::error!(symbol = %report.symbol, "fill for a symbol with no position actor")
                    }
                }
            }
        }
        if let Some(order) = order_snapshot {
            self.publish_order(&order);
        }
        if now_terminal && !was_terminal {
            // After its fills (same mailbox, sent in order): the gate releases the rest.
            self.risk.do_send(OrderDone(report.client_order_id.clone()));
            self.terminal_order
                .push_back((self.clock.now(), report.client_order_id.clone()));
        }
    }

    pub(super) fn publish_order(&self, order: &Order) {
        self.events.publish_with(|| EngineEvent::OrderUpdated {
            order: order.clone(),
        });
    }

    /// Re-queries every order the engine holds open; called when the venue stream (re)connects.
    pub(super) fn resync(&mut self, ctx: &mut Context<Self>) {
        let open: Vec<(Symbol, ClientOrderId)> = self
            .orders
            .values()
            .filter(|o| o.status.is_open() && o.status != OrderStatus::PendingNew)
            .map(|o| (o.symbol.clone(), o.client_order_id.clone()))
            .collect();
        for (symbol, id) in open {
            self.refresh_order(symbol, id, ctx);
        }
    }

    pub(super) fn evict(&mut self) {
        let now = self.clock.now();
        while let Some((t, _)) = self.seen_order.front() {
            if now - *t < self.settings.dedup_window {
                break;
            }
            if let Some((seen, id)) = self.seen_order.pop_front()
                && self.seen_signals.get(&id).is_some_and(|(_, t)| *t == seen)
            {
                self.seen_signals.remove(&id);
            }
        }
        while let Some((t, _)) = self.terminal_order.front() {
            if now - *t < self.settings.order_retention {
                break;
            }
            if let Some((_, id)) = self.terminal_order.pop_front()
                && self.orders.get(&id).is_some_and(|o| o.status.is_terminal())
            {
                self.orders.remove(&id);
            }
        }
    }
}
