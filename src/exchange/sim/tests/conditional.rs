//! LIMIT_MAKER, market by quote amount, stop and take-profit orders, trailing stops.
//! BTCUSDT starts at 50000 with 0.5 BTC per level, levels 0.01% apart; taker fee 0.1%, maker
//! 0.05%; the account holds 1,000,000 USDT and 1 BTC.

use super::*;

fn refused(sim: &SimExchange, o: OrderRequest) -> (i64, String) {
    code(now(sim.submit(o)).unwrap_err())
}

#[test]
fn limit_maker_rests_as_maker_and_is_refused_if_it_would_take() {
    let sim = sim();
    let take = (
        CODE_NEW_ORDER_REJECTED,
        "Order would immediately match and take.".to_string(),
    );
    let lm = |id: &str, side, p: &str| {
        typed(id, side, OrderType::LimitMaker, "0.1", Some(p), None, None)
    };
    // Level 0 is 50000 on both sides: a maker at 50000 would take it.
    assert_eq!(refused(&sim, lm("m1", Side::Buy, "50000")), take);
    assert_eq!(refused(&sim, lm("m2", Side::Sell, "50000")), take);
    assert_eq!(sim.order_count(), 0);
    let r = now(sim.submit(lm("m3", Side::Buy, "49999.99"))).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::New, 0));
    assert_eq!(bal(&sim, "USDT"), (d("995000.001"), d("4999.999")));
    price(&sim, "49999.99");
    let q = now(sim.query(sym("BTCUSDT"), cid("m3"))).unwrap();
    assert_eq!(q.status, OrderStatus::Filled);
    assert_eq!(
        fills(&q),
        vec![(d("0.1"), d("49999.99"), d("0.00005"), "BTC", true)]
    );
    assert_eq!(bal(&sim, "USDT"), (d("995000.001"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.09995"), d("0")));
}

#[test]
fn market_by_quote_amount_gets_the_quantity_rounded_down_to_the_step() {
    let sim = sim();
    let by_quote = |id: &str, side, quote: &str| OrderRequest {
        quote_quantity: Some(d(quote)),
        ..order(id, side, "0", None)
    };
    // 30000 USDT: 0.5 at 50000 (25000), then 5000 / 50005 = 0.09999000.. → 0.09999.
    let r = now(sim.submit(by_quote("q1", Side::Buy, "30000"))).unwrap();
    assert_eq!(r.status, OrderStatus::Filled);
    assert_eq!(
        (r.executed_qty.0, r.cumulative_quote),
        (d("0.59999"), d("29999.99995"))
    );
    assert_eq!(
        fills(&r),
        vec![
            (d("0.5"), d("50000"), d("0.0005"), "BTC", false),
            (d("0.09999"), d("50005"), d("0.00009999"), "BTC", false),
        ]
    );
    assert_eq!(bal(&sim, "USDT"), (d("970000.00005"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.59939001"), d("0")));
    // A sell for 10000 USDT sells 0.2 at 50000 and pays 10 USDT commission.
    price(&sim, "50000");
    let r = now(sim.submit(by_quote("q2", Side::Sell, "10000"))).unwrap();
    assert_eq!(
        (r.executed_qty.0, r.cumulative_quote),
        (d("0.2"), d("10000"))
    );
    assert_eq!(bal(&sim, "USDT"), (d("979990.00005"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.39939001"), d("0")));
    // Under the 5 USDT minimum notional.
    let e = refused(&sim, by_quote("q3", Side::Buy, "1"));
    assert_eq!(e, (CODE_INVALID_MESSAGE, "Filter failure: NOTIONAL".into()));
}

#[test]
fn stop_loss_sell_triggers_exactly_at_the_stop_price_as_a_market_order() {
    let sim = sim();
    let mut rx = sim.subscribe();
    let sl = typed(
        "sl1",
        Side::Sell,
        OrderType::StopLoss,
        "0.3",
        None,
        Some("49000"),
        None,
    );
    let r = now(sim.submit(sl)).unwrap();
    assert_eq!((r.status, r.fills.len()), (OrderStatus::New, 0));
    assert_eq!(bal(&sim, "BTC"), (d("0.7"), d("0.3")));
    assert_eq!(drain(&mut rx), vec!["order sl1 NEW 0"]);
    price(&sim, "49000.01");
    assert_eq!(drain(&mut rx), vec!["price 49000.01"]);
    assert_eq!(
        sim.trigger_price(&sym("BTCUSDT"), &cid("sl1")),
        Some(Price(d("49000")))
    );
    price(&sim, "49000");
    assert_eq!(drain(&mut rx), vec!["price 49000", "order sl1 FILLED 1"]);
    let q = now(sim.query(sym("BTCUSDT"), cid("sl1"))).unwrap();
    // 0.3 × 49000 = 14700, taker fee 14.7 USDT.
    assert_eq!(
        fills(&q),
        vec![(d("0.3"), d("49000"), d("14.7"), "USDT", false)]
    );
    assert_eq!(bal(&sim, "USDT"), (d("1014685.3"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.7"), d("0")));
    assert_eq!(sim.trigger_price(&sym("BTCUSDT"), &cid("sl1")), None);
}

#[test]
fn a_stop_that_would_trigger_immediately_and_bad_stop_parameters_are_refused() {
    let sim = sim();
    let before = now(sim.balances()).unwrap();
    let at_once = (
        CODE_NEW_ORDER_REJECTED,
        "Order would trigger immediately.".to_string(),
    );
    let stop = |kind, side, stop: &str, delta| {
        let price = kind_price(kind);
        typed("x", side, kind, "0.1", price, Some(stop), delta)
    };
    for o in [
        stop(OrderType::StopLoss, Side::Sell, "50000", None),
        stop(OrderType::StopLossLimit, Side::Sell, "50000.01", None),
        stop(OrderType::StopLoss, Side::Buy, "50000", None),
        stop(OrderType::TakeProfit, Side::Sell, "49000", None),
        stop(OrderType::TakeProfitLimit, Side::Buy, "51000", None),
        stop(OrderType::StopLoss, Side::Sell, "50000", Some(100)),
    ] {
        assert_eq!(refused(&sim, o.clone()), at_once, "{o:?}");
    }
    let cases = [
        (
            typed(
                "x",
                Side::Sell,
                OrderType::StopLoss,
                "0.1",
                None,
                None,
                None,
            ),
            (
                -1102,
                "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
            ),
        ),
        (
            stop(OrderType::StopLoss, Side::Sell, "49000.001", None),
            (CODE_INVALID_MESSAGE, "Filter failure: PRICE_FILTER"),
        ),
        (
            typed(
                "x",
                Side::Sell,
                OrderType::StopLoss,
                "0.1",
                None,
                None,
                Some(5),
            ),
            (CODE_INVALID_MESSAGE, "Filter failure: TRAILING_DELTA"),
        ),
        (
            typed(
                "x",
                Side::Buy,
                OrderType::Limit,
                "0.1",
                Some("49000"),
                Some("1"),
                None,
            ),
            (-1106, "Parameter 'stopPrice' sent when not required."),
        ),
    ];
    for (o, (want_code, want_msg)) in cases {
        assert_eq!(refused(&sim, o), (want_code, want_msg.to_string()));
    }
    assert_eq!(now(sim.balances()).unwrap(), before);
    assert_eq!(sim.order_count(), 0);
}

fn kind_price(kind: OrderType) -> Option<&'static str> {
    kind.has_limit_price().then_some("49500")
}

#[test]
fn stop_loss_limit_works_as_a_limit_order_and_rests_what_it_cannot_fill() {
    let sim = sim();
    let slb = typed(
        "slb",
        Side::Buy,
        OrderType::StopLossLimit,
        "1.2",
        Some("51005"),
        Some("51000"),
        None,
    );
    now(sim.submit(slb)).unwrap();
    // Reserved at its limit: 1.2 × 51005.
    assert_eq!(bal(&sim, "USDT"), (d("938794"), d("61206")));
    price(&sim, "51000");
    // Asks: 51000 (0.5), then 51005.10 — above the limit. 0.5 fills, 0.7 rests at 51005.
    let q = now(sim.query(sym("BTCUSDT"), cid("slb"))).unwrap();
    assert_eq!(q.status, OrderStatus::PartiallyFilled);
    assert_eq!(
        fills(&q),
        vec![(d("0.5"), d("51000"), d("0.0005"), "BTC", false)]
    );
    // Paid 25502.5 of the reservation for 25500 of fills: 2.5 back to free.
    assert_eq!(bal(&sim, "USDT"), (d("938796.5"), d("35703.5")));
    assert_eq!(bal(&sim, "BTC"), (d("1.4995"), d("0")));
    price(&sim, "51005");
    let q = now(sim.query(sym("BTCUSDT"), cid("slb"))).unwrap();
    assert_eq!(
        (q.status, q.cumulative_quote),
        (OrderStatus::Filled, d("61203.5"))
    );
    assert!(q.fills[1].is_maker);
    assert_eq!(bal(&sim, "USDT"), (d("938796.5"), d("0")));
    // 1.4995 + 0.7 − 0.00035 maker fee.
    assert_eq!(bal(&sim, "BTC"), (d("2.19915"), d("0")));
}

#[test]
fn a_triggered_ioc_stop_limit_expires_what_it_cannot_fill_at_once() {
    let sim = sim();
    let ioc = OrderRequest {
        time_in_force: TimeInForce::Ioc,
        ..typed(
            "ioc",
            Side::Sell,
            OrderType::StopLossLimit,
            "0.8",
            Some("49000"),
            Some("49000"),
            None,
        )
    };
    now(sim.submit(ioc)).unwrap();
    price(&sim, "49000");
    // Only level 0 (0.5 at 49000) is at or above the limit; the other 0.3 expires.
    let q = now(sim.query(sym("BTCUSDT"), cid("ioc"))).unwrap();
    assert_eq!(
        (q.status, q.executed_qty.0),
        (OrderStatus::Expired, d("0.5"))
    );
    assert_eq!(bal(&sim, "BTC"), (d("0.5"), d("0")));
    // 0.5 × 49000 = 24500 − 24.5 taker fee.
    assert_eq!(bal(&sim, "USDT"), (d("1024475.5"), d("0")));
}

#[test]
fn take_profit_buy_reserves_its_cost_when_it_triggers() {
    let sim = sim();
    let tp = || {
        typed(
            "tp",
            Side::Buy,
            OrderType::TakeProfit,
            "0.1",
            None,
            Some("49000"),
            None,
        )
    };
    now(sim.submit(tp())).unwrap();
    assert_eq!(bal(&sim, "USDT"), (d("1000000"), d("0")));
    price(&sim, "49000");
    let q = now(sim.query(sym("BTCUSDT"), cid("tp"))).unwrap();
    assert_eq!(
        (q.status, fills(&q)),
        (
            OrderStatus::Filled,
            vec![(d("0.1"), d("49000"), d("0.0001"), "BTC", false)]
        )
    );
    assert_eq!(bal(&sim, "USDT"), (d("995100"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.0999"), d("0")));

    // An account that cannot pay when it triggers: the order expires with nothing filled.
    let mut s = settings();
    s.balances = BTreeMap::from([("USDT".to_string(), d("1000"))]);
    let poor = SimExchange::new(s).unwrap();
    now(poor.submit(tp())).unwrap();
    price(&poor, "49000");
    let q = now(poor.query(sym("BTCUSDT"), cid("tp"))).unwrap();
    assert_eq!((q.status, q.fills.len()), (OrderStatus::Expired, 0));
    assert_eq!(bal(&poor, "USDT"), (d("1000"), d("0")));
}

#[test]
fn trailing_stop_follows_the_highest_price_never_moves_back_then_triggers() {
    let sim = sim();
    let ts = typed(
        "ts",
        Side::Sell,
        OrderType::StopLoss,
        "0.2",
        None,
        None,
        Some(100),
    );
    now(sim.submit(ts)).unwrap();
    let stop = || sim.trigger_price(&sym("BTCUSDT"), &cid("ts")).map(|p| p.0);
    // Tracking from placement: 1% under 50000.
    assert_eq!(stop(), Some(d("49500")));
    price(&sim, "51000");
    assert_eq!(stop(), Some(d("50490")));
    price(&sim, "50500");
    assert_eq!(stop(), Some(d("50490")), "the stop never moves back");
    price(&sim, "52000");
    assert_eq!(stop(), Some(d("51480")));
    price(&sim, "51480.01");
    assert_eq!(bal(&sim, "BTC"), (d("0.8"), d("0.2")));
    price(&sim, "51480");
    let q = now(sim.query(sym("BTCUSDT"), cid("ts"))).unwrap();
    // 0.2 × 51480 = 10296, taker fee 10.296 USDT.
    assert_eq!(
        (q.status, fills(&q)),
        (
            OrderStatus::Filled,
            vec![(d("0.2"), d("51480"), d("10.296"), "USDT", false)]
        )
    );
    assert_eq!(bal(&sim, "USDT"), (d("1010285.704"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.8"), d("0")));
}

#[test]
fn trailing_stop_with_a_stop_price_starts_tracking_only_once_it_is_reached() {
    let sim = sim();
    let ts = typed(
        "tb",
        Side::Buy,
        OrderType::StopLoss,
        "0.1",
        None,
        Some("50500"),
        Some(200),
    );
    now(sim.submit(ts)).unwrap();
    let stop = || sim.trigger_price(&sym("BTCUSDT"), &cid("tb")).map(|p| p.0);
    assert_eq!(stop(), Some(d("50500")));
    price(&sim, "49000"); // a 2% fall before activation is ignored
    assert_eq!(stop(), Some(d("50500")));
    price(&sim, "50500"); // reached: the lowest price is now 50500
    assert_eq!(stop(), Some(d("51510")));
    price(&sim, "50200");
    assert_eq!(stop(), Some(d("51204")));
    price(&sim, "51000");
    assert_eq!(stop(), Some(d("51204")), "the stop never moves back");
    price(&sim, "51204");
    let q = now(sim.query(sym("BTCUSDT"), cid("tb"))).unwrap();
    assert_eq!(
        (q.status, fills(&q)),
        (
            OrderStatus::Filled,
            vec![(d("0.1"), d("51204"), d("0.0001"), "BTC", false)]
        )
    );
    assert_eq!(bal(&sim, "USDT"), (d("994879.6"), d("0")));
}

#[test]
fn canceling_a_waiting_stop_releases_its_reservation() {
    let sim = sim();
    let sl = typed(
        "w",
        Side::Sell,
        OrderType::StopLossLimit,
        "0.5",
        Some("48990"),
        Some("49000"),
        None,
    );
    now(sim.submit(sl)).unwrap();
    assert_eq!(now(sim.open_orders()).unwrap().len(), 1);
    assert_eq!(bal(&sim, "BTC"), (d("0.5"), d("0.5")));
    let r = now(sim.cancel(sym("BTCUSDT"), cid("w"))).unwrap();
    assert_eq!(r.status, OrderStatus::Canceled);
    assert_eq!(bal(&sim, "BTC"), (d("1"), d("0")));
    price(&sim, "48000");
    let q = now(sim.query(sym("BTCUSDT"), cid("w"))).unwrap();
    assert_eq!((q.status, q.fills.len()), (OrderStatus::Canceled, 0));
    assert_eq!(bal(&sim, "BTC"), (d("1"), d("0")));
}
