//! The signal path, in process, with venue rate limits off.
//!
//! - criterion `signal_to_exchange`: a signal enters the order router, passes breaker and risk
//!   gate, reaches the simulated exchange, and the venue's answer comes back (so this bounds the
//!   one-way time to the exchange from above).
//! - criterion `signal_to_position`: the same, plus the fill applied by the position actor.
//! - then a load run: p50/p99 of both paths over 100,000 signals, end-to-end signals/s with 256
//!   signals in flight, and resident memory sampled across 1,000,000 signals.
//!
//! Run: `cargo bench --bench pipeline` (`REDLINE_BENCH_SIGNALS=N` changes the load-run size).

use criterion::Criterion;
use redline::actors::messages::SubmitOutcome;
use redline::actors::order_router::SubmitSignal;
use redline::actors::position::GetPosition;
use redline::clock::SystemClock;
use redline::config;
use redline::domain::{Action, OrderType, Qty, Signal, SignalId, Symbol, TimeInForce};
use redline::engine::Engine;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU64 = AtomicU64::new(0);

fn bench_engine() -> Engine {
    let env = [
        ("REDLINE__SIM__FEED_INTERVAL_MS", "0"),
        ("REDLINE__RISK__MAX_ORDERS_PER_SECOND", "0"),
        ("REDLINE__GATEWAY__MAX_REQUESTS_PER_SECOND", "0"),
        ("REDLINE__SIGNALS__DEDUP_WINDOW_SECS", "1"),
        ("REDLINE__SIGNALS__MAX_AGE_MS", "500"),
        ("REDLINE__SIGNALS__MAX_FUTURE_SKEW_MS", "0"),
        ("REDLINE__ORDERS__RETENTION_SECS", "1"),
        ("REDLINE__SIM__RETAINED_ORDERS", "10000"),
        ("REDLINE__SIM__BALANCES__USDT", "1000000000000"),
        ("REDLINE__SIM__BALANCES__BTC", "1000000"),
        ("REDLINE__SIM__MARKETS__BTCUSDT__LEVEL_QTY", "1000000000"),
        ("REDLINE__RISK__MAX_ORDER_QTY__BTCUSDT", "1000"),
        // Identical alternating orders thousands of times a second, on prices that never move.
        ("REDLINE__RISK__DUPLICATE_WINDOW_MS", "0"),
        ("REDLINE__RISK__MAX_MESSAGES_PER_SECOND", "0"),
        ("REDLINE__RISK__MAX_MESSAGES_PER_MINUTE", "0"),
        ("REDLINE__RISK__MAX_FILLS_PER_WINDOW", "0"),
        ("REDLINE__RISK__MAX_TRADES_PER_DAY", "0"),
        ("REDLINE__RISK__MAX_PRICE_AGE_SECS", "0"),
        // A million round trips pay more in fees than the default daily loss limit allows.
        ("REDLINE__RISK__DAILY_LOSS_LIMIT", "0"),
    ];
    let config = config::load(
        None,
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .expect("bench config");
    Engine::start(config, Arc::new(SystemClock)).expect("engine")
}

/// Alternating buys and sells of 0.001 BTC, so balances and the position stay bounded.
fn next_signal() -> Signal {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Signal {
        id: SignalId::new(&format!("bench-{n}")).expect("id"),
        strategy: None,
        symbol: Symbol::new("BTCUSDT").expect("symbol"),
        action: if n.is_multiple_of(2) {
            Action::Buy
        } else {
            Action::Sell
        },
        order_type: OrderType::Market,
        quantity: Some(Qty::from_str("0.001").expect("qty")),
        price: None,
        time_in_force: TimeInForce::Gtc,
        confidence: None,
        timestamp: None,
        stop_loss: None,
        take_profit: None,
        allow_duplicate: false,
        sizing: Default::default(),
        stops: Default::default(),
    }
}

async fn to_exchange(engine: &Engine) {
    match engine.router.send(SubmitSignal(next_signal())).await {
        Ok(SubmitOutcome::Submitted(_)) => {}
        other => panic!("bench signal not submitted: {other:?}"),
    }
}

async fn to_position(engine: &Engine) {
    to_exchange(engine).await;
    // The router queued the fill before answering; a later message to the position actor is
    // handled after it.
    let actor = engine
        .positions
        .existing(&Symbol::new("BTCUSDT").expect("symbol"))
        .expect("actor");
    actor.send(GetPosition).await.expect("position");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

async fn latencies(engine: &Engine, n: usize, e2e: bool) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        if e2e {
            to_position(engine).await
        } else {
            to_exchange(engine).await
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    (percentile(&samples, 0.50), percentile(&samples, 0.99))
}

async fn load_run(engine: &Engine, total: u64) {
    const IN_FLIGHT: usize = 256;
    let start = Instant::now();
    let mut done = 0u64;
    let mut next_sample = 0u64;
    println!("load: {total} signals, {IN_FLIGHT} in flight");
    while done < total {
        let batch = (total - done).min(IN_FLIGHT as u64);
        let futs: Vec<_> = (0..batch).map(|_| to_exchange(engine)).collect();
        futures_util::future::join_all(futs).await;
        done += batch;
        if done >= next_sample {
            println!(
                "  {done:>9} signals  rss {:>7.1} MiB  {:>8.0} signals/s",
                rss_mib(),
                done as f64 / start.elapsed().as_secs_f64()
            );
            next_sample += total / 10;
        }
    }
    // Wait until every fill has reached the position actor, so the rate is end to end.
    let actor = engine
        .positions
        .existing(&Symbol::new("BTCUSDT").expect("symbol"))
        .expect("actor");
    actor.send(GetPosition).await.expect("position");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "load: {total} signals end to end in {secs:.2} s = {:.0} signals/s; rss {:.1} MiB",
        total as f64 / secs,
        rss_mib()
    );
}

fn main() {
    let system = actix_rt::System::new();
    let engine = system.block_on(async {
        let engine = bench_engine();
        // Let the gateway attach and load prices, and the risk gate load the balances.
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        while !engine
            .risk
            .send(redline::actors::risk_gate::GetRiskState)
            .await
            .is_ok_and(|r| r.account_known)
        {
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        engine
    });

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("signal_to_exchange", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    to_exchange(&engine).await;
                }
                start.elapsed()
            })
        })
    });
    c.bench_function("signal_to_position", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    to_position(&engine).await;
                }
                start.elapsed()
            })
        })
    });
    c.final_summary();

    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let total: u64 = std::env::var("REDLINE_BENCH_SIGNALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    system.block_on(async {
        let (p50, p99) = latencies(&engine, 100_000, false).await;
        println!(
            "signal -> exchange (answer back): p50 {:.1} us  p99 {:.1} us",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
        let (p50, p99) = latencies(&engine, 100_000, true).await;
        println!(
            "signal -> position update:        p50 {:.1} us  p99 {:.1} us",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
        load_run(&engine, total).await;
    });
}
