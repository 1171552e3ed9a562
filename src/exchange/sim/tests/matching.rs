//! Fills, fees and balances.

use super::*;

#[test]
fn market_buy_walks_levels_with_a_fill_and_fee_per_level() {
    let sim = sim();
    let r = now(sim.submit(order("m1", Side::Buy, "1.2", None))).unwrap();
    assert_eq!(r.status, OrderStatus::Filled);
    assert_eq!(
        fills(&r),
        vec![
            (d("0.5"), d("50000"), d("0.0005"), "BTC", false),
            (d("0.5"), d("50005"), d("0.0005"), "BTC", false),
            (d("0.2"), d("50010"), d("0.0002"), "BTC", false),
        ]
    );
    let ids: Vec<u64> = r.fills.iter().map(|f| f.trade_id).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(
        (r.executed_qty.0, r.cumulative_quote),
        (d("1.2"), d("60004.5"))
    );
    assert_eq!(bal(&sim, "USDT"), (d("939995.5"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("2.1988"), d("0")));
}

#[test]
fn market_sell_pays_commission_in_quote_and_expires_when_levels_run_out() {
    let sim = sim();
    let r = now(sim.submit(order("s1", Side::Sell, "0.7", None))).unwrap();
    assert_eq!(
        fills(&r),
        vec![
            (d("0.5"), d("50000"), d("25"), "USDT", false),
            (d("0.2"), d("49995"), d("9.999"), "USDT", false),
        ]
    );
    // 25000 − 25 + 9999 − 9.999
    assert_eq!(bal(&sim, "USDT"), (d("1034964.001"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.3"), d("0")));
    // 5 levels × 0.5 = 2.5 BTC of asks; 3 wanted → 2.5 filled, EXPIRED, nothing left locked.
    let r = now(sim.submit(order("m2", Side::Buy, "3", None))).unwrap();
    assert_eq!(r.status, OrderStatus::Expired);
    assert_eq!(r.executed_qty, Qty(d("2.5")));
    assert_eq!(r.fills.len(), 5);
    assert_eq!(r.cumulative_quote, d("125025"));
    assert_eq!(bal(&sim, "USDT").1, d("0"));
    // Levels stay taken until the price changes: now nothing is left at all.
    let r = now(sim.submit(order("m3", Side::Buy, "0.1", None))).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::Expired, 0));
    sim.set_price(&sym("BTCUSDT"), Price(d("50000"))).unwrap();
    let r = now(sim.submit(order("m4", Side::Buy, "0.1", None))).unwrap();
    assert_eq!(
        (r.status, r.fills[0].price.0),
        (OrderStatus::Filled, d("50000"))
    );
}

#[test]
fn gtc_limit_rests_then_fills_as_maker_when_the_price_crosses() {
    let sim = sim();
    let r = now(sim.submit(order("l1", Side::Buy, "0.1", gtc("49900")))).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::New, 0));
    assert_eq!(bal(&sim, "USDT"), (d("995010"), d("4990")));
    sim.set_price(&sym("BTCUSDT"), Price(d("49950"))).unwrap();
    assert_eq!(now(sim.open_orders()).unwrap().len(), 1);
    sim.set_price(&sym("BTCUSDT"), Price(d("49800"))).unwrap();
    let q = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("l1").unwrap())).unwrap();
    assert_eq!(q.status, OrderStatus::Filled);
    // Filled at its limit, not at the new price; maker fee 0.0005 in BTC.
    assert_eq!(
        fills(&q),
        vec![(d("0.1"), d("49900"), d("0.00005"), "BTC", true)]
    );
    assert_eq!(bal(&sim, "USDT"), (d("995010"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.09995"), d("0")));
    assert!(now(sim.open_orders()).unwrap().is_empty());
}

#[test]
fn limit_sell_rests_and_fills_when_the_price_rises_to_it() {
    let sim = sim();
    now(sim.submit(order("ls", Side::Sell, "0.4", gtc("50100")))).unwrap();
    assert_eq!(bal(&sim, "BTC"), (d("0.6"), d("0.4")));
    sim.set_price(&sym("BTCUSDT"), Price(d("50100.01")))
        .unwrap();
    let q = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("ls").unwrap())).unwrap();
    // 0.4 × 50100 = 20040, maker fee 10.02 USDT.
    assert_eq!(
        fills(&q),
        vec![(d("0.4"), d("50100"), d("10.02"), "USDT", true)]
    );
    assert_eq!(bal(&sim, "BTC"), (d("0.6"), d("0")));
    assert_eq!(bal(&sim, "USDT"), (d("1020029.98"), d("0")));
}

#[test]
fn partially_filled_gtc_keeps_the_rest_locked_and_query_returns_all_fills() {
    let sim = sim();
    let r = now(sim.submit(order("p1", Side::Buy, "1.2", gtc("50005")))).unwrap();
    assert_eq!(r.status, OrderStatus::PartiallyFilled);
    assert_eq!(r.executed_qty, Qty(d("1")));
    // Locked 60006; paid 50002.5 for the fills, 2.5 refunded (filled below the limit).
    assert_eq!(bal(&sim, "USDT"), (d("939996.5"), d("10001")));
    sim.set_price(&sym("BTCUSDT"), Price(d("50005"))).unwrap();
    let q = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("p1").unwrap())).unwrap();
    assert_eq!(q.status, OrderStatus::Filled);
    assert_eq!(q.fills.len(), 3);
    assert!(q.fills[2].is_maker);
    assert_eq!(q.cumulative_quote, d("60003.5"));
    assert_eq!(bal(&sim, "USDT"), (d("939996.5"), d("0")));
    // 1 + 1.2 − 0.001 (taker) − 0.0001 (maker)
    assert_eq!(bal(&sim, "BTC"), (d("2.1989"), d("0")));
}

#[test]
fn ioc_expires_the_rest_and_fok_fills_all_or_nothing() {
    let sim = sim();
    let ioc = Some(("50005", TimeInForce::Ioc));
    let r = now(sim.submit(order("i1", Side::Buy, "1.2", ioc))).unwrap();
    assert_eq!((r.status, r.executed_qty.0), (OrderStatus::Expired, d("1")));
    assert_eq!(bal(&sim, "USDT"), (d("949997.5"), d("0")));

    sim.set_price(&sym("BTCUSDT"), Price(d("50000"))).unwrap();
    let fok = Some(("50005", TimeInForce::Fok));
    let r = now(sim.submit(order("f1", Side::Buy, "1.2", fok))).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::Expired, 0));
    assert_eq!(bal(&sim, "USDT"), (d("949997.5"), d("0")));
    // No liquidity was consumed: level 0 still holds 0.5 at 50000.
    let r = now(sim.submit(order("f2", Side::Buy, "1", fok))).unwrap();
    assert_eq!(r.status, OrderStatus::Filled);
    assert_eq!(r.fills[0].price.0, d("50000"));
    assert_eq!(r.fills[0].quantity.0, d("0.5"));
    assert_eq!(sim.order_count(), 3);
}

#[test]
fn insufficient_balance_refuses_the_whole_order() {
    let mut s = settings();
    s.balances = BTreeMap::from([("USDT".to_string(), d("50000"))]);
    let sim = SimExchange::new(s).unwrap();
    let insufficient = (
        CODE_NEW_ORDER_REJECTED,
        "Account has insufficient balance for requested action.".to_string(),
    );
    // Market buy of 1.2 would cost 60004.5: refused whole, no partial fill.
    let e = now(sim.submit(order("b1", Side::Buy, "1.2", None))).unwrap_err();
    assert_eq!(code(e), insufficient);
    // A limit buy needs qty × limit, even though it would fill cheaper.
    let e = now(sim.submit(order("b2", Side::Buy, "1", gtc("50000.01")))).unwrap_err();
    assert_eq!(code(e), insufficient);
    assert_eq!(bal(&sim, "USDT"), (d("50000"), d("0")));
    // Exactly affordable is fine; the levels were not consumed by the refusals.
    // Level 0 holds 0.5: half fills at 50000, the other half rests with 25000 locked.
    let r = now(sim.submit(order("b3", Side::Buy, "1", gtc("50000")))).unwrap();
    assert_eq!(r.status, OrderStatus::PartiallyFilled);
    assert_eq!(
        fills(&r),
        vec![(d("0.5"), d("50000"), d("0.0005"), "BTC", false)]
    );
    assert_eq!(bal(&sim, "USDT"), (d("0"), d("25000")));
    assert_eq!(bal(&sim, "BTC"), (d("0.4995"), d("0")));
}

#[test]
fn cancel_releases_the_locked_balance() {
    let sim = sim();
    now(sim.submit(order("c1", Side::Buy, "0.2", gtc("49000")))).unwrap();
    now(sim.submit(order("c2", Side::Sell, "0.3", gtc("51000")))).unwrap();
    assert_eq!(bal(&sim, "USDT"), (d("990200"), d("9800")));
    assert_eq!(bal(&sim, "BTC"), (d("0.7"), d("0.3")));
    let id = |s: &str| ClientOrderId::new(s).unwrap();
    let r = now(sim.cancel(sym("BTCUSDT"), id("c1"))).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::Canceled, 0));
    now(sim.cancel(sym("BTCUSDT"), id("c2"))).unwrap();
    assert_eq!(bal(&sim, "USDT"), (d("1000000"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1"), d("0")));
    let unknown_order = (CODE_CANCEL_REJECTED, "Unknown order sent.".to_string());
    let again = now(sim.cancel(sym("BTCUSDT"), id("c1"))).unwrap_err();
    assert_eq!(code(again), unknown_order);
    let never = now(sim.cancel(sym("BTCUSDT"), id("nope"))).unwrap_err();
    assert_eq!(code(never), unknown_order);
    // A canceled order no longer fills when the price crosses it.
    sim.set_price(&sym("BTCUSDT"), Price(d("48000"))).unwrap();
    assert_eq!(bal(&sim, "USDT"), (d("1000000"), d("0")));
    let q = now(sim.query(sym("BTCUSDT"), id("c1"))).unwrap();
    assert_eq!(q.status, OrderStatus::Canceled);
}
