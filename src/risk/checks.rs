//! One pure function per pre-trade check. Each takes only the numbers it judges and returns
//! `Ok(())` or a `RiskRefusal` with its reason code, so each has a passing and a blocking test
//! beside it. [`super::state::RiskState::decide`] gathers the inputs and runs them in order.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::actors::messages::{RiskReason, RiskRefusal};
use crate::domain::{OrderType, Side};

use super::limits::RiskConfig;

fn refuse(reason: RiskReason, detail: String) -> Result<(), RiskRefusal> {
    Err(RiskRefusal { reason, detail })
}

/// `pct`% of `equity`; the cap a percentage limit allows.
pub fn pct_of(pct: Decimal, equity: Decimal) -> Decimal {
    pct.saturating_mul(equity.max(Decimal::ZERO)) / Decimal::ONE_HUNDRED
}

/// 8: the allow-list (empty = all) and the block-list.
pub fn symbol_lists(limits: &RiskConfig, symbol: &str) -> Result<(), RiskRefusal> {
    if limits.blocked_symbols.iter().any(|s| s == symbol) {
        return refuse(
            RiskReason::SymbolBlocked,
            format!("{symbol} is on the block-list"),
        );
    }
    if !limits.allowed_symbols.is_empty() && !limits.allowed_symbols.iter().any(|s| s == symbol) {
        return refuse(
            RiskReason::SymbolNotAllowed,
            format!("{symbol} is not on the allow-list"),
        );
    }
    Ok(())
}

/// 4: minimum and maximum quantity (per symbol) and notional.
pub fn order_size(
    limits: &RiskConfig,
    symbol: &str,
    qty: Decimal,
    notional: Decimal,
) -> Result<(), RiskRefusal> {
    if let Some(min) = limits.min_order_qty.get(symbol)
        && qty < *min
    {
        return refuse(
            RiskReason::MinOrderSize,
            format!("quantity {qty} is below the {symbol} minimum of {min}"),
        );
    }
    if let Some(max) = limits.max_order_qty.get(symbol)
        && qty > *max
    {
        return refuse(
            RiskReason::MaxOrderQty,
            format!("quantity {qty} exceeds the {symbol} limit of {max}"),
        );
    }
    if notional < limits.min_order_notional {
        return refuse(
            RiskReason::MinOrderSize,
            format!(
                "order value {} is below the minimum of {}",
                notional.normalize(),
                limits.min_order_notional
            ),
        );
    }
    if notional > limits.max_order_notional {
        return refuse(
            RiskReason::MaxOrderNotional,
            format!(
                "order value {} exceeds the limit of {}",
                notional.normalize(),
                limits.max_order_notional
            ),
        );
    }
    Ok(())
}

/// 10a: a limit price more than `pct`% through the last price on the aggressive side (a buy
/// above, a sell below). Passive prices (a sell above, a buy below) always pass.
pub fn price_collar(
    pct: Decimal,
    side: Side,
    limit: Option<Decimal>,
    last: Option<Decimal>,
) -> Result<(), RiskRefusal> {
    let (Some(limit), Some(last)) = (limit, last) else {
        return Ok(());
    };
    if pct.is_zero() {
        return Ok(());
    }
    let band = pct_of(pct, last);
    let (breached, bound) = match side {
        Side::Buy => {
            let cap = last.saturating_add(band);
            (limit > cap, cap)
        }
        Side::Sell => {
            let floor = last.saturating_sub(band);
            (limit < floor, floor)
        }
    };
    if breached {
        return refuse(
            RiskReason::PriceCollar,
            format!(
                "{} price {limit} is more than {pct}% through the last price {last} (bound {})",
                if side == Side::Buy { "buy" } else { "sell" },
                bound.normalize()
            ),
        );
    }
    Ok(())
}

/// 10b: a market order needs a price younger than `max_age_secs` (0 = off).
pub fn stale_price(
    max_age_secs: u64,
    order_type: OrderType,
    last_ts: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), RiskRefusal> {
    if max_age_secs == 0 || order_type != OrderType::Market {
        return Ok(());
    }
    let Some(ts) = last_ts else {
        return Ok(()); // no price at all is `no_market_price`, checked before
    };
    let age = now - ts;
    if age > Duration::seconds(max_age_secs as i64) {
        return refuse(
            RiskReason::StalePrice,
            format!(
                "the last price is {} s old, a market order needs one within {max_age_secs} s",
                age.num_seconds()
            ),
        );
    }
    Ok(())
}

/// 1: the loss since 00:00 UTC (equity then minus equity now) must stay under `limit` (0 = off).
pub fn daily_loss(
    limit: Decimal,
    day_start_equity: Decimal,
    equity: Decimal,
) -> Result<(), RiskRefusal> {
    let loss = day_start_equity.saturating_sub(equity);
    if !limit.is_zero() && loss >= limit {
        return refuse(
            RiskReason::DailyLossLimit,
            format!(
                "today's loss {} has reached the limit of {limit}",
                loss.normalize()
            ),
        );
    }
    Ok(())
}

/// 2: orders that executed since 00:00 UTC (0 = off).
pub fn trades_per_day(max: u32, trades_today: u32) -> Result<(), RiskRefusal> {
    if max > 0 && trades_today >= max {
        return refuse(
            RiskReason::MaxTradesPerDay,
            format!("{trades_today} trades today, the limit is {max}"),
        );
    }
    Ok(())
}

/// 3: only an order in a symbol with no position can open a new one.
pub fn open_positions(max: u32, open: usize, symbol_is_open: bool) -> Result<(), RiskRefusal> {
    if !symbol_is_open && open >= max as usize {
        return refuse(
            RiskReason::MaxOpenPositions,
            format!("{open} positions are open, the limit is {max}"),
        );
    }
    Ok(())
}

/// 5, 6, 9, 15: an exposure may not grow past `pct`% of equity (0 = off). An order that does
/// not grow it passes, so reducing a position is never blocked.
pub fn exposure_limit(
    reason: RiskReason,
    what: &str,
    pct: Decimal,
    equity: Decimal,
    before: Decimal,
    after: Decimal,
) -> Result<(), RiskRefusal> {
    if pct.is_zero() || after <= before {
        return Ok(());
    }
    let cap = pct_of(pct, equity);
    if after > cap {
        return refuse(
            reason,
            format!(
                "{what} exposure would be {}, over {pct}% of equity ({})",
                after.normalize(),
                cap.normalize()
            ),
        );
    }
    Ok(())
}

/// 7: what the order needs (quote for a buy, base for a sell) must be free, after what open
/// orders already reserve.
pub fn balance(need: Decimal, free: Decimal, asset: &str) -> Result<(), RiskRefusal> {
    if need > free {
        return refuse(
            RiskReason::InsufficientBalance,
            format!(
                "needs {} {asset}, {} is free after open orders",
                need.normalize(),
                free.normalize()
            ),
        );
    }
    Ok(())
}

/// 11: messages (submits, cancels, modifies) already sent in the last second / minute.
pub fn message_throttle(
    per_second: u32,
    last_second: usize,
    per_minute: u32,
    last_minute: usize,
) -> Result<(), RiskRefusal> {
    if per_second > 0 && last_second >= per_second as usize {
        return refuse(
            RiskReason::MessageThrottle,
            format!("{last_second} messages in the last second, the limit is {per_second}"),
        );
    }
    if per_minute > 0 && last_minute >= per_minute as usize {
        return refuse(
            RiskReason::MessageThrottle,
            format!("{last_minute} messages in the last minute, the limit is {per_minute}"),
        );
    }
    Ok(())
}

/// The older per-second limit on orders alone (0 = off).
pub fn order_rate(per_second: u32, last_second: usize) -> Result<(), RiskRefusal> {
    if per_second > 0 && last_second >= per_second as usize {
        return refuse(
            RiskReason::OrderRateLimit,
            format!("more than {per_second} orders in the last second"),
        );
    }
    Ok(())
}

/// 12: the same order sent within the window, unless the signal says it is intended.
pub fn duplicate(
    sent_at: Option<DateTime<Utc>>,
    allow_duplicate: bool,
    now: DateTime<Utc>,
) -> Result<(), RiskRefusal> {
    match sent_at {
        Some(t) if !allow_duplicate => refuse(
            RiskReason::DuplicateOrder,
            format!(
                "the same symbol, side, quantity and price was sent {} ms ago; set allow_duplicate if intended",
                (now - t).num_milliseconds()
            ),
        ),
        _ => Ok(()),
    }
}

/// 14: a strategy paused by the consecutive-loss breaker.
pub fn strategy_paused(strategy: Option<&str>, paused: bool) -> Result<(), RiskRefusal> {
    match strategy {
        Some(s) if paused => refuse(
            RiskReason::StrategyPaused,
            format!("strategy {s} is paused after consecutive losing round trips"),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
