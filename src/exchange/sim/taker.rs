//! Working a live order against the book: a new MARKET / LIMIT / LIMIT_MAKER order when it is
//! accepted, and a conditional order when it triggers (a `*_LIMIT` as a limit order at its
//! price, the others as market orders). Fills here take liquidity, at the taker rate.

use chrono::{DateTime, Utc};

use super::book::Sweep;
use super::order::{Execution, overflow};
use super::venue::{Venue, reserve};
use crate::domain::{OrderStatus, OrderType, Qty, Side, TimeInForce};
use crate::exchange::ExchangeError;

impl Venue {
    /// Works what is left of order `id` against the levels, then ends it or rests it:
    /// - market: fills what the levels hold, EXPIRED with the rest (possibly all of it);
    /// - limit: fills up to its price; GTC rests the rest, IOC expires it, FOK fills all or
    ///   nothing;
    /// - limit maker: never takes (admission refused any that would), so it rests.
    ///
    /// A market buy must have the sweep's cost reserved. One accepted as MARKET reserved it on
    /// admission; a stop-market buy reserves it now, and ends EXPIRED with no fills if the
    /// free balance cannot pay (Binance expires a contingent order it cannot place).
    pub(super) fn work(&mut self, id: u64, now: DateTime<Utc>) -> Result<(), ExchangeError> {
        let Some(rec) = self.orders.get_mut(&id) else {
            return Ok(());
        };
        let Some(market) = self.markets.get_mut(&rec.request.symbol) else {
            return Ok(());
        };
        let working = rec.request.order_type.working_type();
        let side = rec.request.side;
        let tif = rec.request.time_in_force;
        let limit = match working {
            OrderType::Market => None,
            _ => rec.request.price,
        };
        let remaining = Qty(rec.request.quantity.0 - rec.executed_qty.0);
        let mut sweep = market
            .book
            .plan(side, remaining, limit, &mut self.takes)
            .ok_or_else(overflow)?;
        let fill_or_kill = working == OrderType::Limit && tif == TimeInForce::Fok;
        if working == OrderType::LimitMaker || (fill_or_kill && sweep.filled < remaining) {
            self.takes.clear();
            sweep = Sweep::default();
        }
        rec.updated = now;
        if side == Side::Buy && working == OrderType::Market && rec.locked < sweep.quote {
            let shortfall = sweep.quote - rec.locked;
            if reserve(&mut self.account, &rec.lock_asset, shortfall).is_err() {
                self.takes.clear();
                return rec.close(&mut self.account, OrderStatus::Expired);
            }
            rec.locked += shortfall;
        }
        market.book.commit(side, &self.takes);
        let mut outcome = Ok(());
        for take in &self.takes {
            let exec = Execution {
                price: take.price,
                qty: take.qty,
                fee_rate: self.taker_fee_rate,
                is_maker: false,
                trade_id: self.next_trade_id,
                ts: now,
            };
            self.next_trade_id += 1;
            if let Err(e) = rec.execute(&mut self.account, &market.rules, exec) {
                outcome = Err(e);
                break;
            }
        }
        let status = if rec.executed_qty == rec.request.quantity {
            OrderStatus::Filled
        } else if working == OrderType::Market
            || (working == OrderType::Limit && tif != TimeInForce::Gtc)
        {
            OrderStatus::Expired
        } else if rec.executed_qty.is_positive() {
            OrderStatus::PartiallyFilled
        } else {
            OrderStatus::New
        };
        if status.is_terminal() {
            if let Err(e) = rec.close(&mut self.account, status) {
                outcome = outcome.and(Err(e));
            }
        } else {
            rec.status = status;
            if let Some(l) = limit {
                market.book.rest(side, l, id);
            }
        }
        outcome
    }
}
