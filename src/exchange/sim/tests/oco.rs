//! OCO order lists: placement rules, one leg working ends the other, list status, cancel.
//! Same market as `conditional`: BTCUSDT at 50000, 0.5 BTC per level, taker 0.1%, maker 0.05%.

use super::*;
use crate::domain::{ListOrderStatus, ListStatusType, OcoLeg, OcoRequest};

/// A leg: (client id, type, price, stop price, trailing delta).
type Leg<'a> = (
    &'a str,
    OrderType,
    Option<&'a str>,
    Option<&'a str>,
    Option<u32>,
);

fn leg((id, kind, price, stop, delta): Leg) -> OcoLeg {
    OcoLeg {
        client_order_id: cid(id),
        order_type: kind,
        price: price.map(|p| Price(d(p))),
        stop_price: stop.map(|p| Price(d(p))),
        trailing_delta: delta,
        time_in_force: TimeInForce::Gtc,
    }
}

fn oco(list: &str, side: Side, qty: &str, above: Leg, below: Leg) -> OcoRequest {
    OcoRequest {
        list_client_order_id: cid(list),
        symbol: sym("BTCUSDT"),
        side,
        quantity: Qty(d(qty)),
        above: leg(above),
        below: leg(below),
    }
}

/// A sell OCO: take profit as a limit maker above, stop-loss-limit below.
fn sell_oco(
    list: &str,
    qty: &str,
    limit_above: &str,
    stop_below: &str,
    limit_below: &str,
) -> OcoRequest {
    oco(
        list,
        Side::Sell,
        qty,
        ("tp", OrderType::LimitMaker, Some(limit_above), None, None),
        (
            "sl",
            OrderType::StopLossLimit,
            Some(limit_below),
            Some(stop_below),
            None,
        ),
    )
}

fn status(sim: &SimExchange, id: &str) -> OrderStatus {
    now(sim.query(sym("BTCUSDT"), cid(id))).unwrap().status
}

#[test]
fn a_filled_limit_leg_expires_the_stop_leg_and_ends_the_list() {
    let sim = sim();
    let mut rx = sim.subscribe();
    let r = now(sim.submit_oco(sell_oco("L1", "0.4", "51000", "49000", "48990"))).unwrap();
    assert_eq!(
        (r.list_status_type, r.list_order_status),
        (ListStatusType::ExecStarted, ListOrderStatus::Executing)
    );
    let legs: Vec<_> = r
        .orders
        .iter()
        .map(|o| (o.client_order_id.to_string(), o.status))
        .collect();
    assert_eq!(
        legs,
        vec![
            ("sl".into(), OrderStatus::New),
            ("tp".into(), OrderStatus::New)
        ]
    );
    // The list reserves its quantity of BTC once.
    assert_eq!(bal(&sim, "BTC"), (d("0.6"), d("0.4")));
    assert_eq!(
        drain(&mut rx),
        vec![
            "order sl NEW 0",
            "order tp NEW 0",
            "list L1 ExecStarted/Executing"
        ]
    );
    price(&sim, "51000");
    assert_eq!(
        drain(&mut rx),
        vec![
            "price 51000",
            "order sl EXPIRED 0",
            "order tp FILLED 1",
            "list L1 AllDone/AllDone"
        ]
    );
    // 0.4 × 51000 = 20400, maker fee 10.2 USDT.
    assert_eq!(bal(&sim, "USDT"), (d("1020389.8"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.6"), d("0")));
    let list = sim.order_list(&sym("BTCUSDT"), &cid("L1")).unwrap();
    assert_eq!(list.list_order_status, ListOrderStatus::AllDone);
    // The expired stop no longer triggers.
    price(&sim, "48000");
    assert_eq!(drain(&mut rx), vec!["price 48000"]);
    assert_eq!(status(&sim, "sl"), OrderStatus::Expired);
    assert_eq!(bal(&sim, "BTC"), (d("0.6"), d("0")));
}

#[test]
fn a_triggered_stop_leg_that_partly_fills_expires_the_limit_leg_and_keeps_working() {
    let sim = sim();
    now(sim.submit_oco(sell_oco("L2", "0.8", "51000", "49000", "49000"))).unwrap();
    assert_eq!(bal(&sim, "BTC"), (d("0.2"), d("0.8")));
    let mut rx = sim.subscribe();
    price(&sim, "49000");
    // Level 0 (0.5 at 49000) is all the stop-limit can take at its 49000 limit.
    assert_eq!(
        drain(&mut rx),
        vec![
            "price 49000",
            "order tp EXPIRED 0",
            "order sl PARTIALLY_FILLED 1",
            "list L2 AllDone/AllDone"
        ]
    );
    // 0.5 × 49000 = 24500, taker fee 24.5.
    assert_eq!(bal(&sim, "USDT"), (d("1024475.5"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.2"), d("0.3")));
    // Its list has ended, so the working rest is a plain order now.
    let list = sim.order_list(&sym("BTCUSDT"), &cid("L2")).unwrap();
    assert_eq!(list.list_order_status, ListOrderStatus::AllDone);
    // The rest rests at 49000; the expired limit leg does not fill at 51000.
    price(&sim, "51000");
    assert_eq!(drain(&mut rx), vec!["price 51000", "order sl FILLED 1"]);
    assert_eq!(status(&sim, "tp"), OrderStatus::Expired);
    // + 0.3 × 49000 = 14700 − 7.35 maker fee.
    assert_eq!(bal(&sim, "USDT"), (d("1039168.15"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.2"), d("0")));
}

#[test]
fn a_leg_still_working_after_its_list_ended_is_canceled_alone() {
    let sim = sim();
    now(sim.submit_oco(sell_oco("L6", "0.8", "51000", "49000", "49000"))).unwrap();
    price(&sim, "49000"); // the stop leg fills 0.5 and rests 0.3
    let mut rx = sim.subscribe();
    let r = now(sim.cancel(sym("BTCUSDT"), cid("sl"))).unwrap();
    assert_eq!(
        (r.status, r.executed_qty.0),
        (OrderStatus::Canceled, d("0.5"))
    );
    assert_eq!(drain(&mut rx), vec!["order sl CANCELED 0"]);
    assert_eq!(bal(&sim, "BTC"), (d("0.5"), d("0")));
}

#[test]
fn buy_oco_stop_leg_takes_the_reservation_and_pays_the_rest_when_it_triggers() {
    let sim = sim();
    let buy = oco(
        "L3",
        Side::Buy,
        "0.2",
        ("bs", OrderType::StopLoss, None, Some("51000"), None),
        ("bl", OrderType::LimitMaker, Some("49000"), None, None),
    );
    now(sim.submit_oco(buy)).unwrap();
    // Reserved once at the limit leg's price: 0.2 × 49000.
    assert_eq!(bal(&sim, "USDT"), (d("990200"), d("9800")));
    let mut rx = sim.subscribe();
    price(&sim, "51000");
    assert_eq!(
        drain(&mut rx),
        vec![
            "price 51000",
            "order bl EXPIRED 0",
            "order bs FILLED 1",
            "list L3 AllDone/AllDone"
        ]
    );
    // 0.2 × 51000 = 10200 paid; nothing left locked.
    assert_eq!(bal(&sim, "USDT"), (d("989800"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("1.1998"), d("0")));
}

#[test]
fn a_trailing_stop_leg_triggers_from_the_highest_price() {
    let sim = sim();
    let trailing = oco(
        "L4",
        Side::Sell,
        "0.1",
        ("tp", OrderType::LimitMaker, Some("52000"), None, None),
        ("sl", OrderType::StopLoss, None, None, Some(100)),
    );
    now(sim.submit_oco(trailing)).unwrap();
    price(&sim, "51000");
    assert_eq!(
        sim.trigger_price(&sym("BTCUSDT"), &cid("sl")),
        Some(Price(d("50490")))
    );
    price(&sim, "50490");
    assert_eq!(status(&sim, "sl"), OrderStatus::Filled);
    assert_eq!(status(&sim, "tp"), OrderStatus::Expired);
    // 0.1 × 50490 = 5049, taker fee 5.049.
    assert_eq!(bal(&sim, "USDT"), (d("1005043.951"), d("0")));
    assert_eq!(bal(&sim, "BTC"), (d("0.9"), d("0")));
}

#[test]
fn placement_rules_have_binances_codes_and_change_nothing() {
    let sim = sim();
    let before = now(sim.balances()).unwrap();
    let lm = |p| ("a", OrderType::LimitMaker, Some(p), None, None);
    let sl = |s| ("b", OrderType::StopLoss, None, Some(s), None);
    let relation = "The relationship of the prices for the orders is not correct.";
    let cases = [
        (
            oco("X", Side::Sell, "0.1", sl("51000"), sl("49000")),
            -1197,
            "A stop loss order in a sell OCO must be below.",
        ),
        (
            oco("X", Side::Sell, "0.1", lm("51000"), lm("49000")),
            -1168,
            "At least one OCO order must be contingent.",
        ),
        (
            oco(
                "X",
                Side::Sell,
                "0.1",
                ("a", OrderType::Limit, Some("51000"), None, None),
                sl("49000"),
            ),
            -1158,
            "Order type not supported in OCO.",
        ),
        (
            oco(
                "X",
                Side::Sell,
                "0.1",
                lm("51000"),
                ("b", OrderType::LimitMaker, Some("49000"), None, None),
            ),
            -1168,
            "At least one OCO order must be contingent.",
        ),
        (
            oco(
                "X",
                Side::Sell,
                "0.1",
                lm("51000"),
                ("b", OrderType::TakeProfit, None, Some("49000"), None),
            ),
            -1168,
            "At least one OCO order must be contingent.",
        ),
        (
            oco("X", Side::Buy, "0.1", lm("51000"), sl("49000")),
            -1165,
            "A limit order in a buy OCO must be below.",
        ),
        (
            oco("X", Side::Buy, "0.1", sl("51000"), sl("49000")),
            -1196,
            "A stop loss order in a buy OCO must be above.",
        ),
        (
            oco("X", Side::Sell, "0.1", lm("49900"), sl("49000")),
            CODE_NEW_ORDER_REJECTED,
            relation,
        ),
        (
            oco("X", Side::Sell, "0.1", lm("51000"), sl("50000")),
            CODE_NEW_ORDER_REJECTED,
            relation,
        ),
        (
            oco(
                "X",
                Side::Buy,
                "0.1",
                sl("50100"),
                ("a", OrderType::LimitMaker, Some("50000"), None, None),
            ),
            CODE_NEW_ORDER_REJECTED,
            relation,
        ),
        (
            oco("X", Side::Sell, "2", lm("51000"), sl("49000")),
            CODE_NEW_ORDER_REJECTED,
            "Account has insufficient balance for requested action.",
        ),
        (
            oco(
                "X",
                Side::Sell,
                "0.1",
                lm("51000"),
                ("a", OrderType::StopLoss, None, Some("49000"), None),
            ),
            CODE_NEW_ORDER_REJECTED,
            "Duplicate order sent.",
        ),
    ];
    for (request, want_code, want_msg) in cases {
        let got = code(now(sim.submit_oco(request.clone())).unwrap_err());
        assert_eq!(got, (want_code, want_msg.to_string()), "{request:?}");
    }
    assert_eq!(now(sim.balances()).unwrap(), before);
    assert_eq!(sim.order_count(), 0);
}

#[test]
fn canceling_the_list_or_one_leg_cancels_both_and_releases_the_reservation() {
    let sim = sim();
    now(sim.submit_oco(sell_oco("L5", "0.4", "51000", "49000", "48990"))).unwrap();
    let mut rx = sim.subscribe();
    let r = now(sim.cancel_order_list(sym("BTCUSDT"), cid("L5"))).unwrap();
    assert_eq!(r.list_order_status, ListOrderStatus::AllDone);
    assert!(r.orders.iter().all(|o| o.status == OrderStatus::Canceled));
    assert_eq!(
        drain(&mut rx),
        vec![
            "order sl CANCELED 0",
            "order tp CANCELED 0",
            "list L5 AllDone/AllDone"
        ]
    );
    assert_eq!(bal(&sim, "BTC"), (d("1"), d("0")));
    let again = now(sim.cancel_order_list(sym("BTCUSDT"), cid("L5"))).unwrap_err();
    assert_eq!(
        code(again),
        (CODE_CANCEL_REJECTED, "Unknown order sent.".into())
    );
    // The list id and leg ids are free again; canceling one leg ends the whole list.
    now(sim.submit_oco(sell_oco("L5", "0.4", "51000", "49000", "48990"))).unwrap();
    let r = now(sim.cancel(sym("BTCUSDT"), cid("tp"))).unwrap();
    assert_eq!(r.status, OrderStatus::Canceled);
    assert_eq!(status(&sim, "sl"), OrderStatus::Canceled);
    assert_eq!(bal(&sim, "BTC"), (d("1"), d("0")));
    assert!(now(sim.open_orders()).unwrap().is_empty());
}
