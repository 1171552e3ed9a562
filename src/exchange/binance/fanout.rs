//! The adapter's subscribers: every `subscribe()` adds a sender, every event goes to all live
//! ones, and a sender whose receiver is gone is dropped on the next publish (as the simulator
//! does). The two stream tasks publish here; receivers stay open across reconnects.

use std::sync::Mutex;
use tokio::sync::mpsc;

use crate::exchange::ExchangeEvent;

#[derive(Debug, Default)]
pub struct Fanout {
    senders: Mutex<Vec<mpsc::UnboundedSender<ExchangeEvent>>>,
}

impl Fanout {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<ExchangeEvent>>> {
        self.senders.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<ExchangeEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().push(tx);
        rx
    }

    pub fn publish(&self, event: ExchangeEvent) {
        self.lock().retain(|tx| tx.send(event.clone()).is_ok());
    }

    /// Ends every receiver (the adapter is shutting down).
    pub fn close(&self) {
        self.lock().clear();
    }

    pub fn subscribers(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_live_receiver_gets_every_event_and_dead_ones_are_dropped() {
        let f = Fanout::default();
        let mut a = f.subscribe();
        let b = f.subscribe();
        drop(b);
        f.publish(ExchangeEvent::Reconnected);
        assert_eq!(f.subscribers(), 1);
        let mut c = f.subscribe();
        f.publish(ExchangeEvent::Reconnected);
        assert_eq!(a.try_recv(), Ok(ExchangeEvent::Reconnected));
        assert_eq!(a.try_recv(), Ok(ExchangeEvent::Reconnected));
        assert_eq!(c.try_recv(), Ok(ExchangeEvent::Reconnected));
        assert!(c.try_recv().is_err());
        f.close();
        assert!(matches!(
            a.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
    }
}
