//! A passing and a blocking case for every check, in exact decimals.

use super::*;
use crate::risk::limits::tests::open_limits;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn reason(r: Result<(), RiskRefusal>) -> Option<&'static str> {
    r.err().map(|e| e.reason.as_str())
}

#[test]
fn symbol_lists_pass_and_block() {
    let mut l = open_limits();
    assert_eq!(reason(symbol_lists(&l, "BTCUSDT")), None);
    l.allowed_symbols = vec!["ETHUSDT".into()];
    assert_eq!(
        reason(symbol_lists(&l, "BTCUSDT")),
        Some("symbol_not_allowed")
    );
    assert_eq!(reason(symbol_lists(&l, "ETHUSDT")), None);
    l.blocked_symbols = vec!["ETHUSDT".into()];
    assert_eq!(reason(symbol_lists(&l, "ETHUSDT")), Some("symbol_blocked"));
}

#[test]
fn order_size_passes_within_and_blocks_outside_each_bound() {
    let mut l = open_limits();
    l.min_order_qty.insert("BTCUSDT".into(), d("0.001"));
    l.max_order_qty.insert("BTCUSDT".into(), d("1"));
    l.min_order_notional = d("10");
    l.max_order_notional = d("50000");
    assert_eq!(reason(order_size(&l, "BTCUSDT", d("0.001"), d("60"))), None);
    assert_eq!(
        reason(order_size(&l, "BTCUSDT", d("0.0009"), d("54"))),
        Some("min_order_size")
    );
    assert_eq!(
        reason(order_size(&l, "BTCUSDT", d("1.1"), d("10"))),
        Some("max_order_qty")
    );
    assert_eq!(
        reason(order_size(&l, "ETHUSDT", d("1"), d("9.99"))),
        Some("min_order_size")
    );
    assert_eq!(reason(order_size(&l, "ETHUSDT", d("1"), d("50000"))), None);
    assert_eq!(
        reason(order_size(&l, "ETHUSDT", d("1"), d("50000.01"))),
        Some("max_order_notional")
    );
}

#[test]
fn the_collar_blocks_aggressive_prices_only() {
    let last = Some(d("100"));
    let collar = |side, p: &str| reason(price_collar(d("5"), side, Some(d(p)), last));
    assert_eq!(collar(Side::Buy, "105"), None, "exactly at the band");
    assert_eq!(collar(Side::Buy, "105.01"), Some("price_collar"));
    assert_eq!(collar(Side::Sell, "95"), None);
    assert_eq!(collar(Side::Sell, "94.99"), Some("price_collar"));
    assert_eq!(
        collar(Side::Sell, "106"),
        None,
        "a sell above the market is passive"
    );
    assert_eq!(
        collar(Side::Buy, "50"),
        None,
        "a buy below the market is passive"
    );
    assert_eq!(
        reason(price_collar(d("0"), Side::Buy, Some(d("200")), last)),
        None,
        "off"
    );
}

#[test]
fn a_market_order_needs_a_fresh_price() {
    let now = Utc::now();
    let ts = Some(now - Duration::seconds(10));
    assert_eq!(reason(stale_price(10, OrderType::Market, ts, now)), None);
    let old = Some(now - Duration::seconds(11));
    assert_eq!(
        reason(stale_price(10, OrderType::Market, old, now)),
        Some("stale_price")
    );
    assert_eq!(
        reason(stale_price(10, OrderType::Limit, old, now)),
        None,
        "limit orders carry their price"
    );
    assert_eq!(
        reason(stale_price(0, OrderType::Market, old, now)),
        None,
        "off"
    );
}

#[test]
fn daily_loss_blocks_at_the_limit() {
    assert_eq!(reason(daily_loss(d("100"), d("1000"), d("900.01"))), None);
    assert_eq!(
        reason(daily_loss(d("100"), d("1000"), d("900"))),
        Some("daily_loss_limit")
    );
    assert_eq!(reason(daily_loss(d("0"), d("1000"), d("1"))), None, "off");
}

#[test]
fn trades_per_day_blocks_at_the_limit() {
    assert_eq!(reason(trades_per_day(3, 2)), None);
    assert_eq!(reason(trades_per_day(3, 3)), Some("max_trades_per_day"));
    assert_eq!(reason(trades_per_day(0, 1000)), None);
}

#[test]
fn open_positions_block_only_new_symbols() {
    assert_eq!(reason(open_positions(2, 1, false)), None);
    assert_eq!(
        reason(open_positions(2, 2, false)),
        Some("max_open_positions")
    );
    assert_eq!(
        reason(open_positions(2, 2, true)),
        None,
        "adding to an open position"
    );
}

#[test]
fn exposure_limits_block_growth_past_the_cap_but_never_a_reduction() {
    let check = |before: &str, after: &str| {
        reason(exposure_limit(
            RiskReason::PositionExposure,
            "BTCUSDT",
            d("10"),
            d("100000"),
            d(before),
            d(after),
        ))
    };
    assert_eq!(check("0", "10000"), None, "exactly 10%");
    assert_eq!(check("0", "10000.01"), Some("position_exposure"));
    assert_eq!(
        check("20000", "15000"),
        None,
        "reducing an over-limit position"
    );
    for r in [
        RiskReason::TotalExposure,
        RiskReason::DirectionalExposure,
        RiskReason::GroupExposure,
    ] {
        let e = exposure_limit(r, "x", d("80"), d("100"), d("0"), d("80.1")).unwrap_err();
        assert_eq!(e.reason, r);
        assert!(exposure_limit(r, "x", d("80"), d("100"), d("0"), d("80")).is_ok());
    }
    assert_eq!(
        reason(exposure_limit(
            RiskReason::TotalExposure,
            "x",
            d("0"),
            d("1"),
            d("0"),
            d("9")
        )),
        None,
        "off"
    );
}

#[test]
fn balance_counts_what_is_free() {
    assert_eq!(reason(balance(d("600"), d("600"), "USDT")), None);
    assert_eq!(
        reason(balance(d("600.01"), d("600"), "USDT")),
        Some("insufficient_balance")
    );
}

#[test]
fn message_throttle_blocks_per_second_and_per_minute() {
    assert_eq!(reason(message_throttle(5, 4, 100, 99)), None);
    assert_eq!(
        reason(message_throttle(5, 5, 100, 5)),
        Some("message_throttle")
    );
    assert_eq!(
        reason(message_throttle(5, 1, 100, 100)),
        Some("message_throttle")
    );
    assert_eq!(reason(message_throttle(0, 1000, 0, 1000)), None);
    assert_eq!(reason(order_rate(2, 1)), None);
    assert_eq!(reason(order_rate(2, 2)), Some("order_rate_limit"));
}

#[test]
fn duplicates_block_unless_intended() {
    let now = Utc::now();
    let seen = Some(now - Duration::milliseconds(300));
    assert_eq!(reason(duplicate(None, false, now)), None);
    assert_eq!(reason(duplicate(seen, false, now)), Some("duplicate_order"));
    assert_eq!(reason(duplicate(seen, true, now)), None);
}

#[test]
fn a_paused_strategy_is_blocked() {
    assert_eq!(reason(strategy_paused(Some("m"), false)), None);
    assert_eq!(
        reason(strategy_paused(Some("m"), true)),
        Some("strategy_paused")
    );
    assert_eq!(reason(strategy_paused(None, true)), None);
}
