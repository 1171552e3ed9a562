//! The adapter against a scripted Binance on loopback (actix-web on port 0): the exact shape
//! of a signed order, how answers are classified, the ban after a 429, and the query that
//! recovers fills with `myTrades`.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::domain::{
    ClientOrderId, OrderRequest, OrderStatus, OrderType, Price, Qty, Side, Symbol, TimeInForce,
};
use crate::exchange::binance::{BinanceExchange, BinanceSettings, Credentials};
use crate::exchange::{Exchange, ExchangeError};

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub api_key: Option<String>,
}

/// A scripted answer: status, extra headers, body.
pub(super) type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
pub(super) struct Script {
    seen: Vec<Seen>,
    answers: VecDeque<Answer>,
}

pub(super) fn fixture(rel: &str) -> String {
    let path = format!(
        "{}/../shared/binance/fixtures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn answer(req: HttpRequest, script: web::Data<Arc<Mutex<Script>>>) -> HttpResponse {
    let path = req.path().to_string();
    let mut s = script.lock().unwrap();
    s.seen.push(Seen {
        method: req.method().to_string(),
        path: path.clone(),
        query: req.query_string().to_string(),
        api_key: req
            .headers()
            .get("X-MBX-APIKEY")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    let (status, headers, body) = match path.as_str() {
        "/api/v3/time" => (
            200,
            vec![],
            format!(
                r#"{{"serverTime":{}}}"#,
                chrono::Utc::now().timestamp_millis() + 1500
            ),
        ),
        "/api/v3/exchangeInfo" => {
            let wrapped: serde_json::Value =
                serde_json::from_str(&fixture("rest/exchange_info_full_example_from_ws_api.json"))
                    .unwrap();
            (200, vec![], wrapped["result"].to_string())
        }
        _ => s
            .answers
            .pop_front()
            .unwrap_or((404, vec![], String::new())),
    };
    let mut resp = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    resp.insert_header(("X-MBX-USED-WEIGHT-1M", "42"));
    for (k, v) in headers {
        resp.insert_header((k, v));
    }
    resp.content_type("application/json").body(body)
}

pub(super) async fn start() -> (BinanceExchange, Arc<Mutex<Script>>) {
    start_with(
        "ws://127.0.0.1:1/ws-api/v3".into(),
        "ws://127.0.0.1:1".into(),
    )
    .await
}

/// The mock REST venue, with the user-data stream at `ws_api_url`.
pub(super) async fn start_with(
    ws_api_url: String,
    stream_url: String,
) -> (BinanceExchange, Arc<Mutex<Script>>) {
    let script = Arc::new(Mutex::new(Script::default()));
    let data = web::Data::new(script.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(answer))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_rt::spawn(server.run());
    let settings = BinanceSettings {
        rest_url: format!("http://127.0.0.1:{port}"),
        ws_api_url,
        stream_url,
        credentials: Credentials::new("the-key", "the-secret"),
        recv_window_ms: 5000,
        request_timeout: Duration::from_secs(5),
        symbols: vec![Symbol::new("BTCUSDT").unwrap()],
        time_sync_interval: Duration::from_secs(300),
    };
    let (ex, info) = BinanceExchange::connect(settings).await.unwrap();
    assert_eq!(info.symbols[0].symbol, "BNBBTC");
    (ex, script)
}

pub(super) fn push(script: &Arc<Mutex<Script>>, answer: Answer) {
    script.lock().unwrap().answers.push_back(answer);
}

pub(super) fn last(script: &Arc<Mutex<Script>>) -> Seen {
    script.lock().unwrap().seen.last().cloned().unwrap()
}

fn limit_buy() -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new("rl-abc").unwrap(),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        quantity: Qty(Decimal::from_str("0.00100000").unwrap()),
        price: Some(Price(Decimal::from_str("65000.10").unwrap())),
        time_in_force: TimeInForce::Gtc,
        stop_price: None,
        trailing_delta: None,
        quote_quantity: None,
    }
}

#[actix_rt::test]
async fn a_signed_order_has_binances_exact_shape() {
    let (ex, script) = start().await;
    // connect measured the clock: the mock runs 1.5 s ahead.
    assert!(
        (1000..=2000).contains(&ex.clock_offset_ms()),
        "{}",
        ex.clock_offset_ms()
    );
    let seen = script.lock().unwrap().seen.clone();
    assert_eq!(seen[1].query, "symbols=%5B%22BTCUSDT%22%5D");
    assert_eq!(seen[1].api_key, None);

    push(
        &script,
        (
            200,
            vec![("X-MBX-ORDER-COUNT-10S", "1".into())],
            fixture("rest/new_order_response_FULL.json"),
        ),
    );
    let report = ex.submit(limit_buy()).await.unwrap();
    assert_eq!(
        (report.status, report.fills.len()),
        (OrderStatus::Filled, 5)
    );

    let req = last(&script);
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/api/v3/order")
    );
    assert_eq!(req.api_key.as_deref(), Some("the-key"));
    let (signed, signature) = req.query.split_once("&signature=").unwrap();
    assert!(Credentials::new("the-key", "the-secret").verify(signed, signature));
    let params: Vec<(&str, &str)> = signed
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let keys: Vec<&str> = params.iter().map(|p| p.0).collect();
    assert_eq!(
        keys,
        [
            "symbol",
            "side",
            "type",
            "timeInForce",
            "quantity",
            "price",
            "newClientOrderId",
            "newOrderRespType",
            "recvWindow",
            "timestamp"
        ]
    );
    assert_eq!(
        &params[..8],
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.001"),
            ("price", "65000.1"),
            ("newClientOrderId", "rl-abc"),
            ("newOrderRespType", "FULL")
        ]
    );
    let ts: i64 = params[9].1.parse().unwrap();
    let venue_now = chrono::Utc::now().timestamp_millis() + 1500;
    assert!(
        (venue_now - ts).abs() < 1000,
        "timestamp follows the venue's clock"
    );
    let snap = ex.limits_snapshot();
    assert_eq!(
        (snap.used_weight, snap.weight_limit),
        (Some(42), Some(6000))
    );
}

#[actix_rt::test]
async fn server_errors_are_unknown_for_writes_and_connectivity_for_reads() {
    let (ex, script) = start().await;
    push(&script, (503, vec![], String::new()));
    assert!(matches!(
        ex.submit(limit_buy()).await,
        Err(ExchangeError::UnknownOutcome(_))
    ));
    push(&script, (502, vec![], String::new()));
    let id = ClientOrderId::new("rl-abc").unwrap();
    let btc = Symbol::new("BTCUSDT").unwrap();
    assert!(matches!(
        ex.cancel(btc.clone(), id.clone()).await,
        Err(ExchangeError::UnknownOutcome(_))
    ));
    push(&script, (500, vec![], String::new()));
    assert!(matches!(
        ex.query(btc.clone(), id.clone()).await,
        Err(ExchangeError::Connectivity(_))
    ));
    push(
        &script,
        (
            400,
            vec![],
            r#"{"code":-2013,"msg":"Order does not exist."}"#.into(),
        ),
    );
    assert_eq!(
        ex.query(btc, id).await,
        Err(ExchangeError::Rejected {
            code: -2013,
            message: "Order does not exist.".into()
        })
    );
    // An order that was never sent (the venue refused the connection) is plain connectivity.
    let refused = BinanceSettings {
        rest_url: "http://127.0.0.1:1".into(),
        ws_api_url: String::new(),
        stream_url: String::new(),
        credentials: Credentials::new("k", "s"),
        recv_window_ms: 5000,
        request_timeout: Duration::from_secs(2),
        symbols: vec![],
        time_sync_interval: Duration::from_secs(60),
    };
    assert!(matches!(
        BinanceExchange::connect(refused).await,
        Err(ExchangeError::Connectivity(_))
    ));
}

#[actix_rt::test]
async fn a_429_stops_every_request_until_retry_after() {
    let (ex, script) = start().await;
    push(
        &script,
        (
            429,
            vec![("Retry-After", "30".into())],
            r#"{"code":-1003,"msg":"Too many requests."}"#.into(),
        ),
    );
    assert_eq!(
        ex.submit(limit_buy()).await,
        Err(ExchangeError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        })
    );
    let sent = script.lock().unwrap().seen.len();
    match ex.balances().await {
        Err(ExchangeError::RateLimited {
            retry_after: Some(d),
        }) => assert!(d <= Duration::from_secs(30)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        script.lock().unwrap().seen.len(),
        sent,
        "nothing reaches the venue while banned"
    );
    assert!(ex.limits_snapshot().banned_until.is_some());
}

#[actix_rt::test]
async fn a_query_of_a_filled_order_recovers_its_fills_from_my_trades() {
    let (ex, script) = start().await;
    let mut order: serde_json::Value =
        serde_json::from_str(&fixture("rest/query_order_response.json")).unwrap();
    order["status"] = "PARTIALLY_FILLED".into();
    order["executedQty"] = "0.4".into();
    order["cummulativeQuoteQty"] = "0.04".into();
    push(&script, (200, vec![], order.to_string()));
    let trades = r#"[{"symbol":"LTCBTC","id":28457,"orderId":1,"orderListId":-1,"price":"0.1","qty":"0.4",
        "quoteQty":"0.04","commission":"0.0004","commissionAsset":"LTC","time":1499865549590,
        "isBuyer":true,"isMaker":true,"isBestMatch":true}]"#;
    push(&script, (200, vec![], trades.into()));
    let report = ex
        .query(
            Symbol::new("LTCBTC").unwrap(),
            ClientOrderId::new("myOrder1").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (report.status, report.executed_qty),
        (
            OrderStatus::PartiallyFilled,
            Qty(Decimal::from_str("0.4").unwrap())
        )
    );
    let f = &report.fills[0];
    assert_eq!(
        (f.trade_id, f.is_maker, f.side, f.commission_asset.as_ref()),
        (28457, true, Side::Buy, "LTC")
    );
    let req = last(&script);
    assert_eq!(req.path, "/api/v3/myTrades");
    assert!(
        req.query
            .starts_with("symbol=LTCBTC&orderId=1&limit=1000&recvWindow=5000&timestamp="),
        "{}",
        req.query
    );
}

#[actix_rt::test]
async fn a_query_pages_through_my_trades_and_refuses_an_incomplete_list() {
    let (ex, script) = start().await;
    let order_with = |executed: &str| {
        let mut order: serde_json::Value =
            serde_json::from_str(&fixture("rest/query_order_response.json")).unwrap();
        order["status"] = "FILLED".into();
        order["executedQty"] = executed.into();
        order.to_string()
    };
    let trade = |id: u64| {
        format!(
            r#"{{"symbol":"LTCBTC","id":{id},"orderId":1,"orderListId":-1,"price":"0.1","qty":"0.001",
            "quoteQty":"0.0001","commission":"0","commissionAsset":"LTC","time":1499865549590,
            "isBuyer":true,"isMaker":false,"isBestMatch":true}}"#
        )
    };
    let page =
        |ids: std::ops::Range<u64>| format!("[{}]", ids.map(trade).collect::<Vec<_>>().join(","));
    // 1,001 trades of 0.001: a full first page, then one more from fromId.
    push(&script, (200, vec![], order_with("1.001")));
    push(&script, (200, vec![], page(1..1001)));
    push(&script, (200, vec![], page(1001..1002)));
    let id = || ClientOrderId::new("myOrder1").unwrap();
    let sym = || Symbol::new("LTCBTC").unwrap();
    let report = ex.query(sym(), id()).await.unwrap();
    assert_eq!(report.fills.len(), 1001);
    let req = last(&script);
    assert!(req.query.contains("fromId=1001"), "{}", req.query);
    // The trade list lags the order: the query fails (to be asked again), not a lost fill.
    push(&script, (200, vec![], order_with("0.002")));
    push(&script, (200, vec![], page(1..2)));
    match ex.query(sym(), id()).await {
        Err(ExchangeError::Connectivity(m)) => assert!(m.contains("do not yet add up"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn paths(script: &Arc<Mutex<Script>>) -> Vec<String> {
    let s = script.lock().unwrap();
    s.seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

const STALE: &str =
    r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#;

#[actix_rt::test]
async fn a_stale_timestamp_resyncs_the_clock_retries_a_read_and_never_a_write() {
    let (ex, script) = start().await;
    push(&script, (400, vec![], STALE.into()));
    let account = fixture("rest/account_response.json");
    push(&script, (200, vec![], account));
    let balances = ex.balances().await.unwrap();
    assert_eq!(balances[1].asset, "LTC");
    let seen = paths(&script);
    assert_eq!(
        &seen[2..],
        [
            "GET /api/v3/account",
            "GET /api/v3/time",
            "GET /api/v3/account"
        ]
    );

    push(&script, (400, vec![], STALE.into()));
    match ex.submit(limit_buy()).await {
        Err(ExchangeError::Rejected { code: -1021, .. }) => {}
        other => panic!("{other:?}"),
    }
    let seen = paths(&script);
    assert_eq!(&seen[5..], ["POST /api/v3/order", "GET /api/v3/time"]);
}

#[actix_rt::test]
async fn a_cancel_of_a_partly_filled_order_carries_its_fills() {
    let (ex, script) = start().await;
    let mut answer: serde_json::Value =
        serde_json::from_str(&fixture("rest/cancel_order_response.json")).unwrap();
    answer["executedQty"] = "0.25".into();
    answer["cummulativeQuoteQty"] = "0.5".into();
    push(&script, (200, vec![], answer.to_string()));
    let trades = r#"[{"symbol":"LTCBTC","id":9,"orderId":4,"orderListId":-1,"price":"2","qty":"0.25",
        "quoteQty":"0.5","commission":"0.0005","commissionAsset":"BTC","time":1684804350000,
        "isBuyer":true,"isMaker":true,"isBestMatch":true}]"#;
    push(&script, (200, vec![], trades.into()));
    let report = ex
        .cancel(
            Symbol::new("LTCBTC").unwrap(),
            ClientOrderId::new("myOrder1").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (report.status, report.client_order_id.as_str()),
        (OrderStatus::Canceled, "myOrder1")
    );
    assert_eq!((report.fills.len(), report.fills[0].trade_id), (1, 9));
    let req = last(&script);
    assert!(req.query.starts_with("symbol=LTCBTC&orderId=4&"));
}
