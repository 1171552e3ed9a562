//! The venue's filters, read from the simulator's exchangeInfo at connect, stop bad orders
//! before they are sent. The served document is changed from the defaults (coarser lot step and
//! tick, higher minimum notional) so that only filters taken from the venue can catch them.

use serde_json::{Value, json};

use crate::support::Live;

/// BTCUSDT in the served exchangeInfo: step 0.001 (LOT_SIZE and MARKET_LOT_SIZE), tick 0.5,
/// minimum notional 100.
fn coarser_btc(info: &mut Value) {
    let btc = info["symbols"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["symbol"] == "BTCUSDT")
        .unwrap();
    for f in btc["filters"].as_array_mut().unwrap() {
        match f["filterType"].as_str().unwrap() {
            "LOT_SIZE" | "MARKET_LOT_SIZE" => {
                f["minQty"] = json!("0.00100000");
                f["stepSize"] = json!("0.00100000");
            }
            "PRICE_FILTER" => {
                f["minPrice"] = json!("0.50000000");
                f["tickSize"] = json!("0.50000000");
            }
            "NOTIONAL" => f["minNotional"] = json!("100.00000000"),
            _ => {}
        }
    }
}

#[actix_rt::test]
async fn quantity_price_and_notional_violations_are_refused_before_sending() {
    let t = Live::start_with(|s| coarser_btc(&mut s.exchange_info), |_| {}).await;
    let refused = [
        (
            json!({"id": "q", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.0015"}),
            "quantity",
            "step size 0.001",
        ),
        (
            json!({"id": "p", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                   "quantity": "0.002", "price": "59000.25"}),
            "price",
            "tick size 0.5",
        ),
        (
            json!({"id": "n", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                   "quantity": "0.001", "price": "59000"}),
            "quantity",
            "minimum notional 100",
        ),
    ];
    for (signal, field, says) in refused {
        let (status, body) = t.signal(signal.clone()).await;
        assert_eq!(status, 400, "{signal} → {body}");
        assert_eq!(body["field"], field, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(says), "{error:?} should say {says:?}");
    }
    let state = t.venue_state().await;
    assert_eq!(state["orders_accepted"], 0, "nothing reached the venue");
    assert_eq!(state["orders_accepted_via_server"], 0);

    // What the served filters allow goes through.
    let (status, body) = t
        .signal(
            json!({"id": "ok", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "0.002", "price": "59000"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "NEW");
    assert_eq!(t.venue_state().await["orders_accepted"], 1);
    t.stop().await;
}
