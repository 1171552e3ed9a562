//! REST: public endpoints, authentication, validation errors, parameters split between the
//! query string and the body.

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
    assert_eq!((r.status, r.code()), (400, -1102));
    let r = t
        .signed(
            Method::GET,
            "/api/v3/allOrderList",
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
