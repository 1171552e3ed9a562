//! Sizing against BTCUSDT's shipped rules: LOT_SIZE step and minimum 0.00001, MARKET_LOT_SIZE
//! maximum 118.18181818, minimum notional 5 USDT.

use super::*;
use crate::domain::{OrderType, SignalInput};
use crate::exchange::filters::Instruments;
use crate::intake::order_for_signal;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn btc() -> SymbolRules {
    let i =
        Instruments::from_exchange_info_json(include_str!("../../../config/exchange_info.json"))
            .unwrap();
    i.get(&Symbol::new("BTCUSDT").unwrap()).unwrap().clone()
}

/// A buy signal on BTCUSDT with the extra JSON fields in `fields`.
fn signal(fields: &str) -> Signal {
    let json = format!(r#"{{"id":"s1","symbol":"BTCUSDT","action":"buy"{fields}}}"#);
    SignalInput::from_json(json.as_bytes())
        .unwrap()
        .validate()
        .unwrap()
}

const ENTRY: &str = "60000";
const EQUITY: &str = "100000";

fn sized(fields: &str, side: Side) -> Result<(Decimal, SizeSource), DomainError> {
    size(
        &signal(fields),
        side,
        &btc(),
        Price(d(ENTRY)),
        Some(d(EQUITY)),
    )
    .map(|(q, source)| (q.0, source))
}

#[test]
fn the_first_sizing_field_given_wins() {
    let all =
        r#","quantity":"0.001","quote_amount":1000,"size_pct":10,"risk_pct":1,"stop_loss":58000"#;
    assert_eq!(
        sized(all, Side::Buy),
        Ok((d("0.001"), SizeSource::Quantity))
    );
    let no_qty = r#","quote_amount":1000,"size_pct":10,"risk_pct":1,"stop_loss":58000"#;
    // 1000 / 60000 = 0.016666.. → down to 0.01666
    assert_eq!(
        sized(no_qty, Side::Buy),
        Ok((d("0.01666"), SizeSource::QuoteAmount))
    );
    let pct = r#","size_pct":10,"risk_pct":1,"stop_loss":58000"#;
    // 10% of 100000 = 10000 → 0.166666.. → 0.16666
    assert_eq!(
        sized(pct, Side::Buy),
        Ok((d("0.16666"), SizeSource::SizePct))
    );
    // 1% of 100000 = 1000 at risk over 60000 − 58000 = 2000 → 0.5
    let risk = r#","risk_pct":1,"stop_loss":58000"#;
    assert_eq!(sized(risk, Side::Buy), Ok((d("0.5"), SizeSource::RiskPct)));
    // Nothing: the minimum notional 5 / 60000 = 0.0000833.. rounded UP to 0.00009.
    assert_eq!(
        sized("", Side::Buy),
        Ok((d("0.00009"), SizeSource::Minimum))
    );
}

#[test]
fn risk_sizing_uses_the_stop_loss_percentage_on_the_right_side() {
    // Stop 2% away: 1200 → 1000 / 1200 = 0.83333..
    let risk = r#","risk_pct":1,"stop_loss_pct":2"#;
    assert_eq!(
        sized(risk, Side::Buy),
        Ok((d("0.83333"), SizeSource::RiskPct))
    );
    assert_eq!(
        sized(risk, Side::Sell),
        Ok((d("0.83333"), SizeSource::RiskPct))
    );
    // A stop on the wrong side of the entry, or no stop at all, is refused by name.
    let above = r#","risk_pct":1,"stop_loss":61000"#;
    assert_eq!(sized(above, Side::Buy).unwrap_err().field, "stop_loss");
    assert_eq!(sized(above, Side::Sell), Ok((d("1"), SizeSource::RiskPct)));
    assert_eq!(
        sized(r#","risk_pct":1"#, Side::Buy).unwrap_err().field,
        "risk_pct"
    );
}

#[test]
fn equity_sizing_without_equity_is_refused() {
    let s = signal(r#","size_pct":10"#);
    let e = size(&s, Side::Buy, &btc(), Price(d(ENTRY)), None).unwrap_err();
    assert_eq!(e.field, "size_pct");
    assert!(SizeSource::of(&s).needs_equity());
    assert!(!SizeSource::of(&signal(r#","quote_amount":10"#)).needs_equity());
}

#[test]
fn a_size_the_filters_refuse_names_the_field_it_came_from() {
    let build = |fields: &str, equity: &str| {
        order_for_signal(
            &signal(fields),
            Side::Buy,
            &btc(),
            Some(Price(d(ENTRY))),
            Some(d(equity)),
        )
    };
    // 0.1 USDT is not even one step.
    assert_eq!(
        build(r#","quote_amount":"0.1""#, EQUITY).unwrap_err().field,
        "quote_amount"
    );
    // 4 USDT → 0.00006 BTC, worth 3.6 < the 5 USDT minimum notional.
    let e = build(r#","quote_amount":4"#, EQUITY).unwrap_err();
    assert_eq!(e.field, "quote_amount");
    assert!(e.message.contains("NOTIONAL"), "{e}");
    // 100% of 10,000,000 → 166.66666 BTC, above MARKET_LOT_SIZE's 118.18181818.
    let e = build(r#","size_pct":100"#, "10000000").unwrap_err();
    assert_eq!(e.field, "size_pct");
    assert!(e.message.contains("MARKET_LOT_SIZE"), "{e}");
    let ok = build(r#","size_pct":"0.5""#, EQUITY).unwrap();
    assert_eq!(ok.quantity, Qty(d("0.00833")));
}

#[test]
fn a_conditional_entry_carries_its_stop_and_trailing_delta_and_sizes_at_its_price() {
    let s = signal(
        r#","order_type":"stop_loss_limit","price":"61000","stop_price":"60900",
           "trailing_delta":150,"quote_amount":"6100""#,
    );
    let req = order_for_signal(&s, Side::Buy, &btc(), Some(Price(d(ENTRY))), None).unwrap();
    assert_eq!(req.order_type, OrderType::StopLossLimit);
    assert_eq!(req.stop_price, Some(Price(d("60900"))));
    assert_eq!(req.trailing_delta, Some(150));
    // Sized at the limit price: 6100 / 61000.
    assert_eq!(req.quantity, Qty(d("0.1")));
    // A stop-market entry sizes at its stop price.
    let s = signal(r#","order_type":"stop_loss","stop_price":"62500","quote_amount":"6250""#);
    let req = order_for_signal(&s, Side::Buy, &btc(), Some(Price(d(ENTRY))), None).unwrap();
    assert_eq!((req.quantity, req.price), (Qty(d("0.1")), None));
    // A market entry keeps its trailing delta for the exits, not on the order.
    let s = signal(r#","trailing_stop_pct":"1.5""#);
    let req = order_for_signal(&s, Side::Buy, &btc(), Some(Price(d(ENTRY))), None).unwrap();
    assert_eq!(
        (s.stops.trailing_delta, req.trailing_delta),
        (Some(150), None)
    );
}

#[test]
fn equity_counts_every_balance_valued_in_the_quote_asset() {
    let balance = |asset: &str, free: &str, locked: &str| Balance {
        asset: asset.into(),
        free: d(free),
        locked: d(locked),
    };
    let balances = [
        balance("USDT", "900", "100"),
        balance("BTC", "0.4", "0.1"),
        balance("XRP", "10", "0"), // no XRPUSDT price: left out
    ];
    let price = |s: &Symbol| (s.as_str() == "BTCUSDT").then(|| Price(d(ENTRY)));
    assert_eq!(equity_in("USDT", &balances, price), Some(d("31000")));
}
