//! Tests of `SimExchange` through its public API and the `Exchange` port.

use super::*;
use crate::domain::{OrderStatus, OrderType, Side, TimeInForce};
use crate::exchange::filters::Instruments;
use crate::exchange::{
    CODE_BAD_SYMBOL, CODE_CANCEL_REJECTED, CODE_INVALID_MESSAGE, CODE_NEW_ORDER_REJECTED,
    CODE_NO_SUCH_ORDER,
};
use futures_util::FutureExt;
use std::future::Future;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn now<T>(f: impl Future<Output = T>) -> T {
    f.now_or_never().expect("sim futures are ready")
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

fn settings() -> SimSettings {
    let instruments =
        Instruments::from_exchange_info_json(include_str!("../../../config/exchange_info.json"))
            .unwrap();
    let market = |s: &str, price: &str, level: &str| SimMarket {
        rules: instruments.get(&sym(s)).unwrap().clone(),
        start_price: Price(d(price)),
        level_qty: Qty(d(level)),
        level_spacing: d("0.0001"),
    };
    SimSettings {
        seed: 7,
        taker_fee_rate: d("0.001"),
        maker_fee_rate: d("0.0005"),
        volatility: d("0.0005"),
        book_levels: 5,
        retained_orders: 100_000,
        balances: BTreeMap::from([
            ("USDT".to_string(), d("1000000")),
            ("BTC".to_string(), d("1")),
        ]),
        markets: vec![
            market("BTCUSDT", "50000", "0.5"),
            market("ETHUSDT", "3000", "5"),
        ],
    }
}

fn sim() -> SimExchange {
    SimExchange::new(settings()).unwrap()
}

fn order(cid: &str, side: Side, qty: &str, limit: Option<(&str, TimeInForce)>) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new(cid).unwrap(),
        symbol: sym("BTCUSDT"),
        side,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        quantity: Qty(d(qty)),
        price: limit.map(|(p, _)| Price(d(p))),
        time_in_force: limit.map_or(TimeInForce::Gtc, |(_, t)| t),
    }
}

fn gtc(p: &str) -> Option<(&str, TimeInForce)> {
    Some((p, TimeInForce::Gtc))
}

/// (free, locked) of `asset`, zero if absent.
fn bal(sim: &SimExchange, asset: &str) -> (Decimal, Decimal) {
    now(sim.balances())
        .unwrap()
        .into_iter()
        .find(|b| b.asset == asset)
        .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
}

fn fills(r: &OrderReport) -> Vec<(Decimal, Decimal, Decimal, &str, bool)> {
    r.fills
        .iter()
        .map(|f| {
            let asset = f.commission_asset.as_ref();
            (f.quantity.0, f.price.0, f.commission, asset, f.is_maker)
        })
        .collect()
}

fn code(e: ExchangeError) -> (i64, String) {
    match e {
        ExchangeError::Rejected { code, message } => (code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

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
