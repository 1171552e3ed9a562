//! The emergency stop: it cancels every open order on every symbol, flattens positions, and is
//! latched (503 for signals; only `POST /v1/resume` lifts it, also after a restart). Under
//! load and with the breaker open: `emergency_load.rs`; over Redis: `redis_bus.rs`.

use serde_json::{Value, json};
use std::collections::BTreeSet;

use crate::support::{TestEngine, assert_dec, fresh_data_dir, s, test_config};

/// POSTs as operator `who`.
async fn post_as(t: &TestEngine, path: &str, body: Value, who: &str) -> (u16, Value) {
    let resp = t
        .http
        .post(format!("{}{path}", t.base))
        .header("x-redline-operator", who)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn rest(t: &TestEngine, id: &str, symbol: &str, price: &str, qty: &str) {
    let (status, body) = t
        .signal(
            json!({"id": id, "symbol": symbol, "action": "buy", "order_type": "limit",
            "quantity": qty, "price": price, "time_in_force": "GTC"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "NEW", "{body}");
}

pub(crate) async fn buy(t: &TestEngine, id: &str, symbol: &str, qty: &str) {
    let (status, body) = t
        .signal(json!({"id": id, "symbol": symbol, "action": "buy", "quantity": qty}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED", "{body}");
}

fn symbols_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["symbol"].as_str().unwrap().to_string())
        .collect()
}

#[actix_rt::test]
async fn the_stop_cancels_everything_flattens_and_stays_latched_until_resume_even_across_a_restart()
{
    let dir = fresh_data_dir();
    let dir_str = dir.to_string_lossy().into_owned();
    let overrides = [("REDLINE__STORAGE__DATA_DIR", dir_str.as_str())];
    let t = TestEngine::start(&overrides).await;

    // Positions on 2 symbols (fees in base: 0.02 → 0.01998 BTC, 1 → 0.999 ETH).
    buy(&t, "p-btc", "BTCUSDT", "0.02").await;
    buy(&t, "p-eth", "ETHUSDT", "1").await;
    // Resting limit orders on 4 symbols.
    rest(&t, "r-btc", "BTCUSDT", "59000", "0.001").await;
    rest(&t, "r-eth", "ETHUSDT", "2900", "0.1").await;
    rest(&t, "r-sol", "SOLUSDT", "140", "1").await;
    rest(&t, "r-doge", "DOGEUSDT", "0.14", "100").await;
    t.wait_for("both positions applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
            && t.position("ETHUSDT").await["fill_count"] == 1
    })
    .await;
    assert_eq!(t.sim.open_order_views(None).unwrap().len(), 4);

    let (status, stop) = post_as(
        &t,
        "/v1/emergency-stop",
        json!({"flatten": true, "reason": "runaway strategy"}),
        "alice",
    )
    .await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["halted"], true);
    assert_eq!(stop["already_halted"], false);
    assert_eq!(stop["stop"]["by"], "alice");
    assert_eq!(stop["failed"], json!([]), "{stop}");
    assert_eq!(stop["cancelled"].as_array().unwrap().len(), 4, "{stop}");
    assert_eq!(
        symbols_of(&stop["cancelled"]),
        ["BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT"]
            .map(String::from)
            .into(),
    );
    assert!(
        stop["cancelled"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "CANCELED")
    );
    let flattened = stop["flattened"].as_array().unwrap();
    assert_eq!(flattened.len(), 2, "{stop}");
    for f in flattened {
        assert_eq!(f["side"], "sell", "{f}");
        assert_eq!(f["status"], "FILLED", "{f}");
        assert!(s(f, "client_order_id").starts_with("rl-stop-"), "{f}");
    }
    let btc = flattened.iter().find(|f| f["symbol"] == "BTCUSDT").unwrap();
    assert_dec(s(btc, "quantity"), "0.01998", "BTC closed in full");

    // The venue holds nothing open; the router adopted the closing orders and the positions
    // went flat (both holdings are whole lot steps, so exactly zero is left).
    assert!(t.sim.open_order_views(None).unwrap().is_empty());
    t.wait_for("positions flat", |t| async move {
        dec_zero(&t.position("BTCUSDT").await) && dec_zero(&t.position("ETHUSDT").await)
    })
    .await;
    let close = t.order(s(btc, "client_order_id")).await;
    assert_eq!(close["strategy"], "emergency", "{close}");
    assert_eq!(close["status"], "FILLED", "{close}");
    t.wait_for("cancels folded into the router", |t| async move {
        t.order(&resting_id("r-sol")).await["status"] == "CANCELED"
    })
    .await;

    // Latched: signals get 503, an ordinary state change cannot lift it.
    let orders_before = t.sim.order_count();
    let (status, body) = t
        .signal(
            json!({"id": "after-stop", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("trading_halted")),
        "{body}"
    );
    let (status, body) = t.post("/v1/risk/state", r#"{"state":"active"}"#).await;
    assert_eq!(status, 409, "{body}");
    let (_, risk) = t.get("/v1/risk").await;
    assert_eq!(risk["trading_state"], "halted");
    assert!(
        s(&risk, "halt_reason").contains("emergency stop: runaway strategy"),
        "{risk}"
    );
    let (status, _) = t
        .signal(
            json!({"id": "after-state", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}),
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        t.sim.order_count(),
        orders_before,
        "nothing reached the venue"
    );
    assert!(dir.join(redline::control::LATCH_FILE).exists());
    t.stop().await;

    // Restart on the same data directory: still halted.
    let t = TestEngine::start(&overrides).await;
    let (_, risk) = t.get("/v1/risk").await;
    assert_eq!(risk["trading_state"], "halted", "{risk}");
    let (status, body) = t
        .signal(json!({"id": "after-restart", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (503, Some("trading_halted")),
        "{body}"
    );
    assert_eq!(t.sim.order_count(), 0);

    // Resume needs a reason, is recorded, and lifts it.
    let (status, _) = post_as(&t, "/v1/resume", json!({}), "bob").await;
    assert_eq!(status, 400);
    let (status, resumed) =
        post_as(&t, "/v1/resume", json!({"reason": "strategy fixed"}), "bob").await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["trading_state"], "active");
    assert_eq!(resumed["lifted"]["by"], "alice");
    assert!(!dir.join(redline::control::LATCH_FILE).exists());
    let (status, body) = t
        .signal(json!({"id": "after-resume", "symbol": "BTCUSDT", "action": "buy", "quantity": "0.001"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["order"]["status"], "FILLED");
    t.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

pub(crate) fn dec_zero(position: &Value) -> bool {
    crate::support::dec_eq(s(position, "quantity"), "0")
}

/// The client order id the router gives a signal's order.
fn resting_id(signal: &str) -> String {
    redline::domain::ClientOrderId::for_signal(&redline::domain::SignalId::new(signal).unwrap())
        .to_string()
}

#[actix_rt::test]
async fn an_empty_stop_request_still_stops_and_a_second_keeps_the_first_record() {
    let t = TestEngine::start_with(test_config(&[]), Default::default()).await;
    let (status, stop) = t.post("/v1/emergency-stop", "").await;
    assert_eq!(status, 200, "{stop}");
    assert_eq!(stop["stop"]["reason"], "no reason given");
    assert_eq!(stop["flattened"], json!([]));
    let (status, again) = t
        .post("/v1/emergency-stop", r#"{"reason":"pressed twice"}"#)
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["already_halted"], true);
    assert_eq!(again["stop"]["reason"], "no reason given");
    // A request it cannot read still stops (never refused) but does not flatten, and says why.
    let (status, body) = t.post("/v1/emergency-stop", r#"{"flaten":true}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["halted"], true);
    assert_eq!(body["flattened"], json!([]));
    let failed = body["failed"].as_array().unwrap();
    assert!(
        failed
            .iter()
            .any(|f| f["action"] == "request" && f["error"].as_str().unwrap().contains("flaten")),
        "{body}"
    );
    t.stop().await;
}
