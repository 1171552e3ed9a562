//! When a conditional order (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT) starts
//! working, as Binance defines it. Pure logic over last prices; the venue calls [`Trigger::observe`]
//! with every new last price and works the order when it answers true.
//!
//! # Stop price
//! The stop condition is "last ≥ stop" for a STOP_LOSS buy or a TAKE_PROFIT sell (the stop sits
//! above the market) and "last ≤ stop" for a STOP_LOSS sell or a TAKE_PROFIT buy (below it).
//! An order whose condition already holds at the last price when it is placed is refused
//! ("Order would trigger immediately."), so equality at placement is a refusal and equality
//! afterwards is a trigger.
//!
//! # Trailing delta (Binance's trailing stop FAQ)
//! `trailingDelta` is in basis points (100 = 1%). A sell tracks the highest last price and
//! triggers once the last price is at or below `highest × (1 − delta/10000)`; a buy tracks the
//! lowest and triggers at or above `lowest × (1 + delta/10000)`. The tracked extreme only ever
//! moves in the order's favour, so the effective stop never moves back.
//! - Without a stop price, tracking starts at placement from the last price then.
//! - With a stop price, nothing is tracked until the stop condition is met; the first last
//!   price that meets it becomes the extreme (it cannot also trigger the order).
//!
//! Comparisons are exact `Decimal` arithmetic on the unrounded trailing stop, as in the FAQ's
//! worked examples (`44,100 = 42,000 × 1.05` triggers).

use rust_decimal::Decimal;

use crate::domain::{OrderType, Price, Side};

/// Basis points in one.
const BIPS: u32 = 10_000;

/// The placement was refused: the stop condition already holds at the last price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldTriggerImmediately;

/// Trailing state of a trailing stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Trailing {
    /// `delta / 10000`: the fraction of the extreme the price must move back.
    fraction: Decimal,
    /// The best last price since tracking started (highest for sells, lowest for buys);
    /// `None` while the stop price has not been reached.
    extreme: Option<Price>,
}

/// The trigger state of one conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// The stop condition is "last ≥ stop" (true) or "last ≤ stop" (false).
    above: bool,
    /// The order's side: a sell trails the highest price, a buy the lowest.
    side: Side,
    /// The stop price, if the order has one.
    stop: Option<Price>,
    /// Present for trailing stops.
    trailing: Option<Trailing>,
}

impl Trigger {
    /// The trigger of a new conditional order, given the last price at placement. `None` for
    /// orders without a stop price or trailing delta (callers check parameters first).
    pub fn new(
        order_type: OrderType,
        side: Side,
        stop: Option<Price>,
        trailing_delta: Option<u32>,
        last: Price,
    ) -> Result<Option<Self>, WouldTriggerImmediately> {
        if stop.is_none() && trailing_delta.is_none() {
            return Ok(None);
        }
        let mut trigger = Trigger {
            above: order_type.fires_above(side),
            side,
            stop,
            trailing: trailing_delta.map(|d| Trailing {
                fraction: Decimal::from(d) / Decimal::from(BIPS),
                extreme: None,
            }),
        };
        if trigger.stop_reached(last) {
            return Err(WouldTriggerImmediately);
        }
        if let Some(t) = &mut trigger.trailing
            && stop.is_none()
        {
            t.extreme = Some(last);
        }
        Ok(Some(trigger))
    }

    /// Whether `last` meets the stop condition (no stop price: never).
    fn stop_reached(&self, last: Price) -> bool {
        match self.stop {
            Some(stop) if self.above => last >= stop,
            Some(stop) => last <= stop,
            None => false,
        }
    }

    /// Feeds one new last price; true when the order triggers now.
    pub fn observe(&mut self, last: Price) -> bool {
        let reached = self.stop_reached(last);
        let side = self.side;
        let Some(t) = &mut self.trailing else {
            return reached;
        };
        let Some(extreme) = t.extreme else {
            if reached {
                t.extreme = Some(last);
            }
            return false;
        };
        let best = match side {
            Side::Sell => extreme.max(last),
            Side::Buy => extreme.min(last),
        };
        t.extreme = Some(best);
        match Self::trailing_stop(side, t.fraction, best) {
            Some(stop) if side == Side::Sell => last <= stop,
            Some(stop) => last >= stop,
            // Overflow: the stop is beyond any price, so it cannot be reached.
            None => false,
        }
    }

    /// `extreme × (1 ∓ fraction)`; `None` on overflow.
    fn trailing_stop(side: Side, fraction: Decimal, extreme: Price) -> Option<Price> {
        let factor = match side {
            Side::Sell => Decimal::ONE.checked_sub(fraction)?,
            Side::Buy => Decimal::ONE.checked_add(fraction)?,
        };
        extreme.0.checked_mul(factor).map(Price)
    }

    /// The price that triggers the order now: the trailing stop once tracking has started,
    /// otherwise the stop price.
    pub fn current_stop(&self) -> Option<Price> {
        match self.trailing {
            Some(Trailing {
                fraction,
                extreme: Some(extreme),
            }) => Self::trailing_stop(self.side, fraction, extreme),
            _ => self.stop,
        }
    }

    /// Whether a trailing stop is tracking prices (Binance's `trailingTime` is set).
    #[cfg(test)]
    pub fn is_tracking(&self) -> bool {
        self.trailing.is_some_and(|t| t.extreme.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn p(s: &str) -> Price {
        Price(Decimal::from_str(s).unwrap())
    }

    /// Feeds `path` and returns the index of the price that triggered, if any.
    fn run(t: &mut Trigger, path: &[&str]) -> Option<usize> {
        path.iter().position(|s| t.observe(p(s)))
    }

    #[test]
    fn a_plain_stop_triggers_at_the_crossing_price_and_refuses_one_already_crossed() {
        let stop = Some(p("49000"));
        let mut sl_sell = Trigger::new(OrderType::StopLoss, Side::Sell, stop, None, p("50000"))
            .unwrap()
            .unwrap();
        assert_eq!(run(&mut sl_sell, &["49500", "49000.01", "49000"]), Some(2));
        let mut tp_buy = Trigger::new(OrderType::TakeProfit, Side::Buy, stop, None, p("50000"))
            .unwrap()
            .unwrap();
        assert_eq!(run(&mut tp_buy, &["49000"]), Some(0));
        // Above the market: STOP_LOSS buy and TAKE_PROFIT sell.
        let mut sl_buy = Trigger::new(OrderType::StopLoss, Side::Buy, stop, None, p("48000"))
            .unwrap()
            .unwrap();
        assert_eq!(run(&mut sl_buy, &["48999.99", "49000"]), Some(1));
        for (kind, side, last) in [
            (OrderType::StopLoss, Side::Sell, "49000"),
            (OrderType::StopLossLimit, Side::Sell, "48000"),
            (OrderType::TakeProfit, Side::Sell, "49000"),
            (OrderType::TakeProfitLimit, Side::Buy, "49000"),
            (OrderType::StopLoss, Side::Buy, "50000"),
        ] {
            let t = Trigger::new(kind, side, stop, None, p(last));
            assert_eq!(
                t,
                Err(WouldTriggerImmediately),
                "{kind:?} {side:?} at {last}"
            );
        }
    }

    #[test]
    fn faq_scenario_a_trailing_stop_loss_limit_buy() {
        let mut t = Trigger::new(
            OrderType::StopLossLimit,
            Side::Buy,
            Some(p("44000")),
            Some(500),
            p("40000"),
        )
        .unwrap()
        .unwrap();
        // Falls 7.5% first: ignored, tracking has not started.
        assert_eq!(run(&mut t, &["38000", "37000"]), None);
        assert!(!t.is_tracking());
        // Reaches the stop price: the lowest price is now 44,000.
        assert_eq!(run(&mut t, &["44000", "45000", "46000"]), None);
        assert_eq!(t.current_stop(), Some(p("46200")));
        // Falls to 42,000: the stop follows down to 44,100, then 44,100 triggers.
        assert_eq!(run(&mut t, &["42000", "44099.99"]), None);
        assert_eq!(t.current_stop(), Some(p("44100")));
        assert!(t.observe(p("44100")));
    }

    #[test]
    fn faq_scenario_b_trailing_stop_loss_limit_sell() {
        let mut t = Trigger::new(
            OrderType::StopLossLimit,
            Side::Sell,
            Some(p("39000")),
            Some(1000),
            p("40000"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(run(&mut t, &["41500", "39000", "37000", "41000"]), None);
        assert_eq!(t.current_stop(), Some(p("36900")));
        assert!(t.observe(p("36900")));
    }

    #[test]
    fn faq_scenario_c_trailing_take_profit_limit_buy_does_not_move_back() {
        let mut t = Trigger::new(
            OrderType::TakeProfitLimit,
            Side::Buy,
            Some(p("38000")),
            Some(850),
            p("40000"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            run(&mut t, &["42000", "38000", "37000", "39000", "38000"]),
            None
        );
        // 37,000 × 1.085; the later 38,000 did not move the stop back up.
        assert_eq!(t.current_stop(), Some(p("40145")));
        assert!(!t.observe(p("40144.99")));
        assert!(t.observe(p("40145")));
    }

    #[test]
    fn faq_scenario_d_trailing_take_profit_limit_sell() {
        let mut t = Trigger::new(
            OrderType::TakeProfitLimit,
            Side::Sell,
            Some(p("42000")),
            Some(750),
            p("40000"),
        )
        .unwrap()
        .unwrap();
        let path = ["41500", "39000", "42000", "45000", "44000", "46500"];
        assert_eq!(run(&mut t, &path), None);
        assert_eq!(t.current_stop(), Some(p("43012.5")));
        assert!(t.observe(p("43012.5")));
    }

    #[test]
    fn faq_scenario_e_trailing_without_a_stop_price_tracks_from_placement() {
        let mut t = Trigger::new(
            OrderType::StopLossLimit,
            Side::Sell,
            None,
            Some(700),
            p("40000"),
        )
        .unwrap()
        .unwrap();
        assert!(t.is_tracking());
        assert_eq!(t.current_stop(), Some(p("37200")));
        assert_eq!(run(&mut t, &["42000", "39500", "45500"]), None);
        assert_eq!(t.current_stop(), Some(p("42315")));
        assert!(t.observe(p("42315")));
    }
}
