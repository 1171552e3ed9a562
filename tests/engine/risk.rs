//! The risk gate end to end: its HTTP routes, the trading states, and the checks that need the
//! whole engine (fills, the clock, cancels) to be seen working.

use chrono::{Duration, Timelike, Utc};
use redline::clock::Clock;
use redline::web::ApiToken;
use serde_json::{Value, json};

use crate::support::{TestEngine, assert_dec, s, test_config};

fn buy(id: &str, qty: &str) -> Value {
    json!({"id": id, "symbol": "BTCUSDT", "action": "buy", "quantity": qty})
}

async fn risk(t: &TestEngine) -> Value {
    t.get("/v1/risk").await.1
}

async fn set_state(t: &TestEngine, state: &str) {
    let (status, body) = t
        .post(
            "/v1/risk/state",
            &json!({"state": state, "reason": "test"}).to_string(),
        )
        .await;
    assert_eq!(
        (status, body["trading_state"].as_str()),
        (200, Some(state)),
        "{body}"
    );
}

async fn filled(t: &TestEngine, symbol: &str, fills: u64) {
    t.wait_for("fills applied", |t| async move {
        t.position(symbol).await["fill_count"] == fills
    })
    .await;
}

#[actix_rt::test]
async fn get_risk_shows_every_limit_with_its_use() {
    let t = TestEngine::start(&[]).await;
    let (status, _) = t.signal(buy("a", "0.01")).await;
    assert_eq!(status, 201);
    filled(&t, "BTCUSDT", 1).await;
    let r = risk(&t).await;
    assert_eq!(r["trading_state"], "active");
    assert_eq!(r["account_known"], true);
    assert_dec(
        s(&r["limits"], "max_total_exposure_pct"),
        "80",
        "default total",
    );
    assert_dec(
        s(&r["limits"]["groups"]["l1"], "max_exposure_pct"),
        "50",
        "default group",
    );
    let u = &r["utilization"];
    assert_dec(s(&u["trades_today"], "used"), "1", "one order executed");
    assert_dec(s(&u["open_positions"], "used"), "1", "BTC held");
    // 0.01 BTC less its 0.00001 BTC fee, at 60000.
    assert_dec(s(&u["total_exposure"], "used"), "599.4", "exposure");
    assert_dec(
        s(&u["total_exposure"], "limit"),
        "79999.52",
        "80% of 99999.4 equity",
    );
    assert_dec(
        s(&r, "equity"),
        "99999.4",
        "cash 99400 + 0.00999 BTC at 60000",
    );
    assert_eq!(r["symbols"][0]["symbol"], "BTCUSDT");
    assert_dec(s(&r["groups"][0], "exposure"), "599.4", "l1 group");
    let (_, doc) = t.get("/openapi.json").await;
    for path in [
        "/v1/risk",
        "/v1/risk/limits",
        "/v1/risk/state",
        "/v1/risk/strategies/{strategy}/resume",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    assert!(
        doc["components"]["schemas"]["SignalInput"]["properties"]["allow_duplicate"].is_object()
    );
    t.stop().await;
}

#[actix_rt::test]
async fn limits_change_at_runtime_all_or_nothing_recorded_with_who() {
    let t = TestEngine::start_with(test_config(&[]), ApiToken::new(Some("tok"))).await;
    let put = |body: &'static str, token: Option<&'static str>| {
        let mut req = t
            .http
            .put(format!("{}/v1/risk/limits", t.base))
            .header("content-type", "application/json")
            .header("x-redline-operator", "alice")
            .body(body);
        if let Some(tok) = token {
            req = req.header("authorization", format!("Bearer {tok}"));
        }
        async move {
            let resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(put(r#"{"max_order_notional":"100"}"#, None).await.0, 401);
    let (status, body) = put(
        r#"{"max_order_notional":"100","max_position_pct":"-1"}"#,
        Some("tok"),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("max_position_pct")),
        "{body}"
    );
    let (status, body) = put(
        r#"{"max_order_notional":"100","blocked_symbols":["NOPE"]}"#,
        Some("tok"),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("blocked_symbols")),
        "{body}"
    );
    let (status, body) = put(r#"{"max_order_notionl":"100"}"#, Some("tok")).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("body")),
        "{body}"
    );
    assert_dec(
        s(&risk(&t).await["limits"], "max_order_notional"),
        "50000",
        "nothing applied",
    );

    let mut events = t.engine.events.subscribe();
    let (status, body) = put(
        r#"{"max_order_notional":"100","blocked_symbols":["ETHUSDT"]}"#,
        Some("tok"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r = risk(&t).await;
    assert_dec(s(&r["limits"], "max_order_notional"), "100", "applied");
    assert_eq!(r["recent_limit_changes"][0]["by"], "alice");
    let event = events.recv().await.unwrap();
    assert!(
        matches!(&*event, redline::events::EngineEvent::RiskLimitsChanged { by, .. } if by == "alice")
    );
    let signal = |body: Value| {
        let req = t
            .http
            .post(format!("{}/v1/signals", t.base))
            .header("authorization", "Bearer tok")
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = signal(buy("big", "0.01")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("max_order_notional")),
        "{body}"
    );
    let eth = json!({"id": "eth", "symbol": "ETHUSDT", "action": "buy", "quantity": "0.01"});
    let (status, body) = signal(eth).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("symbol_blocked")),
        "{body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn reducing_lets_a_sell_of_a_long_pass_but_not_a_buy_and_halted_passes_nothing() {
    let t = TestEngine::start(&[]).await;
    assert_eq!(t.signal(buy("b1", "0.01")).await.0, 201);
    filled(&t, "BTCUSDT", 1).await;
    set_state(&t, "reducing").await;
    let (status, body) = t.signal(buy("b2", "0.001")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("reducing_only")),
        "{body}"
    );
    let sell = json!({"id": "s1", "symbol": "BTCUSDT", "action": "sell", "quantity": "0.005"});
    let (status, body) = t.signal(sell).await;
    assert_eq!(status, 201, "{body}");
    set_state(&t, "halted").await;
    let sell = json!({"id": "s2", "symbol": "BTCUSDT", "action": "sell", "quantity": "0.001"});
    let (status, body) = t.signal(sell).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("trading_halted")),
        "{body}"
    );
    set_state(&t, "active").await;
    // Refused for a passing reason, so the same signal id may be sent again.
    assert_eq!(t.signal(buy("b2", "0.001")).await.0, 201);
    let (status, _) = t.post("/v1/risk/state", r#"{"state":"paused"}"#).await;
    assert_eq!(status, 400);
    t.stop().await;
}

#[actix_rt::test]
async fn the_execution_throttle_halts_until_a_person_resumes() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_FILLS_PER_WINDOW", "2")]).await;
    for (i, id) in ["f1", "f2", "f3"].iter().enumerate() {
        assert_eq!(t.signal(buy(id, "0.001")).await.0, 201);
        filled(&t, "BTCUSDT", i as u64 + 1).await;
    }
    t.wait_for("halted", |t| async move {
        risk(t).await["trading_state"] == "halted"
    })
    .await;
    assert_eq!(risk(&t).await["halt_code"], "execution_throttle");
    t.advance(3600);
    let (status, body) = t.signal(buy("f4", "0.001")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("execution_throttle")),
        "still latched: {body}"
    );
    set_state(&t, "active").await;
    assert_eq!(t.signal(buy("f4", "0.001")).await.0, 201);
    t.stop().await;
}

#[actix_rt::test]
async fn the_collar_refuses_an_aggressive_limit_but_not_a_passive_one() {
    let t = TestEngine::start(&[]).await;
    assert_eq!(t.signal(buy("b", "0.01")).await.0, 201);
    filled(&t, "BTCUSDT", 1).await;
    let limit = |id: &str, action: &str| json!({"id": id, "symbol": "BTCUSDT", "action": action, "order_type": "limit", "quantity": "0.005", "price": "63600"});
    let (status, body) = t.signal(limit("lb", "buy")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("price_collar")),
        "6% above: {body}"
    );
    let (status, body) = t.signal(limit("ls", "sell")).await;
    assert_eq!(
        (status, body["order"]["status"].as_str()),
        (201, Some("NEW")),
        "a take-profit rests: {body}"
    );
    t.stop().await;
}

#[actix_rt::test]
async fn a_stale_price_refuses_market_orders_not_limits() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_PRICE_AGE_SECS", "10")]).await;
    assert_eq!(t.signal(buy("m1", "0.001")).await.0, 201);
    t.advance(11);
    let (status, body) = t.signal(buy("m2", "0.001")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("stale_price")),
        "{body}"
    );
    let limit = json!({"id": "l1", "symbol": "BTCUSDT", "action": "buy", "order_type": "limit", "quantity": "0.001", "price": "59000"});
    assert_eq!(t.signal(limit).await.0, 201);
    t.stop().await;
}

#[actix_rt::test]
async fn duplicates_are_refused_unless_the_signal_intends_them() {
    let t = TestEngine::start(&[("REDLINE__RISK__DUPLICATE_WINDOW_MS", "2000")]).await;
    assert_eq!(t.signal(buy("d1", "0.001")).await.0, 201);
    let (status, body) = t.signal(buy("d2", "0.001")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("duplicate_order")),
        "{body}"
    );
    let mut intended = buy("d3", "0.001");
    intended["allow_duplicate"] = json!(true);
    assert_eq!(t.signal(intended).await.0, 201);
    let (status, body) = t
        .post(
            "/v1/orders",
            r#"{"symbol":"BTCUSDT","side":"buy","quantity":"0.001"}"#,
        )
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("duplicate_order")),
        "manual too: {body}"
    );
    t.advance(3);
    assert_eq!(t.signal(buy("d4", "0.001")).await.0, 201);
    t.stop().await;
}

#[actix_rt::test]
async fn cancels_count_toward_the_message_throttle() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_MESSAGES_PER_SECOND", "3")]).await;
    let order = |id: &str, price: &str| {
        format!(
            r#"{{"symbol":"SOLUSDT","side":"buy","order_type":"limit","quantity":"1","price":"{price}","client_order_id":"{id}"}}"#
        )
    };
    assert_eq!(t.post("/v1/orders", &order("o1", "100")).await.0, 201);
    assert_eq!(t.delete("/v1/orders/o1").await.0, 200);
    assert_eq!(t.post("/v1/orders", &order("o2", "101")).await.0, 201);
    let (status, body) = t.post("/v1/orders", &order("o3", "102")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("message_throttle")),
        "{body}"
    );
    assert_eq!(
        t.delete("/v1/orders/o2").await.0,
        200,
        "a cancel is never refused"
    );
    t.advance(1);
    assert_eq!(t.post("/v1/orders", &order("o3", "102")).await.0, 201);
    t.stop().await;
}

#[actix_rt::test]
async fn the_daily_loss_limit_resets_at_utc_midnight() {
    let t = TestEngine::start(&[("REDLINE__RISK__DAILY_LOSS_LIMIT", "50")]).await;
    assert_eq!(t.signal(buy("b1", "0.01")).await.0, 201);
    filled(&t, "BTCUSDT", 1).await;
    t.set_price("BTCUSDT", "54000").await;
    t.wait_for("marked", |t| async move {
        s(&t.position("BTCUSDT").await, "last_price") == "54000"
    })
    .await;
    let (status, body) = t.signal(buy("b2", "0.001")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("daily_loss_limit")),
        "{body}"
    );
    // 99400 + 0.00999 * 54000 = 99939.46 against 100000 at the day's start (the fee counts).
    assert_dec(
        s(&risk(&t).await["utilization"]["daily_loss"], "used"),
        "60.54",
        "today's loss",
    );
    let sell = json!({"id": "s1", "symbol": "BTCUSDT", "action": "sell", "quantity": "0.001"});
    assert_eq!(t.signal(sell).await.0, 201, "reducing still passes");
    let now = t.clock.now();
    let to_midnight = 86_400 - i64::from(now.num_seconds_from_midnight()) + 1;
    t.clock.advance(Duration::seconds(to_midnight));
    assert_eq!(
        t.clock.now().date_naive(),
        (now + Duration::days(1)).date_naive()
    );
    assert_eq!(t.signal(buy("b3", "0.001")).await.0, 201, "a new UTC day");
    assert!(Utc::now() > now);
    t.stop().await;
}

#[actix_rt::test]
async fn losing_round_trips_pause_the_strategy_until_resumed() {
    let t = TestEngine::start(&[("REDLINE__RISK__MAX_CONSECUTIVE_LOSSES", "1")]).await;
    let sig = |id: &str, action: &str| json!({"id": id, "strategy": "m", "symbol": "BTCUSDT", "action": action, "quantity": "0.01"});
    assert_eq!(t.signal(sig("o", "buy")).await.0, 201);
    filled(&t, "BTCUSDT", 1).await;
    t.set_price("BTCUSDT", "59000").await;
    let close = json!({"id": "c", "strategy": "m", "symbol": "BTCUSDT", "action": "close"});
    assert_eq!(t.signal(close).await.0, 201);
    t.wait_for("paused", |t| async move {
        risk(t).await["paused_strategies"] == json!(["m"])
    })
    .await;
    let (status, body) = t.signal(sig("again", "buy")).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("strategy_paused")),
        "{body}"
    );
    assert_eq!(
        t.signal(buy("other", "0.001")).await.0,
        201,
        "other strategies trade on"
    );
    let (status, _) = t.post("/v1/risk/strategies/m/resume", "").await;
    assert_eq!(status, 200);
    assert_eq!(t.post("/v1/risk/strategies/m/resume", "").await.0, 409);
    assert_eq!(
        t.signal(sig("again", "buy")).await.0,
        201,
        "same id: the refusal was retryable"
    );
    t.stop().await;
}
