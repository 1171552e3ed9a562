//! Turning a checked signal or manual order into an `OrderRequest`: freshness against the
//! clock, the symbol's rules, and sizing ([`sizing`]). Pure functions, so every rule is
//! unit-tested here and the order router stays about lifecycle.

pub mod bracket;
pub mod sizing;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::domain::{
    ClientOrderId, DomainError, OrderRequest, Price, Qty, Side, Signal, TimeInForce,
};
use crate::exchange::filters::{SymbolRules, check_params};

/// Refuses signals that are too old or stamped too far ahead.
pub fn check_fresh(
    timestamp: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    max_age: Duration,
    max_future_skew: Duration,
) -> Result<(), DomainError> {
    let Some(ts) = timestamp else {
        return Ok(());
    };
    let age = now - ts;
    if age > max_age {
        return Err(DomainError::invalid(
            "timestamp",
            format!(
                "stale: the signal is {} ms old, the limit is {} ms",
                age.num_milliseconds(),
                max_age.num_milliseconds()
            ),
        ));
    }
    if -age > max_future_skew {
        return Err(DomainError::invalid(
            "timestamp",
            format!(
                "{} ms in the future (allowed skew {} ms)",
                (-age).num_milliseconds(),
                max_future_skew.num_milliseconds()
            ),
        ));
    }
    Ok(())
}

/// The smallest quantity the symbol accepts at `price`: the lot minimum, or the minimum
/// notional divided by the price rounded up to the step, whichever is larger.
pub fn min_quantity(rules: &SymbolRules, price: Price, market: bool) -> Option<Qty> {
    let lot = if market { rules.market_lot } else { rules.lot };
    let by_notional = if rules.min_notional.is_zero() || price.0.is_zero() {
        Decimal::ZERO
    } else {
        let raw = rules.min_notional.checked_div(price.0)?;
        if lot.step.is_zero() {
            raw
        } else {
            raw.checked_div(lot.step)?.ceil().checked_mul(lot.step)?
        }
    };
    Some(Qty(lot.min.max(by_notional)))
}

/// Builds the order for a buy or sell signal, sized by [`sizing::size`]. `last_price` sizes
/// signals that give no quantity and values market orders for the notional filter; `equity`
/// (in the symbol's quote asset) is needed only by `size_pct` and `risk_pct` signals.
pub fn order_for_signal(
    signal: &Signal,
    side: Side,
    rules: &SymbolRules,
    last_price: Option<Price>,
    equity: Option<Decimal>,
) -> Result<OrderRequest, DomainError> {
    let as_input =
        |v: crate::exchange::filters::FilterViolation| DomainError::invalid(v.field, v.to_string());
    // Prices are checked before they are used to size anything.
    if let Some(price) = signal.price {
        rules.check_price(price).map_err(as_input)?;
    }
    if let Some(stop) = signal.stops.stop_price {
        rules.check_price_of("stop_price", stop).map_err(as_input)?;
    }
    let source = sizing::SizeSource::of(signal);
    let entry = signal.price.or(signal.stops.stop_price).or(last_price);
    let quantity = match (source, signal.quantity, entry) {
        (sizing::SizeSource::Quantity, Some(q), _) => q,
        (_, _, Some(entry)) => sizing::size(signal, side, rules, entry, equity)?.0,
        (_, _, None) => {
            return Err(DomainError::invalid(
                source.field(),
                "cannot size the order: there is no market price for the symbol",
            ));
        }
    };
    let kind = signal.order_type;
    let request = OrderRequest {
        client_order_id: ClientOrderId::for_signal(&signal.id),
        symbol: signal.symbol.clone(),
        side,
        order_type: kind,
        quantity,
        price: signal.price,
        time_in_force: if kind.takes_time_in_force() {
            signal.time_in_force
        } else {
            TimeInForce::Gtc
        },
        stop_price: signal.stops.stop_price,
        trailing_delta: signal
            .stops
            .trailing_delta
            .filter(|_| kind.is_conditional()),
        quote_quantity: None,
    };
    check_rules(&request, rules, last_price).map_err(|e| {
        if e.field == "quantity" {
            DomainError::invalid(source.field(), e.message)
        } else {
            e
        }
    })?;
    Ok(request)
}

/// The order that closes a position of `position_qty` (signed) with a market order, rounded
/// down to the step so it never sells more than is held.
pub fn order_to_close(
    id: ClientOrderId,
    rules: &SymbolRules,
    position_qty: Decimal,
) -> Option<OrderRequest> {
    let side = if position_qty.is_sign_positive() {
        Side::Sell
    } else {
        Side::Buy
    };
    let quantity = rules.floor_qty(Qty(position_qty.abs()), true)?;
    quantity
        .is_positive()
        .then(|| OrderRequest::market(id, rules.symbol.clone(), side, quantity))
}

/// The symbol's rules as an input error naming the field at fault.
pub fn check_rules(
    request: &OrderRequest,
    rules: &SymbolRules,
    last_price: Option<Price>,
) -> Result<(), DomainError> {
    if !rules.trading {
        return Err(DomainError::invalid(
            "symbol",
            format!("{} is not trading", rules.symbol),
        ));
    }
    check_params(request).map_err(|v| DomainError::invalid(v.field, v.message))?;
    rules
        .check_order(request, last_price)
        .map_err(|v| DomainError::invalid(v.field, v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Action, OrderType, SignalId, Symbol};
    use crate::exchange::filters::Instruments;
    use std::str::FromStr;

    fn btc() -> SymbolRules {
        let i = Instruments::from_exchange_info_json(include_str!("../config/exchange_info.json"))
            .unwrap();
        i.get(&Symbol::new("BTCUSDT").unwrap()).unwrap().clone()
    }

    fn signal(qty: Option<&str>, price: Option<&str>) -> Signal {
        Signal {
            id: SignalId::new("s1").unwrap(),
            strategy: None,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            action: Action::Buy,
            order_type: if price.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: qty.map(|q| Qty::from_str(q).unwrap()),
            price: price.map(|p| Price::from_str(p).unwrap()),
            time_in_force: TimeInForce::Gtc,
            confidence: None,
            timestamp: None,
            stop_loss: None,
            take_profit: None,
            allow_duplicate: false,
            sizing: Default::default(),
            stops: Default::default(),
        }
    }

    #[test]
    fn freshness_refuses_stale_and_future_signals() {
        let now = Utc::now();
        let (age, skew) = (Duration::seconds(5), Duration::seconds(1));
        assert!(check_fresh(Some(now - Duration::seconds(4)), now, age, skew).is_ok());
        assert_eq!(
            check_fresh(Some(now - Duration::seconds(6)), now, age, skew)
                .unwrap_err()
                .field,
            "timestamp"
        );
        assert!(check_fresh(Some(now + Duration::seconds(2)), now, age, skew).is_err());
        assert!(check_fresh(None, now, age, skew).is_ok());
    }

    #[test]
    fn unsized_signal_gets_the_smallest_accepted_quantity() {
        // min notional 5 USDT at 60000 → 0.0000833.. rounded up to the 0.00001 step = 0.00009
        let req = order_for_signal(
            &signal(None, None),
            Side::Buy,
            &btc(),
            Some(Price::from_str("60000").unwrap()),
            None,
        )
        .unwrap();
        assert_eq!(req.quantity, Qty::from_str("0.00009").unwrap());
    }

    #[test]
    fn off_step_and_off_tick_are_refused_with_the_field() {
        let rules = btc();
        let px = Some(Price::from_str("60000").unwrap());
        let e = order_for_signal(&signal(Some("0.000015"), None), Side::Buy, &rules, px, None)
            .unwrap_err();
        assert_eq!(e.field, "quantity");
        let e = order_for_signal(
            &signal(Some("0.001"), Some("60000.001")),
            Side::Buy,
            &rules,
            px,
            None,
        )
        .unwrap_err();
        assert_eq!(e.field, "price");
    }

    #[test]
    fn closing_rounds_down_and_sells_a_long() {
        let req = order_to_close(
            ClientOrderId::new("c").unwrap(),
            &btc(),
            Decimal::from_str("0.0019998").unwrap(),
        )
        .unwrap();
        assert_eq!(
            (req.side, req.quantity),
            (Side::Sell, Qty::from_str("0.00199").unwrap())
        );
        assert!(
            order_to_close(
                ClientOrderId::new("c").unwrap(),
                &btc(),
                Decimal::from_str("0.000001").unwrap()
            )
            .is_none()
        );
    }
}
