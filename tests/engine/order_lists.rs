//! OCO order lists through `POST /v1/order-lists/oco`: one leg fills, the other expires, the
//! list ends ALL_DONE; cancel; refusals. BTCUSDT starts at 60000, 100000 USDT, fees 0.1%.

use serde_json::Value;

use crate::support::{TestEngine, assert_dec, s};

fn statuses(list: &Value) -> Vec<String> {
    list["orders"]
        .as_array()
        .map(|legs| legs.iter().map(|o| s(o, "status").to_string()).collect())
        .unwrap_or_default()
}

const BUY_OCO: &str = r#"{"symbol":"BTCUSDT","side":"buy","quantity":"0.01","list_client_order_id":"LIST",
    "above":{"order_type":"stop_loss","stop_price":"61000","client_order_id":"LIST-stop"},
    "below":{"order_type":"limit_maker","price":"59000","client_order_id":"LIST-limit"}}"#;

#[actix_rt::test]
async fn a_filled_leg_expires_the_other_and_the_list_ends_all_done() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post("/v1/order-lists/oco", &BUY_OCO.replace("LIST", "oco-1"))
        .await;
    assert_eq!(status, 201, "{body}");
    let list = &body["order_list"];
    assert_eq!(list["list_order_status"], "EXECUTING");
    assert_eq!(statuses(list), vec!["NEW", "NEW"]);
    assert_eq!(list["orders"][0]["order_type"], "limit_maker");
    t.set_price("BTCUSDT", "59000").await;
    t.wait_for("list done", |t| async move {
        t.get("/v1/order-lists/oco-1").await.1["list_order_status"] == "ALL_DONE"
    })
    .await;
    let (_, list) = t.get("/v1/order-lists/oco-1").await;
    assert_eq!(statuses(&list), vec!["FILLED", "EXPIRED"]);
    t.wait_for("fill applied", |t| async move {
        t.position("BTCUSDT").await["fill_count"] == 1
    })
    .await;
    // 0.01 at 59000 as maker, fee 0.1% in BTC.
    assert_dec(
        s(&t.position("BTCUSDT").await, "quantity"),
        "0.00999",
        "position",
    );
}

#[actix_rt::test]
async fn canceling_a_list_cancels_both_legs() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post("/v1/order-lists/oco", &BUY_OCO.replace("LIST", "oco-2"))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, list) = t.delete("/v1/order-lists/oco-2").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["list_order_status"], "ALL_DONE");
    assert_eq!(statuses(&list), vec!["CANCELED", "CANCELED"]);
    assert_eq!(t.delete("/v1/order-lists/nope").await.0, 404);
}

#[actix_rt::test]
async fn bad_lists_are_refused_by_field_or_by_the_venue() {
    let t = TestEngine::start(&[]).await;
    let (status, body) = t
        .post(
            "/v1/order-lists/oco",
            r#"{"symbol":"BTCUSDT","side":"sell","quantity":"0.01","above":{"price":"61000"},
                "below":{"order_type":"stop_loss","stop_price":"59000"}}"#,
        )
        .await;
    assert_eq!(
        (status, s(&body, "field")),
        (400, "above.order_type"),
        "{body}"
    );
    // A sell OCO with its stop above: Binance's -1197, both legs REJECTED.
    let (status, body) = t
        .post(
            "/v1/order-lists/oco",
            r#"{"symbol":"BTCUSDT","side":"sell","quantity":"0.01","list_client_order_id":"bad",
                "above":{"order_type":"stop_loss","stop_price":"61000"},
                "below":{"order_type":"stop_loss","stop_price":"59000"}}"#,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        s(&body, "detail").contains("A stop loss order in a sell OCO must be below."),
        "{body}"
    );
    assert_eq!(statuses(&body["order_list"]), vec!["REJECTED", "REJECTED"]);
    assert_eq!(body["order_list"]["list_order_status"], "REJECT");
}
