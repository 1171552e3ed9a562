//! The risk gate: every order passes here before it may leave. It owns the risk limits, the
//! engine's view of exposure per symbol (from fills), the order-rate window and the trading
//! state. A refusal is a `RiskRefusal` with a stable reason code, returned to the caller and
//! published as an event.

use actix::{Actor, Context, Handler, Message, MessageResult, Supervised};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::RiskConfig;
use crate::domain::{OrderRequest, OrderType, Symbol};
use crate::events::{EngineEvent, EventBus};
use crate::exchange::filters::Instruments;
use crate::market::MarketView;

use super::messages::{RiskReason, RiskRefusal};
use super::supervisor::Supervision;

/// May this order go out? Approval counts it against the order-rate limit.
#[derive(Message)]
#[rtype(result = "Result<(), RiskRefusal>")]
pub struct CheckOrder(pub OrderRequest);

/// A fill moved a position: `signed_qty` is + for buys, - for sells (net of base fees).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RecordExposure {
    pub symbol: Symbol,
    pub signed_qty: Decimal,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct SetTradingState {
    pub state: TradingState,
    pub reason: String,
}

#[derive(Message)]
#[rtype(result = "RiskSnapshot")]
pub struct GetRiskState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingState {
    Active,
    Halted,
}

impl TradingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "active",
            TradingState::Halted => "halted",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskSnapshot {
    pub trading_state: TradingState,
    pub halt_reason: Option<String>,
    pub open_positions: usize,
    pub max_open_positions: u32,
    pub orders_last_second: usize,
    pub max_orders_per_second: u32,
    pub max_order_notional: Decimal,
}

pub struct RiskGate {
    limits: RiskConfig,
    /// Empty = every instrument may trade.
    allowed: HashSet<String>,
    /// Each symbol's smallest tradable quantity: a remainder below it (dust left by fees and
    /// step rounding) cannot be traded, so it does not count as an open position.
    min_lot: BTreeMap<Symbol, Decimal>,
    market: Arc<MarketView>,
    clock: SharedClock,
    events: EventBus,
    supervision: Arc<Supervision>,
    /// Net quantity per symbol, from fills: the basis of the open-positions count.
    exposure: BTreeMap<Symbol, Decimal>,
    /// When each recently approved order was approved, for the per-second throttle.
    recent_orders: VecDeque<DateTime<Utc>>,
    state: TradingState,
    halt_reason: Option<String>,
}

impl RiskGate {
    pub fn new(
        limits: RiskConfig,
        instruments: &Instruments,
        market: Arc<MarketView>,
        clock: SharedClock,
        events: EventBus,
        supervision: Arc<Supervision>,
    ) -> Self {
        let allowed = limits.allowed_symbols.iter().cloned().collect();
        let min_lot = instruments
            .iter()
            .map(|r| (r.symbol.clone(), r.lot.min.max(r.market_lot.min)))
            .collect();
        Self {
            limits,
            allowed,
            min_lot,
            market,
            clock,
            events,
            supervision,
            exposure: BTreeMap::new(),
            recent_orders: VecDeque::new(),
            state: TradingState::Active,
            halt_reason: None,
        }
    }

    fn is_open(&self, symbol: &Symbol, qty: Decimal) -> bool {
        let min = self.min_lot.get(symbol).copied().unwrap_or_default();
        !qty.is_zero() && qty.abs() >= min
    }

    fn open_positions(&self) -> usize {
        self.exposure
            .iter()
            .filter(|(s, q)| self.is_open(s, **q))
            .count()
    }

    fn prune_window(&mut self, now: DateTime<Utc>) {
        let window = Duration::seconds(1);
        while self
            .recent_orders
            .front()
            .is_some_and(|t| now - *t >= window)
        {
            self.recent_orders.pop_front();
        }
    }

    fn check(&mut self, order: &OrderRequest) -> Result<(), RiskRefusal> {
        let refuse = |reason, detail: String| Err(RiskRefusal { reason, detail });
        if self.state == TradingState::Halted {
            let why = self.halt_reason.clone().unwrap_or_default();
            return refuse(
                RiskReason::TradingHalted,
                format!("trading is halted: {why}"),
            );
        }
        let symbol = order.symbol.as_str();
        if !self.allowed.is_empty() && !self.allowed.contains(symbol) {
            return refuse(
                RiskReason::SymbolNotAllowed,
                format!("{symbol} is not on the allow-list"),
            );
        }
        let qty = order.quantity.0;
        if let Some(max) = self.limits.max_order_qty.get(symbol)
            && qty > *max
        {
            return refuse(
                RiskReason::MaxOrderQty,
                format!("quantity {qty} exceeds the {symbol} limit of {max}"),
            );
        }
        let price = match (order.order_type, order.price) {
            (OrderType::Limit, Some(p)) => p,
            _ => match self.market.last_price(&order.symbol) {
                Some(p) => p,
                None => {
                    return refuse(
                        RiskReason::NoMarketPrice,
                        format!("no market price for {symbol} to value the order"),
                    );
                }
            },
        };
        let notional = order.quantity.notional(price).unwrap_or(Decimal::MAX);
        if notional > self.limits.max_order_notional {
            return refuse(
                RiskReason::MaxOrderNotional,
                format!(
                    "order value {} exceeds the limit of {}",
                    notional.normalize(),
                    self.limits.max_order_notional
                ),
            );
        }
        let current = self
            .exposure
            .get(&order.symbol)
            .copied()
            .unwrap_or_default();
        let max_open = self.limits.max_open_positions as usize;
        // Only an order in a symbol with no position can open a new one.
        if !self.is_open(&order.symbol, current) && self.open_positions() >= max_open {
            return refuse(
                RiskReason::MaxOpenPositions,
                format!(
                    "{} positions are open, the limit is {max_open}",
                    self.open_positions()
                ),
            );
        }
        let now = self.clock.now();
        self.prune_window(now);
        let per_second = self.limits.max_orders_per_second as usize;
        if per_second > 0 && self.recent_orders.len() >= per_second {
            return refuse(
                RiskReason::OrderRateLimit,
                format!("more than {per_second} orders in the last second"),
            );
        }
        if per_second > 0 {
            self.recent_orders.push_back(now);
        }
        Ok(())
    }
}

impl Actor for RiskGate {
    type Context = Context<Self>;
}

impl Supervised for RiskGate {
    fn restarting(&mut self, _: &mut Context<Self>) {
        // Limits, exposure and a halt survive a restart; only the throttle window is transient.
        self.recent_orders.clear();
        self.supervision.record_restart("risk_gate");
    }
}

impl Handler<CheckOrder> for RiskGate {
    type Result = Result<(), RiskRefusal>;

    fn handle(&mut self, msg: CheckOrder, _: &mut Context<Self>) -> Self::Result {
        self.check(&msg.0)
    }
}

impl Handler<RecordExposure> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: RecordExposure, _: &mut Context<Self>) {
        let q = self.exposure.entry(msg.symbol).or_default();
        *q = q.checked_add(msg.signed_qty).unwrap_or(*q);
    }
}

impl Handler<SetTradingState> for RiskGate {
    type Result = ();

    fn handle(&mut self, msg: SetTradingState, _: &mut Context<Self>) {
        if self.state == msg.state {
            return;
        }
        tracing::warn!(state = msg.state.as_str(), reason = %msg.reason, "trading state changed");
        self.state = msg.state;
        self.halt_reason = (msg.state == TradingState::Halted).then(|| msg.reason.clone());
        self.events.publish(EngineEvent::TradingStateChanged {
            state: msg.state.as_str(),
            reason: msg.reason,
            ts: self.clock.now(),
        });
    }
}

impl Handler<GetRiskState> for RiskGate {
    type Result = MessageResult<GetRiskState>;

    fn handle(&mut self, _: GetRiskState, _: &mut Context<Self>) -> Self::Result {
        self.prune_window(self.clock.now());
        MessageResult(RiskSnapshot {
            trading_state: self.state,
            halt_reason: self.halt_reason.clone(),
            open_positions: self.open_positions(),
            max_open_positions: self.limits.max_open_positions,
            orders_last_second: self.recent_orders.len(),
            max_orders_per_second: self.limits.max_orders_per_second,
            max_order_notional: self.limits.max_order_notional,
        })
    }
}
