//! Signal to order to fill to position, with exact Decimal PnL.

use serde_json::json;

use crate::support::{TestEngine, assert_dec, s};

#[actix_rt::test]
async fn buy_partial_sell_close_realizes_exact_pnl_including_fees() {
    let t = TestEngine::start(&[]).await;
    // BTCUSDT starts at 60000; taker fee 0.1%. A buy's fee is taken in BTC, a sell's in USDT.
    let (status, body) = t.signal(json!({"id": "b1", "strategy": "t", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.02"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    t.wait_for("buy applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    let p = t.position("BTCUSDT").await;
    assert_dec(
        s(&p, "quantity"),
        "0.01998",
        "quantity after buy net of 0.00002 BTC fee",
    );
    assert_dec(
        s(&p, "realized_pnl"),
        "-1.2",
        "fee 0.00002 BTC valued at 60000",
    );

    t.set_price("BTCUSDT", "61000").await;
    let (status, body) = t
        .signal(json!({"id": "s1", "symbol": "BTCUSDT", "action": "sell", "quantity": 0.01}))
        .await;
    assert_eq!(status, 201, "{body}");
    t.wait_for("sell applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 2
    })
    .await;
    let p = t.position("BTCUSDT").await;
    // (61000 - 60000) * 0.01 - 1.2 - 0.61
    assert_dec(s(&p, "realized_pnl"), "8.19", "realized after partial sell");
    assert_dec(s(&p, "quantity"), "0.00998", "quantity after partial sell");
    assert_dec(s(&p, "unrealized_pnl"), "9.98", "unrealized at 61000");

    t.set_price("BTCUSDT", "59000").await;
    let (status, body) = t
        .signal(json!({"id": "c1", "symbol": "BTCUSDT", "action": "close"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_dec(
        s(&body["order"], "quantity"),
        "0.00998",
        "close sells the whole position",
    );
    t.wait_for("close applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 3
    })
    .await;
    let p = t.position("BTCUSDT").await;
    // 8.19 + (59000 - 60000) * 0.00998 - 0.58882
    assert_dec(s(&p, "realized_pnl"), "-2.37882", "realized after close");
    assert_dec(s(&p, "fees"), "2.39882", "all fees");
    assert_dec(s(&p, "quantity"), "0", "flat");

    let usdt = t.balance("USDT").await;
    // The venue's cash moved by exactly the realized PnL.
    assert_dec(s(&usdt, "free"), "99997.62118", "USDT balance");
    let (_, account) = t.get("/v1/account").await;
    assert_dec(s(&account, "realized_pnl"), "-2.37882", "account realized");
    t.stop().await;
}

#[actix_rt::test]
async fn a_limit_order_rests_until_the_price_crosses_it() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .signal(json!({"id": "l1", "symbol": "ETHUSDT", "action": "buy", "order_type": "limit", "quantity": "1", "price": "2900", "time_in_force": "GTC"}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = s(&body, "client_order_id").to_string();
    assert_eq!(body["order"]["status"], "NEW");
    let (_, open) = t.get("/v1/orders?status=open&symbol=ETHUSDT").await;
    assert_eq!(open.as_array().unwrap().len(), 1);

    t.set_price("ETHUSDT", "2950").await;
    assert_eq!(
        t.order(&id).await["status"],
        "NEW",
        "2950 does not cross a 2900 bid"
    );
    t.set_price("ETHUSDT", "2899.99").await;
    t.wait_for("limit filled", |t| {
        let id = id.clone();
        async move { t.order(&id).await["status"] == "FILLED" }
    })
    .await;
    let order = t.order(&id).await;
    assert_dec(s(&order, "average_price"), "2900", "fills at its limit");
    t.wait_for("position", |t| async move {
        t.position("ETHUSDT").await["fill_count"] == 1
    })
    .await;
    // Maker fee 0.1% of 1 ETH taken in ETH.
    assert_dec(
        s(&t.position("ETHUSDT").await, "quantity"),
        "0.999",
        "ETH held",
    );
    t.stop().await;
}

#[actix_rt::test]
async fn a_large_market_order_fills_across_levels() {
    let t = TestEngine::start(&[]).await;
    // 0.5 BTC per level, levels 0.01% apart: 0.5 @ 60000 and 0.2 @ 60006.
    let (status, body) = t
        .signal(json!({"id": "big", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.7"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_dec(
        s(&body["order"], "cumulative_quote"),
        "42001.2",
        "0.5*60000 + 0.2*60006",
    );
    t.wait_for("two fills", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 2
    })
    .await;
    t.stop().await;
}

#[actix_rt::test]
async fn the_same_signal_id_never_makes_two_orders() {
    let t = TestEngine::start(&[]).await;
    let signal = json!({"id": "dup-1", "symbol": "SOLUSDT", "action": "buy", "quantity": "1"});
    let (first, a) = t.signal(signal.clone()).await;
    let (second, b) = t.signal(signal.clone()).await;
    // Even with different content, the id decides.
    let (third, c) = t
        .signal(json!({"id": "dup-1", "symbol": "SOLUSDT", "action": "buy", "quantity": "2"}))
        .await;
    assert_eq!((first, second, third), (201, 200, 200));
    assert_eq!(b["status"], "duplicate");
    assert_eq!(a["client_order_id"], b["client_order_id"]);
    assert_eq!(a["client_order_id"], c["client_order_id"]);
    assert_eq!(t.sim.order_count(), 1);
    t.stop().await;
}

#[actix_rt::test]
async fn risk_refusals_are_422_with_a_reason_code_and_send_nothing() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_ORDER_QTY__BTCUSDT", "0.05")]).await;
    let (status, body) = t
        .signal(json!({"id": "r1", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.06"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["reason"].as_str()),
        (Some("rejected"), Some("max_order_qty"))
    );
    let (status, body) = t
        .signal(json!({"id": "r2", "symbol": "ETHUSDT", "action": "buy", "quantity": "17"}))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("max_order_notional")),
        "{body}"
    );
    let (status, body) = t
        .signal(json!({"id": "r3", "symbol": "BTCUSDT", "action": "close"}))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("no_position")),
        "{body}"
    );
    assert_eq!(t.sim.order_count(), 0);
    t.stop().await;
}

#[actix_rt::test]
async fn manual_orders_can_be_placed_listed_and_cancelled() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post("/v1/orders", r#"{"symbol":"SOLUSDT","side":"sell","order_type":"limit","quantity":"1","price":"150","client_order_id":"my-1"}"#)
        .await;
    // Selling SOL the account does not hold: the venue refuses it.
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("exchange_rejected")),
        "{body}"
    );
    let (status, body) = t
        .post("/v1/orders", r#"{"symbol":"SOLUSDT","side":"buy","order_type":"limit","quantity":"1","price":"100","client_order_id":"my-2"}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = t.delete("/v1/orders/my-2").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("CANCELED")),
        "{body}"
    );
    let (status, _) = t.delete("/v1/orders/my-2").await;
    assert_eq!(status, 409);
    let (status, _) = t.delete("/v1/orders/nope").await;
    assert_eq!(status, 404);
    let usdt = t.balance("USDT").await;
    assert_dec(s(&usdt, "locked"), "0", "cancel released the reservation");
    t.stop().await;
}

#[actix_rt::test]
async fn an_order_placed_outside_redline_is_adopted_and_its_fills_reach_the_position() {
    use redline::domain::{ClientOrderId, OrderRequest, OrderType, Qty, Side, Symbol, TimeInForce};
    let t = TestEngine::start(&[]).await;
    let external = OrderRequest {
        client_order_id: ClientOrderId::new("by-hand-1").unwrap(),
        symbol: Symbol::new("SOLUSDT").unwrap(),
        side: Side::Buy,
        order_type: OrderType::Market,
        quantity: Qty("3".parse().unwrap()),
        price: None,
        time_in_force: TimeInForce::Gtc,
        stop_price: None,
        trailing_delta: None,
        quote_quantity: None,
    };
    t.sim.submit_order(external).unwrap();
    t.wait_for("external fill applied", |t| async move {
        t.position("SOLUSDT").await["fill_count"] == 1
    })
    .await;
    assert_dec(
        s(&t.position("SOLUSDT").await, "quantity"),
        "2.997",
        "3 less the fee",
    );
    let order = t.order("by-hand-1").await;
    assert_eq!(order["strategy"], "external", "{order}");
    assert_eq!(order["status"], "FILLED", "{order}");
    assert_eq!(order["side"], "buy");
    let (_, status) = t.get("/v1/status").await;
    let text = status.to_string();
    assert!(text.contains("\"adopted_orders\":1"), "{status}");
    t.stop().await;
}
