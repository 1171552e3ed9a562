//! Order arithmetic: reports folded in monotonically, fills applied once, adoption.

use super::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn request() -> OrderRequest {
    OrderRequest::limit(
        ClientOrderId::new("t1").unwrap(),
        Symbol::new("BTCUSDT").unwrap(),
        Side::Buy,
        Qty(d("2")),
        Price(d("100")),
        TimeInForce::Gtc,
    )
}

fn fill(trade_id: u64, qty: &str, price: &str) -> Fill {
    Fill {
        trade_id,
        symbol: Symbol::new("BTCUSDT").unwrap(),
        client_order_id: ClientOrderId::new("t1").unwrap(),
        side: Side::Buy,
        quantity: Qty(d(qty)),
        price: Price(d(price)),
        commission: Decimal::ZERO,
        commission_asset: Arc::from("USDT"),
        is_maker: false,
        ts: Utc::now(),
    }
}

fn report(status: OrderStatus, executed: &str, quote: &str, fills: Vec<Fill>) -> OrderReport {
    OrderReport {
        client_order_id: ClientOrderId::new("t1").unwrap(),
        exchange_order_id: 7,
        symbol: Symbol::new("BTCUSDT").unwrap(),
        status,
        executed_qty: Qty(d(executed)),
        cumulative_quote: d(quote),
        fills,
        ts: Utc::now(),
        terms: None,
    }
}

#[test]
fn a_fill_reported_twice_is_applied_once() {
    let mut order = Order::new(&request(), None, None, Utc::now());
    let first = report(
        OrderStatus::PartiallyFilled,
        "1",
        "100",
        vec![fill(1, "1", "100")],
    );
    assert_eq!(order.apply_report(&first).len(), 1);
    assert_eq!(order.apply_report(&first).len(), 0);
    assert_eq!(order.filled_quantity, Qty(d("1")));
    assert_eq!(order.status, OrderStatus::PartiallyFilled);
}

#[test]
fn late_reports_do_not_move_an_order_backwards() {
    let mut order = Order::new(&request(), None, None, Utc::now());
    let done = report(
        OrderStatus::Filled,
        "2",
        "199",
        vec![fill(1, "1", "100"), fill(2, "1", "99")],
    );
    order.apply_report(&done);
    let stale = report(OrderStatus::New, "0", "0", vec![]);
    order.apply_report(&stale);
    assert_eq!(order.status, OrderStatus::Filled);
    assert_eq!(order.filled_quantity, Qty(d("2")));
    assert_eq!(order.average_price, Some(Price(d("99.5"))));
}

#[test]
fn order_types_read_our_names_and_binances() {
    for (ours, binance, t) in [
        ("market", "MARKET", OrderType::Market),
        ("limit_maker", "LIMIT_MAKER", OrderType::LimitMaker),
        ("stop_loss", "STOP_LOSS", OrderType::StopLoss),
        (
            "stop_loss_limit",
            "STOP_LOSS_LIMIT",
            OrderType::StopLossLimit,
        ),
        ("take_profit", "TAKE_PROFIT", OrderType::TakeProfit),
        (
            "take_profit_limit",
            "TAKE_PROFIT_LIMIT",
            OrderType::TakeProfitLimit,
        ),
    ] {
        let q = |s: &str| serde_json::from_str::<OrderType>(&format!("\"{s}\"")).unwrap();
        assert_eq!((q(ours), q(binance)), (t, t));
        assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{ours}\""));
        assert_eq!(t.as_binance(), binance);
    }
    // Stop above the market: STOP_LOSS buy and TAKE_PROFIT sell.
    assert!(OrderType::StopLoss.fires_above(Side::Buy));
    assert!(OrderType::TakeProfitLimit.fires_above(Side::Sell));
    assert!(!OrderType::StopLossLimit.fires_above(Side::Sell));
    assert!(!OrderType::TakeProfit.fires_above(Side::Buy));
}

#[test]
fn stop_parameters_are_checked_against_the_type() {
    let p = Some(Decimal::ONE);
    assert_eq!(
        stop_for(OrderType::Limit, p, None).unwrap_err().field,
        "stop_price"
    );
    assert_eq!(
        stop_for(OrderType::Market, None, Some(5))
            .unwrap_err()
            .field,
        "trailing_delta"
    );
    assert_eq!(
        stop_for(OrderType::StopLoss, None, None).unwrap_err().field,
        "stop_price"
    );
    assert_eq!(
        stop_for(OrderType::StopLoss, Some(Decimal::ZERO), None)
            .unwrap_err()
            .field,
        "stop_price"
    );
    assert_eq!(
        stop_for(OrderType::TakeProfit, None, Some(250)),
        Ok((None, Some(250)))
    );
    assert!(price_for(OrderType::StopLossLimit, None).is_err());
    assert!(price_for(OrderType::StopLoss, p).is_err());
}

#[test]
fn unknown_is_resolved_by_a_later_report() {
    let mut order = Order::new(&request(), None, None, Utc::now());
    order.status = OrderStatus::Unknown;
    order.apply_report(&report(OrderStatus::New, "0", "0", vec![]));
    assert_eq!(order.status, OrderStatus::New);
}

#[test]
fn an_adopted_order_takes_its_terms_and_its_fills_once() {
    let mut report = report(OrderStatus::Filled, "1", "100", vec![fill(9, "1", "100")]);
    report.terms = Some(OrderTerms {
        side: Side::Sell,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Gtc,
        quantity: Qty(d("1")),
        price: None,
    });
    let mut order = Order::adopt(&report, "emergency", Utc::now()).unwrap();
    assert_eq!((order.side, order.quantity), (Side::Sell, Qty(d("1"))));
    assert_eq!(order.strategy.as_deref(), Some("emergency"));
    assert_eq!(order.apply_report(&report).len(), 1);
    assert_eq!(order.apply_report(&report).len(), 0);
    assert_eq!(order.status, OrderStatus::Filled);

    let bare = self::report(OrderStatus::New, "0", "0", vec![]);
    assert!(Order::adopt(&bare, "external", Utc::now()).is_none());
}
