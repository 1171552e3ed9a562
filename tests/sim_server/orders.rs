//! REST order flow: market fills with the FULL answer, limit orders resting then filling,
//! query, cancel, cancel-all, open and all orders, account.

use crate::support::*;
use reqwest::Method;
use serde_json::json;

#[actix_rt::test]
async fn market_order_fills_with_full_response_and_headers() {
    let t = TestServer::start().await;
    let r = t.market_buy("0.7", "mkt-1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "FILLED");
    assert_eq!(r.body["clientOrderId"], "mkt-1");
    assert_eq!(r.body["executedQty"], "0.70000000");
    assert_eq!(r.body["price"], "0.00000000");
    let fills = r.body["fills"].as_array().unwrap();
    // 0.5 at the first level, 0.2 at the next.
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[0]["price"], "60000.00000000");
    assert_eq!(fills[0]["qty"], "0.50000000");
    assert_eq!(fills[0]["commission"], "0.00050000");
    assert_eq!(fills[0]["commissionAsset"], "BTC");
    assert_eq!(fills[1]["price"], "60006.00000000");
    assert!(fills[1]["tradeId"].as_u64().unwrap() > fills[0]["tradeId"].as_u64().unwrap());
    assert_eq!(r.header("x-mbx-order-count-10s"), Some("1"));
    let counts = t
        .signed(Method::GET, "/api/v3/rateLimit/order", &[])
        .await
        .body;
    assert_eq!(counts[0]["count"], 1);
    assert_eq!(counts[0]["intervalNum"], 10);
    assert_eq!(r.header("x-mbx-order-count-1d"), Some("1"));
    assert!(r.header("x-mbx-used-weight-1m").is_some());

    let ack = t
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.001"),
                ("newOrderRespType", "ACK"),
            ],
        )
        .await;
    assert_eq!(ack.status, 200);
    assert!(ack.body.get("status").is_none() && ack.body["orderId"].as_u64().is_some());
    t.stop().await;
}

#[actix_rt::test]
async fn limit_order_rests_then_fills_and_every_query_sees_it() {
    let t = TestServer::start().await;
    let r = t.limit("BUY", "0.01", "59000.00", "lim-1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["fills"].as_array().map(Vec::len)
        ),
        (Some("NEW"), Some(0))
    );
    let order_id = r.body["orderId"].as_u64().unwrap().to_string();

    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("orderId", &order_id)],
        )
        .await;
    assert_eq!((q.status, q.body["status"].as_str()), (200, Some("NEW")));
    assert_eq!(q.body["price"], "59000.00000000");
    let open = t
        .signed(Method::GET, "/api/v3/openOrders", &[("symbol", "BTCUSDT")])
        .await;
    assert_eq!(open.body.as_array().unwrap().len(), 1);
    let account = t.signed(Method::GET, "/api/v3/account", &[]).await.body;
    let usdt = account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "USDT")
        .unwrap()
        .clone();
    assert_eq!(usdt["locked"], "590.00000000");

    t.set_price("BTCUSDT", "58999.00").await;
    let q = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "lim-1")],
        )
        .await;
    assert_eq!(q.body["status"], "FILLED");
    assert_eq!(q.body["cummulativeQuoteQty"], "590.00000000");
    let open = t.signed(Method::GET, "/api/v3/openOrders", &[]).await;
    assert_eq!(open.body, json!([]));

    // Cancel: one order, then all on the symbol; unknown ones are refused.
    t.limit("BUY", "0.01", "50000.00", "lim-2").await;
    t.limit("BUY", "0.01", "50001.00", "lim-3").await;
    let c = t
        .signed(
            Method::DELETE,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("origClientOrderId", "lim-2"),
                ("newClientOrderId", "cxl-2"),
            ],
        )
        .await;
    assert_eq!(
        (c.status, c.body["status"].as_str()),
        (200, Some("CANCELED"))
    );
    assert_eq!(
        (
            c.body["origClientOrderId"].as_str(),
            c.body["clientOrderId"].as_str()
        ),
        (Some("lim-2"), Some("cxl-2"))
    );
    let again = t
        .signed(
            Method::DELETE,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "lim-2")],
        )
        .await;
    assert_eq!(
        (again.status, again.code(), again.body["msg"].as_str()),
        (400, -2011, Some("Unknown order sent."))
    );
    let all = t
        .signed(
            Method::DELETE,
            "/api/v3/openOrders",
            &[("symbol", "BTCUSDT")],
        )
        .await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);
    assert_eq!(all.body[0]["origClientOrderId"], "lim-3");
    let missing = t
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "nope")],
        )
        .await;
    assert_eq!(
        (missing.code(), missing.body["msg"].as_str()),
        (-2013, Some("Order does not exist."))
    );
    let neither = t
        .signed(Method::GET, "/api/v3/order", &[("symbol", "BTCUSDT")])
        .await;
    assert_eq!(neither.code(), -1102);

    let history = t
        .signed(Method::GET, "/api/v3/allOrders", &[("symbol", "BTCUSDT")])
        .await;
    let statuses: Vec<_> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["FILLED", "CANCELED", "CANCELED"]);
    let limited = t
        .signed(
            Method::GET,
            "/api/v3/allOrders",
            &[("symbol", "BTCUSDT"), ("limit", "1")],
        )
        .await;
    assert_eq!(limited.body[0]["clientOrderId"], "lim-3");
    t.stop().await;
}

#[actix_rt::test]
async fn my_trades_lists_an_orders_fills_with_the_trade_ids_of_the_full_answer() {
    let t = TestServer::start().await;
    let r = t.market_buy("0.7", "mt-1").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let order_id = r.body["orderId"].as_u64().unwrap().to_string();
    let full = r.body["fills"].as_array().unwrap().clone();
    t.limit("SELL", "0.1", "61000.00", "mt-2").await;
    t.set_price("BTCUSDT", "61000.01").await;

    let one = t
        .signed(
            Method::GET,
            "/api/v3/myTrades",
            &[("symbol", "BTCUSDT"), ("orderId", &order_id)],
        )
        .await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    let trades = one.body.as_array().unwrap();
    assert_eq!(trades.len(), 2);
    for (trade, fill) in trades.iter().zip(&full) {
        assert_eq!(trade["id"], fill["tradeId"]);
        assert_eq!(trade["price"], fill["price"]);
        assert_eq!(trade["qty"], fill["qty"]);
        assert_eq!(trade["commission"], fill["commission"]);
        assert_eq!(trade["commissionAsset"], "BTC");
        assert_eq!(trade["orderId"].to_string(), order_id);
        assert_eq!(trade["isBuyer"], true);
        assert_eq!(trade["isMaker"], false);
    }
    assert_eq!(trades[0]["quoteQty"], "30000.00000000");

    // Every order's trades, oldest first: the resting sell filled as maker, in USDT.
    let all = t
        .signed(Method::GET, "/api/v3/myTrades", &[("symbol", "BTCUSDT")])
        .await;
    let trades = all.body.as_array().unwrap();
    assert_eq!(trades.len(), 3);
    assert_eq!(trades[2]["isBuyer"], false);
    assert_eq!(trades[2]["isMaker"], true);
    assert_eq!(trades[2]["commissionAsset"], "USDT");
    let limited = t
        .signed(
            Method::GET,
            "/api/v3/myTrades",
            &[("symbol", "BTCUSDT"), ("limit", "1")],
        )
        .await;
    assert_eq!(limited.body[0]["id"], trades[2]["id"]);
    t.stop().await;
}
