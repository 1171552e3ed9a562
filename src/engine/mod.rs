//! Wiring: starts every actor under its supervisor, in dependency order, and hands back the
//! addresses and views the HTTP layer, the Redis bridge and tests use.

use actix::{Actor, Addr, Supervisor};
use chrono::Duration;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::actors::circuit_breaker::CircuitBreaker;
use crate::actors::exchange_gateway::{
    AttachReconciler, AttachRouter, ExchangeGateway, GatewayDeps,
};
use crate::actors::order_router::{OrderRouter, RouterDeps, RouterSettings};
use crate::actors::position::PositionRegistry;
use crate::actors::reconciler::Reconciler;
use crate::actors::risk_gate::{AttachAccount, RestoreDay, RiskGate, SetTradingState};
use crate::actors::supervisor::Supervision;
use crate::clock::SharedClock;
use crate::config::{Config, Mode};
use crate::control::{EmergencyLatch, FileLatchStore};
use crate::domain::{Price, Qty};
use crate::events::EventBus;
use crate::exchange::Exchange;
use crate::exchange::filters::Instruments;
use crate::exchange::sim::{SimExchange, SimMarket, SimSettings};
use crate::journal::recovery::Recovered;
use crate::journal::{JournalWriter, Store};
use crate::market::MarketView;
use crate::risk::TradingState;

mod live;
mod shutdown;

pub use shutdown::ShutdownReport;

/// A running engine. Cheap to clone; every field is an address or a shared view.
#[derive(Clone)]
pub struct Engine {
    pub config: Arc<Config>,
    pub instruments: Arc<Instruments>,
    pub clock: SharedClock,
    pub events: EventBus,
    pub market: Arc<MarketView>,
    pub positions: Arc<PositionRegistry>,
    pub supervision: Arc<Supervision>,
    pub router: Addr<OrderRouter>,
    pub risk: Addr<RiskGate>,
    pub breaker: Addr<CircuitBreaker>,
    pub gateway: Addr<ExchangeGateway>,
    /// The venue adapter the gateway talks through (read-only uses: its name and status).
    pub exchange: Arc<dyn Exchange>,
    /// The emergency stop, loaded from `storage.data_dir` at start (a stop survives restarts).
    pub latch: Arc<EmergencyLatch>,
    /// The simulated exchange, in paper mode (for `/v1/sim/...` and tests).
    pub sim: Option<SimExchange>,
    /// The journal, when the engine was launched with one (`Engine::launch`).
    pub journal: Option<JournalHandle>,
    pub reconciler: Addr<Reconciler>,
    /// True once the first reconciliation with the venue succeeded; until then no signal or
    /// order is taken.
    pub reconciled: Arc<AtomicBool>,
}

/// The journal an engine records to: the writer actor, and the store for look-ups.
#[derive(Clone, Debug)]
pub struct JournalHandle {
    pub writer: Addr<JournalWriter>,
    pub store: Store,
}

/// Builds the simulated exchange the configuration describes.
pub fn build_sim(config: &Config, instruments: &Instruments) -> Result<SimExchange, String> {
    let mut markets = Vec::new();
    for rules in instruments.iter() {
        let m = config
            .sim
            .markets
            .get(rules.symbol.as_str())
            .ok_or_else(|| format!("sim.markets.{} missing", rules.symbol))?;
        markets.push(SimMarket {
            rules: rules.clone(),
            start_price: Price(m.start_price),
            level_qty: Qty(m.level_qty),
            level_spacing: config.sim.level_spacing,
        });
    }
    SimExchange::new(SimSettings {
        seed: config.sim.seed,
        taker_fee_rate: config.sim.taker_fee_rate,
        maker_fee_rate: config.sim.maker_fee_rate,
        volatility: config.sim.volatility,
        book_levels: config.sim.book_levels,
        retained_orders: config.sim.retained_orders,
        balances: config.sim.balances.clone(),
        markets,
    })
}

/// The simulated exchange for paper mode, its price feed started if configured.
fn paper_venue(config: &Config, instruments: &Instruments) -> Result<SimExchange, String> {
    if config.mode != Mode::Paper {
        return Err("live mode connects to the venue first: start it with Engine::launch".into());
    }
    let sim = build_sim(config, instruments)?;
    if config.sim.feed_interval_ms > 0 {
        // The feed task lives as long as the runtime; it holds only a clone.
        drop(sim.spawn_feed(std::time::Duration::from_millis(
            config.sim.feed_interval_ms,
        )));
    }
    Ok(sim)
}

impl Engine {
    /// Starts the engine on the current actix system, without a journal (tests and tools;
    /// `Engine::launch` is what `redline run` uses). Paper mode only: the simulated exchange is
    /// built from the config (and its price feed started if `sim.feed_interval_ms` > 0).
    pub fn start(config: Config, clock: SharedClock) -> Result<Self, String> {
        let instruments = Arc::new(config.instruments()?);
        let sim = paper_venue(&config, &instruments)?;
        Ok(Self::start_with(
            config,
            clock,
            instruments,
            Arc::new(sim.clone()),
            Some(sim),
        ))
    }

    /// Starts the engine against any exchange adapter, without a journal (benchmarks and
    /// tests that do not need one use this).
    pub fn start_with(
        config: Config,
        clock: SharedClock,
        instruments: Arc<Instruments>,
        exchange: Arc<dyn Exchange>,
        sim: Option<SimExchange>,
    ) -> Self {
        Self::assemble(
            config,
            clock,
            instruments,
            exchange,
            sim,
            None,
            Recovered::default(),
        )
    }

    /// Starts every actor, recording to `journal` if given and continuing from `recovered`.
    fn assemble(
        config: Config,
        clock: SharedClock,
        instruments: Arc<Instruments>,
        exchange: Arc<dyn Exchange>,
        sim: Option<SimExchange>,
        journal: Option<JournalHandle>,
        recovered: Recovered,
    ) -> Self {
        let config = Arc::new(config);
        let latch = Arc::new(EmergencyLatch::load(Box::new(FileLatchStore::in_dir(
            std::path::Path::new(&config.storage.data_dir),
        ))));
        let events = match &journal {
            Some(j) => EventBus::with_journal(j.writer.clone().recipient()),
            None => EventBus::new(),
        };
        let market = Arc::new(MarketView::default());
        let supervision = Supervision::new(
            clock.clone(),
            events.clone(),
            config.supervisor.max_restarts,
            Duration::seconds(config.supervisor.restart_window_secs as i64),
        );
        let positions =
            PositionRegistry::new(instruments.clone(), events.clone(), supervision.clone());
        positions.restore(recovered.rebuild_positions(&instruments));
        // Today's loss limit, trade count and paused strategies outlive a restart.
        let restore_day = (recovered.risk_day.is_some() || !recovered.paused_strategies.is_empty())
            .then(|| RestoreDay {
                day: recovered.risk_day,
                trades_today: recovered
                    .risk_day
                    .map_or(0, |(day, _)| recovered.trades_on(day)),
                paused: recovered.paused_strategies.clone().into_iter().collect(),
            });

        let breaker = {
            let (c, clk, ev, sup) = (
                config.clone(),
                clock.clone(),
                events.clone(),
                supervision.clone(),
            );
            Supervisor::start(move |_| {
                CircuitBreaker::new(
                    c.breaker.failure_threshold,
                    Duration::seconds(c.breaker.cooldown_secs as i64),
                    clk,
                    ev,
                    sup,
                )
            })
        };
        let risk = {
            let instruments = instruments.clone();
            let (limits, m, clk, ev, sup, l) = (
                config.risk.clone(),
                market.clone(),
                clock.clone(),
                events.clone(),
                supervision.clone(),
                latch.clone(),
            );
            Supervisor::start(move |_| RiskGate::new(limits, &instruments, m, clk, ev, sup, l))
        };
        supervision.set_escalation(risk.clone().recipient());
        let gateway = {
            let deps = GatewayDeps {
                breaker: breaker.clone(),
                positions: positions.clone(),
                market: market.clone(),
                supervision: supervision.clone(),
                latch: latch.clone(),
            };
            let rate = config.gateway.max_requests_per_second;
            let exchange = exchange.clone();
            Supervisor::start(move |_| ExchangeGateway::new(exchange, rate, deps))
        };
        let router = {
            let settings = RouterSettings {
                max_signal_age: Duration::milliseconds(config.signals.max_age_ms as i64),
                max_future_skew: Duration::milliseconds(config.signals.max_future_skew_ms as i64),
                dedup_window: Duration::seconds(config.signals.dedup_window_secs as i64),
                order_retention: Duration::seconds(config.orders.retention_secs as i64),
            };
            let deps = RouterDeps {
                instruments: instruments.clone(),
                clock: clock.clone(),
                events: events.clone(),
                market: market.clone(),
                positions: positions.clone(),
                risk: risk.clone(),
                breaker: breaker.clone(),
                gateway: gateway.clone(),
                supervision: supervision.clone(),
                journal: journal.as_ref().map(|j| j.writer.clone()),
                latch: latch.clone(),
            };
            let orders = recovered.orders;
            Supervisor::start(move |_| {
                let mut router = OrderRouter::new(settings, deps);
                router.restore(orders.into_values());
                router
            })
        };
        if let Some(restore) = restore_day {
            risk.do_send(restore);
        }
        if let Some((state, reason)) = recovered.trading_state {
            let state = match state.as_str() {
                "halted" => Some(TradingState::Halted),
                "reducing" => Some(TradingState::Reducing),
                _ => None,
            };
            if let Some(state) = state {
                // A halt (or reduce-only) outlives a restart: only a person lifts it.
                risk.do_send(SetTradingState {
                    state,
                    reason: format!("restored from the journal: {reason}"),
                });
            }
        }
        gateway.do_send(AttachRouter(router.clone().recipient()));
        let reconciled = Arc::new(AtomicBool::new(false));
        let reconciler = Reconciler::new(
            config.reconcile.clone(),
            gateway.clone(),
            router.clone(),
            clock.clone(),
            events.clone(),
            reconciled.clone(),
        )
        .start();
        gateway.do_send(AttachReconciler(reconciler.clone().recipient()));
        risk.do_send(AttachAccount(gateway.clone().recipient()));

        Self {
            config,
            instruments,
            clock,
            events,
            market,
            positions,
            supervision,
            router,
            risk,
            breaker,
            gateway,
            exchange,
            latch,
            sim,
            journal,
            reconciler,
            reconciled,
        }
    }

    /// Opens the journal the configuration names, reads it back, and starts the engine on
    /// `exchange`. Live mode continues from every recorded order and position; paper mode's
    /// venue starts empty each run, so only the trading state (a halt) is carried over.
    pub(crate) async fn assemble_with_journal(
        config: Config,
        clock: SharedClock,
        instruments: Arc<Instruments>,
        exchange: Arc<dyn Exchange>,
        sim: Option<SimExchange>,
    ) -> Result<Self, String> {
        let target = config.storage.journal_target();
        let store = Store::open(&target)
            .await
            .map_err(|e| format!("journal at {}: {e}", redact(&target)))?;
        let mut recovered = Recovered::load(&store, clock.now())
            .await
            .map_err(|e| format!("reading the journal at {}: {e}", redact(&target)))?;
        if config.mode == Mode::Paper {
            recovered = Recovered::only_trading_state(recovered);
        }
        tracing::info!(
            journal = store.backend(),
            entries = recovered.entries,
            orders = recovered.orders.len(),
            positions = recovered.positions.len(),
            "journal read"
        );
        let writer = JournalWriter::new(store.clone()).start();
        let journal = JournalHandle { writer, store };
        Ok(Self::assemble(
            config,
            clock,
            instruments,
            exchange,
            sim,
            Some(journal),
            recovered,
        ))
    }
}

/// A database URL without its password, for messages.
fn redact(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &target[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &target[..scheme + 3], &target[at..])
        }
        _ => target.to_string(),
    }
}
