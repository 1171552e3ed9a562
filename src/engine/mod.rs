//! Wiring: starts every actor under its supervisor, in dependency order, and hands back the
//! addresses and views the HTTP layer, the Redis bridge and tests use.

use actix::{Addr, Supervisor};
use chrono::Duration;
use std::sync::Arc;

use crate::actors::circuit_breaker::CircuitBreaker;
use crate::actors::exchange_gateway::{AttachRouter, ExchangeGateway, GatewayDeps};
use crate::actors::order_router::{OrderRouter, RouterDeps, RouterSettings};
use crate::actors::position::PositionRegistry;
use crate::actors::risk_gate::{AttachAccount, RiskGate};
use crate::actors::supervisor::Supervision;
use crate::clock::SharedClock;
use crate::config::{Config, Mode};
use crate::control::{EmergencyLatch, FileLatchStore};
use crate::domain::{Price, Qty};
use crate::events::EventBus;
use crate::exchange::Exchange;
use crate::exchange::filters::Instruments;
use crate::exchange::sim::{SimExchange, SimMarket, SimSettings};
use crate::market::MarketView;

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
    /// The emergency stop, loaded from `storage.data_dir` at start (a stop survives restarts).
    pub latch: Arc<EmergencyLatch>,
    /// The simulated exchange, in paper mode (for `/v1/sim/...` and tests).
    pub sim: Option<SimExchange>,
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

impl Engine {
    /// Starts the engine on the current actix system. In paper mode the simulated exchange is
    /// built from the config (and its price feed started if `sim.feed_interval_ms` > 0).
    pub fn start(config: Config, clock: SharedClock) -> Result<Self, String> {
        let instruments = Arc::new(config.instruments()?);
        let (exchange, sim): (Arc<dyn Exchange>, Option<SimExchange>) = match config.mode {
            Mode::Paper => {
                let sim = build_sim(&config, &instruments)?;
                if config.sim.feed_interval_ms > 0 {
                    // The feed task lives as long as the runtime; it holds only a clone.
                    drop(sim.spawn_feed(std::time::Duration::from_millis(
                        config.sim.feed_interval_ms,
                    )));
                }
                (Arc::new(sim.clone()), Some(sim))
            }
            Mode::Live => {
                return Err(
                    "live mode connects to the venue first: start it with Engine::launch".into(),
                );
            }
        };
        Ok(Self::start_with(config, clock, instruments, exchange, sim))
    }

    /// Starts the engine against any exchange adapter (tests and benchmarks use this).
    pub fn start_with(
        config: Config,
        clock: SharedClock,
        instruments: Arc<Instruments>,
        exchange: Arc<dyn Exchange>,
        sim: Option<SimExchange>,
    ) -> Self {
        let config = Arc::new(config);
        let latch = Arc::new(EmergencyLatch::load(Box::new(FileLatchStore::in_dir(
            &config.storage.data_dir,
        ))));
        let events = EventBus::new();
        let market = Arc::new(MarketView::default());
        let supervision = Supervision::new(
            clock.clone(),
            events.clone(),
            config.supervisor.max_restarts,
            Duration::seconds(config.supervisor.restart_window_secs as i64),
        );
        let positions =
            PositionRegistry::new(instruments.clone(), events.clone(), supervision.clone());

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
                latch: latch.clone(),
            };
            Supervisor::start(move |_| OrderRouter::new(settings, deps))
        };
        gateway.do_send(AttachRouter(router.clone().recipient()));
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
            latch,
            sim,
        }
    }
}
