//! Resting limit orders a price update crosses: each fills completely at its limit price, as
//! maker (one fill, one report). A leg of an OCO that starts filling ends its list first.

use chrono::{DateTime, Utc};

use super::order::{Execution, bad_symbol};
use super::venue::{EventSink, Venue};
use super::views::OrderChange;
use crate::domain::{OrderStatus, Price, Qty, Symbol};
use crate::exchange::ExchangeError;

impl Venue {
    /// Fills every resting order on `symbol` that the book's new price crosses.
    pub(super) fn fill_crossed(
        &mut self,
        symbol: &Symbol,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(), ExchangeError> {
        let Some(market) = self.markets.get_mut(symbol) else {
            return Ok(());
        };
        let crossed = market.book.take_crossed();
        let mut outcome = Ok(());
        for (_, limit, id) in crossed {
            if !self.orders.get(&id).is_some_and(|r| r.status.is_open()) {
                continue;
            }
            // A leg of an order list that starts filling ends the list's other leg first.
            let list = self.break_list(id, now, sink);
            if let Err(e) = self.fill_resting(symbol, id, limit, now, sink) {
                outcome = Err(e);
            }
            if let Some(list_id) = list {
                self.publish_list_done(list_id, sink);
            }
            self.retire(id);
        }
        outcome
    }

    /// Fills what is left of resting order `id` at its limit, as maker, and pushes its report.
    fn fill_resting(
        &mut self,
        symbol: &Symbol,
        id: u64,
        limit: Price,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(), ExchangeError> {
        let market = self.markets.get(symbol).ok_or_else(bad_symbol)?;
        let Some(rec) = self.orders.get_mut(&id) else {
            return Ok(());
        };
        let exec = Execution {
            price: limit,
            qty: Qty(rec.request.quantity.0 - rec.executed_qty.0),
            fee_rate: self.maker_fee_rate,
            is_maker: true,
            trade_id: self.next_trade_id,
            ts: now,
        };
        self.next_trade_id += 1;
        let fill = rec.execute(&mut self.account, &market.rules, exec);
        let closed = rec.close(&mut self.account, OrderStatus::Filled);
        let (fills, outcome) = match fill {
            Ok(fill) => (vec![fill], closed),
            Err(e) => (Vec::new(), Err(e)),
        };
        self.announce(id, OrderChange::Traded, &fills, sink);
        outcome
    }
}
