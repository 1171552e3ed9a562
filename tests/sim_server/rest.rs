//! REST: public endpoints, signed order flow, authentication and validation errors.

use crate::support::*;
use redline::exchange::binance::signing::encode_params;
use reqwest::Method;
use serde_json::json;

#[actix_rt::test]
async fn ping_time_exchange_info_and_ticker() {
    let t = TestServer::start().await;
    let ping = t.get("/api/v3/ping").await;
    assert_eq!((ping.status, ping.body.clone()), (200, json!({})));
    assert!(ping.header("x-mbx-used-weight-1m").is_some());
    let time = t.get("/api/v3/time").await.body;
    assert!((time["serverTime"].as_i64().unwrap() - now_ms()).abs() < 5000);

    let info = t.get("/api/v3/exchangeInfo").await;
    assert_eq!(info.body["symbols"].as_array().unwrap().len(), 4);
    assert_eq!(
        info.body["rateLimits"][0]["rateLimitType"],
        "REQUEST_WEIGHT"
    );
    let one = t.get("/api/v3/exchangeInfo?symbol=ETHUSDT").await.body;
    assert_eq!(one["symbols"][0]["symbol"], "ETHUSDT");
    assert!(one["symbols"][0]["filters"].as_array().unwrap().len() > 3);
    let two = t
        .get("/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22,%22ETHUSDT%22%5D")
        .await
        .body;
    assert_eq!(two["symbols"].as_array().unwrap().len(), 2);
    let bad = t.get("/api/v3/exchangeInfo?symbol=NOPEUSDT").await;
    assert_eq!(
        (bad.status, bad.body.clone()),
        (400, json!({"code": -1121, "msg": "Invalid symbol."}))
    );

    let price = t.get("/api/v3/ticker/price?symbol=BTCUSDT").await.body;
    assert_eq!(
        price,
        json!({"symbol": "BTCUSDT", "price": "60000.00000000"})
    );
    let all = t.get("/api/v3/ticker/price").await.body;
    assert_eq!(all.as_array().unwrap().len(), 4);
    t.stop().await;
}

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
async fn authentication_errors_are_binances() {
    let t = TestServer::start().await;
    let ts = now_ms().to_string();
    let q = encode_params([("symbol", "BTCUSDT"), ("timestamp", ts.as_str())]);
    // Missing key: 401 -2014; wrong key: 401 -2015.
    let url = format!(
        "{}/api/v3/openOrders?{q}&signature={}",
        t.base,
        t.creds.sign(&q)
    );
    let missing = t.send(t.http.get(&url)).await;
    assert_eq!((missing.status, missing.code()), (401, -2014));
    let wrong = t
        .raw_signed(Method::GET, "/api/v3/openOrders", &q, "", "other-key")
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, -2015));
    // Bad signature.
    let forged = t
        .send(
            t.http
                .get(format!("{}/api/v3/openOrders?{q}&signature=00ff", t.base))
                .header("X-MBX-APIKEY", KEY),
        )
        .await;
    assert_eq!(
        (forged.status, forged.body.clone()),
        (
            400,
            json!({"code": -1022, "msg": "Signature for this request is not valid."})
        )
    );
    // Stale and future timestamps.
    let stale = (now_ms() - 6000).to_string();
    let q = encode_params([("symbol", "BTCUSDT"), ("timestamp", stale.as_str())]);
    let r = t
        .raw_signed(Method::GET, "/api/v3/openOrders", &q, "", KEY)
        .await;
    assert_eq!(
        (r.code(), r.body["msg"].as_str()),
        (
            -1021,
            Some("Timestamp for this request is outside of the recvWindow.")
        )
    );
    let q = encode_params([
        ("symbol", "BTCUSDT"),
        ("timestamp", stale.as_str()),
        ("recvWindow", "10000"),
    ]);
    assert_eq!(
        t.raw_signed(Method::GET, "/api/v3/openOrders", &q, "", KEY)
            .await
            .status,
        200
    );
    let ahead = (now_ms() + 2000).to_string();
    let q = encode_params([("timestamp", ahead.as_str())]);
    let r = t
        .raw_signed(Method::GET, "/api/v3/account", &q, "", KEY)
        .await;
    assert_eq!(
        (r.code(), r.body["msg"].as_str()),
        (
            -1021,
            Some("Timestamp for this request was 1000ms ahead of the server's time.")
        )
    );
    // No timestamp.
    let r = t
        .raw_signed(
            Method::GET,
            "/api/v3/account",
            "omitZeroBalances=true",
            "",
            KEY,
        )
        .await;
    assert_eq!(r.code(), -1102);
    t.stop().await;
}

#[actix_rt::test]
async fn validation_errors_unknown_symbol_filters_and_duplicate_ids() {
    let t = TestServer::start().await;
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "NOPEUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "1"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (400, json!({"code": -1121, "msg": "Invalid symbol."}))
    );
    let r = t.limit("BUY", "0.001005", "59000.00", "lot").await;
    assert_eq!(
        (r.status, r.body.clone()),
        (
            400,
            json!({"code": -1013, "msg": "Filter failure: LOT_SIZE"})
        )
    );
    let r = t.limit("BUY", "0.01", "59000.00", "dup").await;
    assert_eq!(r.status, 200);
    let r = t.limit("BUY", "0.01", "59000.00", "dup").await;
    assert_eq!(
        (r.status, r.body.clone()),
        (400, json!({"code": -2010, "msg": "Duplicate order sent."}))
    );
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("quantity", "0.01"),
                ("price", "1"),
            ],
        )
        .await;
    assert_eq!(
        r.body["msg"],
        "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."
    );
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "UP"),
                ("type", "MARKET"),
                ("quantity", "1"),
            ],
        )
        .await;
    assert_eq!(r.code(), -1117);
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order/test",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.001005"),
                ("price", "1"),
            ],
        )
        .await;
    assert_eq!(r.code(), -1013);
    let r = t
        .signed(
            Method::POST,
            "/api/v3/order/test",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "0.001"),
            ],
        )
        .await;
    assert_eq!((r.status, r.body.clone()), (200, json!({})));
    let r = t
        .signed(
            Method::POST,
            "/api/v3/orderList/oco",
            &[("symbol", "BTCUSDT")],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, -1020));
    assert_eq!(t.state().await["orders_accepted"], 1);
    t.stop().await;
}

#[actix_rt::test]
async fn parameters_split_between_query_and_body_are_signed_together() {
    let t = TestServer::start().await;
    let r = t
        .signed_split(
            Method::POST,
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT")],
            &[
                ("timeInForce", "GTC"),
                ("quantity", "0.01"),
                ("price", "59000.00"),
                ("newClientOrderId", "mixed"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["clientOrderId"], "mixed");
    // The query string wins on a duplicate (and the signature covers both as sent).
    let ts = now_ms().to_string();
    let query = encode_params([("symbol", "BTCUSDT"), ("origClientOrderId", "mixed")]);
    let body = encode_params([("symbol", "ETHUSDT"), ("timestamp", ts.as_str())]);
    let r = t
        .raw_signed(Method::DELETE, "/api/v3/order", &query, &body, KEY)
        .await;
    assert_eq!(
        (r.status, r.body["symbol"].as_str()),
        (200, Some("BTCUSDT")),
        "{:?}",
        r.body
    );
    t.stop().await;
}
