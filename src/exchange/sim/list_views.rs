//! Order lists through the venue's second front door (the simulator server): placing an OCO
//! answering with its legs' full views, and look-ups and cancels by list id or list client
//! id, as Binance's `orderList` endpoints name them.

use chrono::Utc;

use super::order::rejected;
use super::venue::Venue;
use super::views::OrderView;
use super::{Shared, SimExchange};
use crate::domain::{
    ClientOrderId, ListOrderStatus, ListStatusType, OcoRequest, OrderListReport, Symbol,
};
use crate::exchange::{CODE_CANCEL_REJECTED, CODE_NO_SUCH_ORDER, ExchangeError};

/// An order list named the way a Binance request names it: `orderListId` or
/// `listClientOrderId` / `origClientOrderId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListRef {
    Id(u64),
    Client(ClientOrderId),
}

/// A list's state and its legs in full (below leg first, as the venue numbers them).
pub type ListView = (OrderListReport, Vec<OrderView>);

fn no_such_list() -> ExchangeError {
    rejected(CODE_NO_SUCH_ORDER, "Order list does not exist.")
}

impl Venue {
    /// The list's id, on `symbol` when given, else on any symbol.
    fn list_id(&self, symbol: Option<&Symbol>, list: &ListRef) -> Option<u64> {
        let id = match list {
            ListRef::Id(id) => Some(*id),
            ListRef::Client(c) => self
                .markets
                .iter()
                .filter(|(s, _)| symbol.is_none_or(|want| *s == want))
                .find_map(|(_, m)| m.lists_by_client.get(c).copied()),
        }?;
        let rec = self.lists.get(&id)?;
        symbol.is_none_or(|s| &rec.symbol == s).then_some(id)
    }

    /// List `id` as it is now: EXECUTING until it is done.
    fn list_state(&self, id: u64) -> Option<ListView> {
        let done = self.lists.get(&id)?.done;
        let (kind, status) = if done {
            (ListStatusType::AllDone, ListOrderStatus::AllDone)
        } else {
            (ListStatusType::ExecStarted, ListOrderStatus::Executing)
        };
        let report = self.list_report(id, kind, status)?;
        let legs = self.lists.get(&id)?.legs;
        let views = legs
            .iter()
            .filter_map(|l| self.orders.get(l))
            .map(|r| r.view())
            .collect();
        Some((report, views))
    }

    /// Every list still executing, oldest first.
    fn open_lists(&self) -> Vec<ListView> {
        let mut ids: Vec<u64> = self
            .lists
            .iter()
            .filter(|(_, l)| !l.done)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| self.list_state(id))
            .collect()
    }
}

impl SimExchange {
    /// Places an OCO, answering with the list and its legs in full.
    pub fn submit_oco_list(&self, oco: OcoRequest) -> Result<ListView, ExchangeError> {
        let now = Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let report = venue.submit_oco(oco, now, subscribers)?;
        venue
            .list_state(report.order_list_id)
            .ok_or_else(no_such_list)
    }

    /// Cancels an executing list; `cancel_id` is the cancel request's own client id.
    pub fn cancel_list(
        &self,
        symbol: &Symbol,
        list: &ListRef,
        cancel_id: Option<&ClientOrderId>,
    ) -> Result<ListView, ExchangeError> {
        let now = Utc::now();
        let mut guard = self.lock();
        let Shared {
            venue, subscribers, ..
        } = &mut *guard;
        let unknown = || rejected(CODE_CANCEL_REJECTED, "Unknown order list sent.");
        let id = venue
            .list_id(Some(symbol), list)
            .filter(|id| venue.lists.get(id).is_some_and(|l| !l.done))
            .ok_or_else(unknown)?;
        venue.cancel_list_by_id(id, cancel_id, now, subscribers)?;
        venue.list_state(id).ok_or_else(no_such_list)
    }

    /// One list (executing or retained done), by either id.
    pub fn order_list_view(&self, list: &ListRef) -> Result<ListView, ExchangeError> {
        let guard = self.lock();
        let id = guard.venue.list_id(None, list).ok_or_else(no_such_list)?;
        guard.venue.list_state(id).ok_or_else(no_such_list)
    }

    /// Every executing list, oldest first.
    pub fn open_list_views(&self) -> Vec<ListView> {
        self.lock().venue.open_lists()
    }
}
