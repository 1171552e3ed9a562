//! The risk gate's decision time with 100 symbols and 1,000 open orders.
//!
//! - criterion `risk_decide`: one `RiskState::decide` (every check on, default limits), called
//!   directly, then the reservation released so the book stays at 1,000 open orders.
//! - then a manual sample of 100,000 decisions, printing p50/p99/max, both direct and through
//!   the actor's mailbox (`CheckOrder` to a running `RiskGate`, round trip).
//!
//! Run: `cargo bench --bench risk`.

use chrono::{DateTime, Duration, Utc};
use criterion::Criterion;
use redline::actors::exchange_gateway::FetchBalances;
use redline::actors::risk_gate::{CheckOrder, OrderDone, RiskGate};
use redline::actors::supervisor::Supervision;
use redline::clock::{Clock, ManualClock};
use redline::config;
use redline::domain::{
    ClientOrderId, OrderRequest, OrderType, Price, Qty, Side, Symbol, TimeInForce,
};
use redline::events::EventBus;
use redline::exchange::filters::Instruments;
use redline::exchange::{Balance, ExchangeError};
use redline::market::MarketView;
use redline::risk::{CheckRequest, RiskState};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;

const SYMBOLS: usize = 100;
const OPEN_ORDERS: usize = 1_000;
const SAMPLES: usize = 100_000;
/// Time between decisions on the fake clock: keeps the default throttles (40 messages/s,
/// 1,200/min, 20 orders/s) and the duplicate window from refusing the benchmark's orders.
const STEP_MS: i64 = 100;

fn instruments() -> Instruments {
    let mut info: serde_json::Value =
        serde_json::from_str(include_str!("../config/exchange_info.json")).expect("info");
    let template = info["symbols"][0].clone();
    let symbols: Vec<serde_json::Value> = (0..SYMBOLS)
        .map(|i| {
            let mut s = template.clone();
            s["symbol"] = format!("C{i}USDT").into();
            s["baseAsset"] = format!("C{i}").into();
            s
        })
        .collect();
    info["symbols"] = symbols.into();
    Instruments::from_exchange_info_json(&info.to_string()).expect("rules")
}

fn balances() -> Vec<Balance> {
    vec![Balance {
        asset: "USDT".into(),
        free: Decimal::from(1_000_000_000u64),
        locked: Decimal::ZERO,
    }]
}

fn limits() -> redline::risk::RiskConfig {
    let mut limits = config::load(None, Vec::<(String, String)>::new())
        .expect("defaults")
        .risk;
    limits.max_order_qty.clear();
    limits.groups.clear();
    for g in 0..10 {
        let symbols = (0..10).map(|i| format!("C{}USDT", g * 10 + i)).collect();
        let group = redline::risk::GroupLimit {
            symbols,
            max_exposure_pct: Decimal::from(50),
        };
        limits.groups.insert(format!("g{g}"), group);
    }
    limits
}

fn symbol(i: usize) -> Symbol {
    Symbol::new(&format!("C{}USDT", i % SYMBOLS)).expect("symbol")
}

fn price(i: usize) -> Decimal {
    Decimal::from(100 + (i % SYMBOLS) as u64)
}

fn request(id: String, i: usize) -> CheckRequest {
    CheckRequest {
        order: OrderRequest {
            client_order_id: ClientOrderId::new(&id).expect("id"),
            symbol: symbol(i),
            side: Side::Buy,
            order_type: OrderType::Limit,
            quantity: Qty(Decimal::ONE),
            price: Some(Price(price(i) - Decimal::ONE)),
            time_in_force: TimeInForce::Gtc,
            stop_price: None,
            trailing_delta: None,
            quote_quantity: None,
        },
        strategy: Some("bench".into()),
        allow_duplicate: false,
        shares_with: None,
    }
}

/// A gate state with every symbol marked and 1,000 open orders reserved through `decide`.
fn state(start: DateTime<Utc>) -> (RiskState, DateTime<Utc>) {
    let mut s = RiskState::new(limits(), &instruments());
    s.sync_balances(&balances(), start);
    let mut now = start;
    for i in 0..OPEN_ORDERS {
        now += Duration::milliseconds(STEP_MS);
        s.decide(&request(format!("open-{i}"), i), Some((price(i), now)), now)
            .expect("open order approved");
    }
    (s, now)
}

fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn report(what: &str, mut samples: Vec<std::time::Duration>) {
    samples.sort();
    println!(
        "{what}: p50 {:?}  p99 {:?}  max {:?}  ({} decisions, {SYMBOLS} symbols, {OPEN_ORDERS} open orders)",
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
        samples.len()
    );
}

fn direct_sample() {
    let (mut s, mut now) = state(Utc::now());
    let mut samples = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES {
        now += Duration::milliseconds(STEP_MS);
        let req = request(format!("s-{n}"), n);
        let last = Some((price(n), now));
        let start = Instant::now();
        let verdict = s.decide(&req, last, now);
        samples.push(start.elapsed());
        assert!(verdict.is_ok(), "{verdict:?}");
        s.book.release(&req.order.client_order_id);
    }
    report("risk decision, direct", samples);
}

/// Answers the gate's balance request as a venue would.
struct Account;
impl actix::Actor for Account {
    type Context = actix::Context<Self>;
}
impl actix::Handler<FetchBalances> for Account {
    type Result = Result<Vec<Balance>, ExchangeError>;
    fn handle(&mut self, _: FetchBalances, _: &mut Self::Context) -> Self::Result {
        Ok(balances())
    }
}

fn actor_sample() {
    use actix::Actor;
    let system = actix_rt::System::new();
    system.block_on(async {
        let clock = ManualClock::new(Utc::now());
        let market = Arc::new(MarketView::default());
        let events = EventBus::new();
        let sup = Supervision::new(clock.clone(), events.clone(), 5, Duration::seconds(60));
        let gate = RiskGate::new(
            limits(),
            &instruments(),
            market.clone(),
            clock.clone(),
            events,
            sup,
            Arc::new(redline::control::EmergencyLatch::in_memory()),
        )
        .start();
        gate.send(redline::actors::risk_gate::AttachAccount(
            Account.start().recipient(),
        ))
        .await
        .expect("attach");
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
        let mut samples = Vec::with_capacity(SAMPLES);
        for n in 0..OPEN_ORDERS + SAMPLES {
            clock.advance(Duration::milliseconds(STEP_MS));
            market.update(&symbol(n), Price(price(n)), clock.now());
            let req = request(format!("a-{n}"), n);
            let id = req.order.client_order_id.clone();
            let start = Instant::now();
            let verdict = gate.send(CheckOrder(req)).await.expect("mailbox");
            let took = start.elapsed();
            assert!(verdict.is_ok(), "{verdict:?}");
            if n >= OPEN_ORDERS {
                samples.push(took);
                gate.do_send(OrderDone(id));
            }
        }
        report("risk decision, through the actor mailbox", samples);
    });
}

fn main() {
    let (mut s, mut now) = state(Utc::now());
    let mut n = 0usize;
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("risk_decide", |b| {
        b.iter(|| {
            n += 1;
            now += Duration::milliseconds(STEP_MS);
            let req = request(format!("c-{n}"), n);
            let verdict = s.decide(&req, Some((price(n), now)), now);
            s.book.release(&req.order.client_order_id);
            verdict
        })
    });
    c.final_summary();
    direct_sample();
    actor_sample();
}
