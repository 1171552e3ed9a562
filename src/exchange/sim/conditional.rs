//! Conditional orders on a price update: every waiting STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT)
//! order sees the new last price (so trailing stops follow it), and those whose trigger it
//! meets start working, in the order they were placed.
//!
//! A waiting order is NEW and off the book, its balance already reserved (see `admission`).
//! When it triggers it works as a taker at the new price (`taker`); a `*_LIMIT` rests what it
//! cannot fill at its limit (GTC), a stop-market order expires the rest. If it is a leg of an
//! OCO, the other leg is expired first (`oco`). One report per triggered order carries the
//! fills of that moment.

use chrono::{DateTime, Utc};

use super::venue::{EventSink, Venue};
use super::views::OrderChange;
use crate::domain::{Price, Symbol};
use crate::exchange::ExchangeError;

impl Venue {
    /// Feeds `price` to every waiting conditional order on `symbol` and works those it triggers.
    pub(super) fn fire_triggers(
        &mut self,
        symbol: &Symbol,
        price: Price,
        now: DateTime<Utc>,
        sink: &mut impl EventSink,
    ) -> Result<(), ExchangeError> {
        let Some(market) = self.markets.get_mut(symbol) else {
            return Ok(());
        };
        let fired: Vec<u64> = market
            .pending
            .iter_mut()
            .filter_map(|(id, trigger)| trigger.observe(price).then_some(*id))
            .collect();
        for id in &fired {
            market.pending.remove(id);
        }
        let mut outcome = Ok(());
        for id in fired {
            // An earlier trigger in this update may have ended this order (its OCO sibling).
            let Some(before) = self
                .orders
                .get(&id)
                .filter(|r| r.status.is_open())
                .map(|r| r.fills.len())
            else {
                continue;
            };
            let list = self.break_list(id, now, sink);
            if let Err(e) = self.work(id, now) {
                outcome = Err(e);
            }
            let Some(rec) = self.orders.get_mut(&id) else {
                continue;
            };
            rec.working = Some(now);
            let terminal = rec.status.is_terminal();
            let fills = rec.fills.get(before..).unwrap_or_default().to_vec();
            self.announce(id, OrderChange::Triggered, &fills, sink);
            if let Some(list_id) = list {
                self.publish_list_done(list_id, sink);
            }
            if terminal {
                self.retire(id);
            }
        }
        outcome
    }
}
