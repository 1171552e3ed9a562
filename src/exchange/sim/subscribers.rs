//! The simulated exchange's push streams: one sender per `subscribe()` (the engine's gateway)
//! and per `subscribe_updates()` (the simulator server), with injected event drops.

use tokio::sync::mpsc;

use super::venue::EventSink;
use super::views::SimUpdate;
use crate::exchange::ExchangeEvent;

/// The open event streams.
#[derive(Debug, Default)]
pub(super) struct Subscribers {
    /// One sender per `subscribe()`; closed ones are dropped on the next publish.
    pub(super) senders: Vec<mpsc::UnboundedSender<ExchangeEvent>>,
    /// Order reports still to drop (`SimFault::DropOrderEvents`).
    pub(super) drop_order_events: u32,
    /// One sender per `subscribe_updates()` (the simulator server); closed ones are dropped
    /// on the next update. `SimFault`s and `drop_subscribers` leave these alone.
    pub(super) detailed: Vec<mpsc::UnboundedSender<SimUpdate>>,
}

impl EventSink for Subscribers {
    fn active(&self) -> bool {
        !self.senders.is_empty()
    }

    fn detailed(&self) -> bool {
        !self.detailed.is_empty()
    }

    fn update(&mut self, update: SimUpdate) {
        self.detailed.retain(|tx| tx.send(update.clone()).is_ok());
    }

    fn publish(&mut self, event: ExchangeEvent) {
        if self.drop_order_events > 0 && matches!(event, ExchangeEvent::Order(_)) {
            self.drop_order_events -= 1;
            return;
        }
        let last = self.senders.len().saturating_sub(1);
        let mut event = Some(event);
        let mut i = 0;
        self.senders.retain(|tx| {
            let ev = if i == last {
                event.take()
            } else {
                event.clone()
            };
            i += 1;
            ev.is_some_and(|ev| tx.send(ev).is_ok())
        });
    }
}
