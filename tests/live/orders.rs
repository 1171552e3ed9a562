//! Market and limit orders through `POST /v1/signals`, filled on the simulator, with the
//! engine's positions and balances equal to the venue's to the last decimal.

use serde_json::json;

use crate::support::{Live, d, dec};

#[actix_rt::test]
async fn market_and_partly_filled_limit_orders_leave_the_engine_and_venue_books_equal() {
    let t = Live::start().await;

    // A market buy fills at once at the best ask (60000); the 0.1% taker fee is taken in BTC.
    let (status, body) = t
        .signal(json!({"id": "m1", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.01"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED", "{body}");
    assert_eq!(dec(&body["order"]["filled_quantity"]), d("0.01"));
    assert_eq!(dec(&body["order"]["average_price"]), d("60000"));

    // ETHUSDT's book has 10 ETH per level from 3000 up. A limit buy of 15 at 3000 takes the
    // 10 at 3000 and rests 5: PARTIALLY_FILLED.
    let (status, body) = t
        .signal(
            json!({"id": "l1", "symbol": "ETHUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "15", "price": "3000", "time_in_force": "GTC"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let limit_id = body["client_order_id"].as_str().unwrap().to_string();
    assert_eq!(body["order"]["status"], "PARTIALLY_FILLED", "{body}");
    assert_eq!(dec(&body["order"]["filled_quantity"]), d("10"));
    let venue = t.venue_state().await;
    let open = venue["open_orders"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{venue}");
    assert_eq!(open[0]["clientOrderId"], limit_id.as_str());
    assert_eq!(dec(&open[0]["executedQty"]), d("10"));
    t.wait_fills("ETHUSDT", 1).await;
    t.assert_books_agree("ETHUSDT", "ETH").await;

    // The price falls through the resting bid: the other 5 fill at 3000, as maker.
    t.set_price("ETHUSDT", "2999").await;
    t.wait_status(&limit_id, "FILLED").await;
    t.wait_fills("ETHUSDT", 2).await;
    let order = t.order(&limit_id).await;
    assert_eq!(dec(&order["filled_quantity"]), d("15"));
    assert_eq!(dec(&order["average_price"]), d("3000"));

    t.wait_fills("BTCUSDT", 1).await;
    // 0.01 BTC less its 0.00001 fee; 15 ETH less 0.015 in fees.
    assert_eq!(dec(&t.position("BTCUSDT").await["quantity"]), d("0.00999"));
    assert_eq!(dec(&t.position("ETHUSDT").await["quantity"]), d("14.985"));
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.assert_books_agree("ETHUSDT", "ETH").await;
    // Fees were paid in the base assets, so the cash spent is exactly 600 + 45000.
    let usdt = t
        .engine_balances()
        .await
        .into_iter()
        .find(|(a, _, _)| a == "USDT")
        .expect("USDT");
    assert_eq!((usdt.1, usdt.2), (d("54400"), d("0")));
    assert_eq!(t.venue_state().await["orders_accepted"], 2);
    t.stop().await;
}

#[actix_rt::test]
async fn a_partly_filled_order_cancelled_and_a_position_closed_leave_the_books_equal() {
    let t = Live::start().await;
    // 0.5 BTC at 60000 fills, 0.3 rests at 60000.
    let (status, body) = t
        .signal(
            json!({"id": "p", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit",
                       "quantity": "0.8", "price": "60000"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "PARTIALLY_FILLED", "{body}");
    let id = body["client_order_id"].as_str().unwrap().to_string();

    let (status, order) = t.delete(&format!("/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["status"], "CANCELED");
    assert_eq!(dec(&order["filled_quantity"]), d("0.5"));
    assert!(
        t.venue_state().await["open_orders"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    t.wait_fills("BTCUSDT", 1).await;
    assert_eq!(dec(&t.position("BTCUSDT").await["quantity"]), d("0.4995"));
    t.assert_books_agree("BTCUSDT", "BTC").await;

    // Closing sells exactly what is held; its fee is taken in USDT, leaving no BTC anywhere.
    t.set_price("BTCUSDT", "61000").await;
    let (status, body) = t
        .signal(json!({"id": "c", "symbol": "BTCUSDT", "action": "close"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED", "{body}");
    assert_eq!(dec(&body["order"]["quantity"]), d("0.4995"));
    t.wait_fills("BTCUSDT", 2).await;
    let position = t.position("BTCUSDT").await;
    assert_eq!(dec(&position["quantity"]), d("0"));
    assert_eq!(t.venue_balance("BTC").await, d("0"));
    t.assert_books_agree("BTCUSDT", "BTC").await;
    t.stop().await;
}
