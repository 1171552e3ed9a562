//! Validation, client ids, queries, events, faults, the feed and retention.

use super::*;

#[test]
fn each_validation_rejection_has_binances_code_and_changes_nothing() {
    let sim = sim();
    let rx = sim.subscribe();
    let before = now(sim.balances()).unwrap();
    let mut unknown = order("v1", Side::Buy, "0.1", None);
    unknown.symbol = sym("XRPUSDT");
    let cases = [
        (unknown, CODE_BAD_SYMBOL, "Invalid symbol."),
        (
            order("v2", Side::Buy, "0.000001", gtc("50000")),
            CODE_INVALID_MESSAGE,
            "Filter failure: LOT_SIZE",
        ),
        (
            order("v3", Side::Buy, "0.1", gtc("50000.001")),
            CODE_INVALID_MESSAGE,
            "Filter failure: PRICE_FILTER",
        ),
        (
            order("v4", Side::Buy, "0.00001", gtc("50000")),
            CODE_INVALID_MESSAGE,
            "Filter failure: NOTIONAL",
        ),
        (
            order("v5", Side::Buy, "0.00001", None),
            CODE_INVALID_MESSAGE,
            "Filter failure: NOTIONAL",
        ),
        (
            order("v6", Side::Sell, "1.5", None),
            CODE_NEW_ORDER_REJECTED,
            "Account has insufficient balance for requested action.",
        ),
    ];
    for (o, want_code, want_msg) in cases {
        let got = code(now(sim.submit(o)).unwrap_err());
        assert_eq!(got, (want_code, want_msg.to_string()));
    }
    assert_eq!(now(sim.balances()).unwrap(), before);
    assert_eq!(sim.order_count(), 0);
    assert!(now(sim.open_orders()).unwrap().is_empty());
    drop(sim);
    let mut rx = rx;
    assert!(rx.try_recv().is_err(), "rejections push nothing");
}

#[test]
fn duplicate_open_client_id_is_rejected_but_reusable_once_filled() {
    let sim = sim();
    now(sim.submit(order("dup", Side::Buy, "0.1", gtc("49000")))).unwrap();
    let e = now(sim.submit(order("dup", Side::Buy, "0.1", None))).unwrap_err();
    assert_eq!(
        code(e),
        (CODE_NEW_ORDER_REJECTED, "Duplicate order sent.".into())
    );
    assert_eq!(sim.order_count(), 1);
    // The same id on another symbol is a different order.
    let mut eth = order("dup", Side::Buy, "0.1", None);
    eth.symbol = sym("ETHUSDT");
    now(sim.submit(eth)).unwrap();
    sim.set_price(&sym("BTCUSDT"), Price(d("49000"))).unwrap();
    let r = now(sim.submit(order("dup", Side::Buy, "0.1", None))).unwrap();
    assert_eq!(r.status, OrderStatus::Filled);
    assert_eq!(r.exchange_order_id, 3);
    // Query now answers for the latest order with that id.
    let q = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("dup").unwrap())).unwrap();
    assert_eq!(q.exchange_order_id, 3);
}

#[test]
fn query_of_an_unknown_order_says_it_does_not_exist() {
    let sim = sim();
    let e = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("x").unwrap())).unwrap_err();
    assert_eq!(
        code(e),
        (CODE_NO_SUCH_ORDER, "Order does not exist.".into())
    );
    let e = now(sim.query(sym("XRPUSDT"), ClientOrderId::new("x").unwrap())).unwrap_err();
    assert_eq!(code(e).0, CODE_BAD_SYMBOL);
}

#[tokio::test]
async fn events_are_pushed_for_submits_resting_fills_and_prices() {
    let sim = sim();
    let mut a = sim.subscribe();
    let mut b = sim.subscribe();
    let answer = sim
        .submit(order("e1", Side::Buy, "0.1", None))
        .await
        .unwrap();
    sim.submit(order("e2", Side::Buy, "0.1", gtc("49990")))
        .await
        .unwrap();
    sim.set_price(&sym("BTCUSDT"), Price(d("49990"))).unwrap();
    for rx in [&mut a, &mut b] {
        let Some(ExchangeEvent::Order(first)) = rx.recv().await else {
            panic!("expected the submit's report")
        };
        assert_eq!(first, answer);
        let Some(ExchangeEvent::Order(rest)) = rx.recv().await else {
            panic!("expected the resting order's report")
        };
        assert_eq!((rest.status, rest.fills.len()), (OrderStatus::New, 0));
        let Some(ExchangeEvent::Price { symbol, price, .. }) = rx.recv().await else {
            panic!("expected the price")
        };
        assert_eq!((symbol, price), (sym("BTCUSDT"), Price(d("49990"))));
        let Some(ExchangeEvent::Order(filled)) = rx.recv().await else {
            panic!("expected the resting fill")
        };
        assert_eq!(filled.status, OrderStatus::Filled);
        assert_eq!(
            fills(&filled),
            vec![(d("0.1"), d("49990"), d("0.00005"), "BTC", true)]
        );
        assert!(rx.try_recv().is_err());
    }
    // A dropped receiver is forgotten; the others keep receiving.
    drop(a);
    sim.set_price(&sym("ETHUSDT"), Price(d("3001"))).unwrap();
    assert!(matches!(b.recv().await, Some(ExchangeEvent::Price { .. })));
}

#[tokio::test]
async fn drop_subscribers_closes_every_stream() {
    let sim = sim();
    let mut a = sim.subscribe();
    let mut b = sim.subscribe();
    sim.drop_subscribers();
    assert!(a.recv().await.is_none());
    assert!(b.recv().await.is_none());
    let mut c = sim.subscribe();
    sim.step_feed();
    assert!(matches!(c.recv().await, Some(ExchangeEvent::Price { .. })));
}

#[test]
fn fail_submits_changes_nothing() {
    let sim = sim();
    sim.inject(SimFault::FailSubmits(2));
    for _ in 0..2 {
        let e = now(sim.submit(order("f", Side::Buy, "0.1", None))).unwrap_err();
        assert!(matches!(e, ExchangeError::Connectivity(_)), "{e:?}");
    }
    assert_eq!(sim.order_count(), 0);
    assert_eq!(bal(&sim, "USDT"), (d("1000000"), d("0")));
    let e = now(sim.query(sym("BTCUSDT"), ClientOrderId::new("f").unwrap())).unwrap_err();
    assert_eq!(code(e).0, CODE_NO_SUCH_ORDER);
    assert!(now(sim.submit(order("f", Side::Buy, "0.1", None))).is_ok());
}

#[tokio::test]
async fn unknown_after_accept_executes_the_order_but_hides_the_answer() {
    let sim = sim();
    let mut rx = sim.subscribe();
    sim.inject(SimFault::UnknownAfterAccept(1));
    let e = sim
        .submit(order("u1", Side::Buy, "0.1", None))
        .await
        .unwrap_err();
    assert!(matches!(e, ExchangeError::UnknownOutcome(_)), "{e:?}");
    assert_eq!(sim.order_count(), 1);
    let q = sim
        .query(sym("BTCUSDT"), ClientOrderId::new("u1").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (q.status, q.executed_qty.0),
        (OrderStatus::Filled, d("0.1"))
    );
    assert!(matches!(rx.recv().await, Some(ExchangeEvent::Order(r)) if r == q));
    assert_eq!(bal(&sim, "BTC"), (d("1.0999"), d("0")));
    // Only one submit was affected.
    assert!(
        sim.submit(order("u2", Side::Buy, "0.1", None))
            .await
            .is_ok()
    );
}

#[test]
fn set_price_validates_like_price_filter() {
    let sim = sim();
    let filter = (CODE_INVALID_MESSAGE, "Filter failure: PRICE_FILTER".into());
    for bad in ["50000.001", "0", "-1", "1000000.01"] {
        let e = sim.set_price(&sym("BTCUSDT"), Price(d(bad))).unwrap_err();
        assert_eq!(code(e), filter, "{bad}");
    }
    let e = sim.set_price(&sym("XRPUSDT"), Price(d("1"))).unwrap_err();
    assert_eq!(code(e), (CODE_BAD_SYMBOL, "Invalid symbol.".into()));
    assert_eq!(sim.price(&sym("BTCUSDT")), Some(Price(d("50000"))));
    assert_eq!(sim.price(&sym("XRPUSDT")), None);
}

#[test]
fn the_feed_is_reproducible_from_the_seed_and_stays_on_tick() {
    let path = |seed: u64| {
        let mut s = settings();
        s.seed = seed;
        let sim = SimExchange::new(s).unwrap();
        (0..100)
            .map(|_| {
                sim.step_feed();
                let btc = sim.price(&sym("BTCUSDT")).unwrap();
                let eth = sim.price(&sym("ETHUSDT")).unwrap();
                assert_eq!(btc.0 % d("0.01"), Decimal::ZERO);
                (btc, eth)
            })
            .collect::<Vec<_>>()
    };
    let a = path(11);
    assert_eq!(a, path(11));
    assert_ne!(a, path(12));
    assert!(a.windows(2).any(|w| w[0] != w[1]), "the price moves");
}

#[test]
fn terminal_orders_beyond_retained_orders_are_forgotten_oldest_first() {
    let mut s = settings();
    s.retained_orders = 2;
    let sim = SimExchange::new(s).unwrap();
    now(sim.submit(order("open", Side::Buy, "0.1", gtc("40000")))).unwrap();
    for cid in ["t1", "t2", "t3"] {
        now(sim.submit(order(cid, Side::Buy, "0.01", None))).unwrap();
    }
    let q = |cid: &str| now(sim.query(sym("BTCUSDT"), ClientOrderId::new(cid).unwrap()));
    assert_eq!(code(q("t1").unwrap_err()).0, CODE_NO_SUCH_ORDER);
    assert!(q("t2").is_ok() && q("t3").is_ok());
    // Open orders are never evicted.
    assert_eq!(q("open").unwrap().status, OrderStatus::New);
    assert_eq!(sim.order_count(), 4);
}

#[test]
fn settings_are_validated() {
    let mut dup = settings();
    dup.markets.push(dup.markets[0].clone());
    assert!(SimExchange::new(dup).unwrap_err().contains("duplicate"));
    let mut off_tick = settings();
    off_tick.markets[0].start_price = Price(d("50000.001"));
    assert!(SimExchange::new(off_tick).is_err());
    let mut no_liquidity = settings();
    no_liquidity.markets[0].level_qty = Qty::ZERO;
    assert!(SimExchange::new(no_liquidity).is_err());
    let mut fee = settings();
    fee.taker_fee_rate = d("-0.001");
    assert!(SimExchange::new(fee).is_err());
}

#[tokio::test]
async fn spawn_feed_steps_the_price_on_a_timer() {
    let sim = sim();
    let mut rx = sim.subscribe();
    let handle = sim.spawn_feed(Duration::from_millis(1));
    let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    assert!(matches!(ev, Ok(Some(ExchangeEvent::Price { .. }))));
    handle.abort();
}
