//! Filter parsing and checks against Binance's own filter examples.

use super::*;
use crate::domain::{ClientOrderId, OrderRequest, OrderType, Price, Qty, Side, TimeInForce};
use rust_decimal::Decimal;
use std::str::FromStr;

const SHARED_FILTERS: &str = "../shared/binance/fixtures/rest/filters_all_examples.json";

fn rules() -> SymbolRules {
    let filters = std::fs::read_to_string(SHARED_FILTERS)
        .expect("shared/binance fixtures must sit beside the checkout");
    let json = format!(
        r#"{{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","quoteAsset":"BTC","filters":{filters}}}"#
    );
    SymbolRules::from_info(&serde_json::from_str(&json).unwrap()).unwrap()
}

fn order(kind: OrderType, qty: &str, price: Option<&str>) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new("c").unwrap(),
        symbol: Symbol::new("ETHBTC").unwrap(),
        side: Side::Buy,
        order_type: kind,
        quantity: Qty::from_str(qty).unwrap(),
        price: price.map(|p| Price::from_str(p).unwrap()),
        time_in_force: TimeInForce::Gtc,
        stop_price: None,
        trailing_delta: None,
        quote_quantity: None,
    }
}

#[test]
fn parses_every_binance_filter_example() {
    let r = rules();
    assert_eq!(r.price.step, Decimal::from_str("0.000001").unwrap());
    assert_eq!(r.lot.step, Decimal::from_str("0.001").unwrap());
    assert_eq!(r.min_notional, Decimal::from_str("10").unwrap());
    assert_eq!(r.max_notional, Decimal::from_str("10000").unwrap());
}

#[test]
fn each_filter_blocks_and_passes() {
    let r = rules();
    let ok = order(OrderType::Limit, "1", Some("20"));
    assert_eq!(r.check_order(&ok, None), Ok(()));
    let cases = [
        (
            order(OrderType::Limit, "1.0005", Some("20")),
            "LOT_SIZE",
            "quantity",
        ),
        (
            order(OrderType::Limit, "0.0001", Some("20")),
            "LOT_SIZE",
            "quantity",
        ),
        (
            order(OrderType::Limit, "1", Some("20.0000001")),
            "PRICE_FILTER",
            "price",
        ),
        (
            order(OrderType::Limit, "1", Some("200000")),
            "PRICE_FILTER",
            "price",
        ),
        (
            order(OrderType::Limit, "1", Some("1")),
            "NOTIONAL",
            "quantity",
        ),
        (
            order(OrderType::Limit, "1000", Some("20")),
            "NOTIONAL",
            "quantity",
        ),
    ];
    for (o, filter, field) in cases {
        let v = r.check_order(&o, None).expect_err(filter);
        assert_eq!((v.filter, v.field), (filter, field), "{v}");
    }
    // NOTIONAL's applyMinToMarket=false: a small market order passes the notional check.
    let small_market = order(OrderType::Market, "0.001", None);
    assert_eq!(
        r.check_order(&small_market, Some(Price::from_str("1").unwrap())),
        Ok(())
    );
}

#[test]
fn floor_qty_rounds_down_to_the_step() {
    let r = rules();
    let q = r
        .floor_qty(Qty::from_str("1.23456").unwrap(), false)
        .unwrap();
    assert_eq!(q, Qty::from_str("1.234").unwrap());
}

fn sided(side: Side, price: &str) -> OrderRequest {
    OrderRequest {
        side,
        ..order(OrderType::Limit, "5", Some(price))
    }
}

#[test]
fn percent_price_by_side_bounds_each_side_around_the_last_price() {
    // The fixture: bid ×0.2..×1.2, ask ×0.8..×5 (PERCENT_PRICE_BY_SIDE wins over PERCENT_PRICE).
    let r = rules();
    let last = Some(Price::from_str("20").unwrap());
    for (side, price, ok) in [
        (Side::Buy, "24", true),
        (Side::Buy, "24.000001", false),
        (Side::Buy, "4", true),
        (Side::Buy, "3.999999", false),
        (Side::Sell, "16", true),
        (Side::Sell, "15.999999", false),
        (Side::Sell, "100", true),
    ] {
        let result = r.check_order(&sided(side, price), last);
        match result {
            Ok(()) => assert!(ok, "{side:?} at {price} passed"),
            Err(v) => {
                assert!(!ok, "{side:?} at {price}: {v}");
                assert_eq!((v.filter, v.field), ("PERCENT_PRICE_BY_SIDE", "price"));
            }
        }
    }
    // With no last price the band cannot be checked here (the venue still checks it).
    assert_eq!(r.check_order(&sided(Side::Buy, "30"), None), Ok(()));
}

#[test]
fn max_num_orders_allows_up_to_the_limit() {
    let r = rules();
    assert_eq!(r.max_open_orders, Some(25));
    assert_eq!(r.check_open_orders(24), Ok(()));
    let v = r.check_open_orders(25).unwrap_err();
    assert_eq!(v.filter, "MAX_NUM_ORDERS");
}

fn conditional(
    kind: OrderType,
    side: Side,
    stop: Option<&str>,
    delta: Option<u32>,
) -> OrderRequest {
    OrderRequest {
        side,
        order_type: kind,
        price: kind
            .has_limit_price()
            .then(|| Price::from_str("0.05").unwrap()),
        stop_price: stop.map(|p| Price::from_str(p).unwrap()),
        trailing_delta: delta,
        ..order(OrderType::Limit, "1000", Some("0.05"))
    }
}

#[test]
fn stop_price_is_held_to_price_filter_and_trailing_delta_to_its_side_of_the_filter() {
    let r = rules();
    // filters_all_examples: TRAILING_DELTA above 10..=2000, below 10..=2000.
    assert!(r.trailing.is_some());
    let ok = conditional(OrderType::StopLoss, Side::Sell, Some("0.04"), None);
    assert_eq!(r.check_order(&ok, None), Ok(()));
    let off_tick = conditional(OrderType::StopLoss, Side::Sell, Some("0.0400001"), None);
    let v = r.check_order(&off_tick, None).unwrap_err();
    assert_eq!((v.filter, v.field), ("PRICE_FILTER", "stop_price"));
    for (kind, side) in [
        (OrderType::StopLoss, Side::Buy),
        (OrderType::TakeProfitLimit, Side::Sell),
        (OrderType::StopLossLimit, Side::Sell),
        (OrderType::TakeProfit, Side::Buy),
    ] {
        let ok = conditional(kind, side, None, Some(10));
        assert_eq!(r.check_order(&ok, None), Ok(()), "{kind:?} {side:?}");
        for delta in [9, 2001] {
            let bad = conditional(kind, side, None, Some(delta));
            let v = r.check_order(&bad, None).unwrap_err();
            assert_eq!((v.filter, v.field), ("TRAILING_DELTA", "trailing_delta"));
        }
    }
}

/// (code, field, message) of an expected parameter error.
type Expected = Option<(i64, &'static str, &'static str)>;

#[test]
fn each_type_needs_and_refuses_binances_parameters() {
    let cases: [(OrderRequest, Expected); 9] = [
        (
            conditional(OrderType::StopLoss, Side::Sell, None, None),
            Some((
                CODE_MANDATORY_PARAM,
                "stop_price",
                "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
            )),
        ),
        (
            conditional(OrderType::StopLossLimit, Side::Sell, None, Some(100)),
            None,
        ),
        (
            OrderRequest {
                price: None,
                ..conditional(OrderType::TakeProfitLimit, Side::Sell, Some("0.06"), None)
            },
            Some((
                CODE_MANDATORY_PARAM,
                "price",
                "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
            )),
        ),
        (
            OrderRequest {
                stop_price: Some(Price::from_str("0.04").unwrap()),
                ..order(OrderType::Limit, "1", Some("0.05"))
            },
            Some((
                CODE_PARAM_NOT_REQUIRED,
                "stop_price",
                "Parameter 'stopPrice' sent when not required.",
            )),
        ),
        (
            OrderRequest {
                trailing_delta: Some(100),
                ..order(OrderType::Market, "1", None)
            },
            Some((
                CODE_PARAM_NOT_REQUIRED,
                "trailing_delta",
                "Parameter 'trailingDelta' sent when not required.",
            )),
        ),
        (
            OrderRequest {
                quote_quantity: Some(Decimal::ONE),
                ..order(OrderType::Market, "0", None)
            },
            None,
        ),
        (
            OrderRequest {
                quote_quantity: Some(Decimal::ONE),
                ..order(OrderType::Market, "1", None)
            },
            Some((
                CODE_BAD_PARAM_COMBO,
                "quote_quantity",
                "Combination of optional parameters invalid.",
            )),
        ),
        (
            order(OrderType::Market, "0", None),
            Some((
                CODE_MANDATORY_PARAM,
                "quantity",
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
            )),
        ),
        (
            OrderRequest {
                quote_quantity: Some(Decimal::ONE),
                ..order(OrderType::Limit, "0", Some("0.05"))
            },
            Some((
                CODE_PARAM_NOT_REQUIRED,
                "quote_quantity",
                "Parameter 'quoteOrderQty' sent when not required.",
            )),
        ),
    ];
    for (o, want) in cases {
        let got = check_params(&o).err().map(|v| (v.code, v.field, v.message));
        let want = want.map(|(c, f, m)| (c, f, m.to_string()));
        assert_eq!(got, want, "{o:?}");
    }
}
