//! Sliding-window counters on the injected clock, and the duplicate-order memory.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::collections::{HashMap, VecDeque};

use crate::domain::{Side, Symbol};

/// When each event in the last `window` happened, oldest first.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    window: Duration,
    times: VecDeque<DateTime<Utc>>,
}

impl SlidingWindow {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            times: VecDeque::new(),
        }
    }

    pub fn set_window(&mut self, window: Duration) {
        self.window = window;
    }

    /// Events within the window ending at `now`.
    pub fn count(&mut self, now: DateTime<Utc>) -> usize {
        while self.times.front().is_some_and(|t| now - *t >= self.window) {
            self.times.pop_front();
        }
        self.times.len()
    }

    pub fn record(&mut self, now: DateTime<Utc>) {
        self.times.push_back(now);
    }

    pub fn clear(&mut self) {
        self.times.clear();
    }
}

/// What makes two orders the same for duplicate detection.
pub type OrderKey = (Symbol, Side, Decimal, Option<Decimal>);

/// Orders sent recently, by content, for duplicate detection.
#[derive(Debug, Default, Clone)]
pub struct RecentOrders {
    last_sent: HashMap<OrderKey, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, OrderKey)>,
}

impl RecentOrders {
    /// When an order with this content was last sent within `window` of `now`.
    pub fn seen_within(
        &mut self,
        key: &OrderKey,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Option<DateTime<Utc>> {
        self.expire(now, window);
        self.last_sent.get(key).copied()
    }

    pub fn record(&mut self, key: OrderKey, now: DateTime<Utc>) {
        self.order.push_back((now, key.clone()));
        self.last_sent.insert(key, now);
    }

    fn expire(&mut self, now: DateTime<Utc>, window: Duration) {
        while let Some((t, _)) = self.order.front() {
            if now - *t < window {
                break;
            }
            if let Some((t, key)) = self.order.pop_front()
                && self.last_sent.get(&key) == Some(&t)
            {
                self.last_sent.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.last_sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last_sent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_forgets_what_is_older_than_it() {
        let t0 = Utc::now();
        let mut w = SlidingWindow::new(Duration::seconds(1));
        w.record(t0);
        w.record(t0 + Duration::milliseconds(500));
        assert_eq!(w.count(t0 + Duration::milliseconds(999)), 2);
        assert_eq!(w.count(t0 + Duration::seconds(1)), 1);
        assert_eq!(w.count(t0 + Duration::milliseconds(1500)), 0);
    }

    #[test]
    fn recent_orders_expire_after_the_window() {
        let t0 = Utc::now();
        let key: OrderKey = (
            Symbol::new("BTCUSDT").unwrap(),
            Side::Buy,
            Decimal::ONE,
            None,
        );
        let mut r = RecentOrders::default();
        let w = Duration::seconds(2);
        r.record(key.clone(), t0);
        assert_eq!(r.seen_within(&key, t0 + Duration::seconds(1), w), Some(t0));
        assert_eq!(r.seen_within(&key, t0 + Duration::seconds(2), w), None);
        assert!(r.is_empty());
    }
}
