//! What `GET /v1/risk` shows: the trading state, every limit with its current use, per-symbol
//! and per-group exposure, and the strategies the consecutive-loss breaker tracks.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

use super::checks::pct_of;
use super::limits::RiskConfig;
use super::state::{RiskState, TradingState};
use super::strategies::StrategyRecord;

/// One limit's use now. `limit` zero means the check is off.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub used: Decimal,
    pub limit: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct SymbolUsage {
    pub symbol: String,
    pub qty: Decimal,
    pub open_buy: Decimal,
    pub open_sell: Decimal,
    pub mark: Option<Decimal>,
    pub exposure: Decimal,
    pub limit: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupUsage {
    pub group: String,
    pub symbols: Vec<String>,
    pub exposure: Decimal,
    pub limit: Decimal,
}

/// Who changed the limits, when, and to what.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsChange {
    pub by: String,
    pub at: DateTime<Utc>,
    pub changes: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    pub trading_state: TradingState,
    pub halt_reason: Option<String>,
    /// The code orders are refused with while halted.
    pub halt_code: Option<&'static str>,
    pub account_known: bool,
    pub equity: Decimal,
    pub cash: Decimal,
    pub reserved_cash: Decimal,
    pub day_start_equity: Decimal,
    pub open_orders: usize,
    /// Kept for `/v1/status` readers.
    pub open_positions: usize,
    pub orders_last_second: usize,
    pub limits: RiskConfig,
    pub utilization: BTreeMap<&'static str, Usage>,
    pub symbols: Vec<SymbolUsage>,
    pub groups: Vec<GroupUsage>,
    pub strategies: BTreeMap<String, StrategyRecord>,
    pub paused_strategies: Vec<String>,
    pub recent_limit_changes: Vec<LimitsChange>,
}

impl RiskState {
    pub fn report(&mut self, now: DateTime<Utc>, changes: Vec<LimitsChange>) -> RiskReport {
        self.roll_day(now);
        let l = &self.limits;
        let book = &self.book;
        let equity = book.equity();
        let n = |v: usize| Decimal::from(v as u64);
        let mut u = BTreeMap::new();
        let mut put = |k, used, limit| {
            u.insert(k, Usage { used, limit });
        };
        let loss = self
            .day_start_equity
            .saturating_sub(equity)
            .max(Decimal::ZERO);
        put("daily_loss", loss, l.daily_loss_limit);
        put(
            "trades_today",
            self.trades_today.into(),
            l.max_trades_per_day.into(),
        );
        put(
            "open_positions",
            n(book.open_positions()),
            l.max_open_positions.into(),
        );
        put(
            "total_exposure",
            book.gross_exposure(),
            pct_of(l.max_total_exposure_pct, equity),
        );
        put(
            "directional_exposure",
            book.net_exposure().abs(),
            pct_of(l.max_directional_pct, equity),
        );
        put("available_balance", book.reserved_quote(), book.cash);
        put(
            "messages_last_second",
            n(self.messages_1s.count(now)),
            l.max_messages_per_second.into(),
        );
        put(
            "messages_last_minute",
            n(self.messages_60s.count(now)),
            l.max_messages_per_minute.into(),
        );
        put(
            "orders_last_second",
            n(self.orders_1s.count(now)),
            l.max_orders_per_second.into(),
        );
        put(
            "fills_in_window",
            n(self.fills.count(now)),
            l.max_fills_per_window.into(),
        );
        put("duplicate_memory", n(self.recent.len()), Decimal::ZERO);
        let position_cap = pct_of(l.max_position_pct, equity);
        let symbols = book
            .symbols()
            .iter()
            .filter(|s| !s.qty.is_zero() || !s.open_buy.is_zero() || !s.open_sell.is_zero())
            .map(|s| SymbolUsage {
                symbol: s.symbol.to_string(),
                qty: s.qty,
                open_buy: s.open_buy,
                open_sell: s.open_sell,
                mark: s.mark,
                exposure: s.exposure,
                limit: position_cap,
            })
            .collect();
        let groups = l
            .groups
            .iter()
            .enumerate()
            .map(|(i, (name, g))| GroupUsage {
                group: name.clone(),
                symbols: g.symbols.clone(),
                exposure: book.group_exposure(i),
                limit: pct_of(g.max_exposure_pct, equity),
            })
            .collect();
        let strategies = self.strategies.records().clone();
        let paused_strategies = strategies
            .iter()
            .filter(|(_, r)| r.paused_since.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        RiskReport {
            trading_state: self.state,
            halt_reason: self.halt_reason.clone(),
            halt_code: (self.state == TradingState::Halted).then(|| self.halt_cause.as_str()),
            account_known: book.account_known,
            equity,
            cash: book.cash,
            reserved_cash: book.reserved_quote(),
            day_start_equity: self.day_start_equity,
            open_orders: book.open_orders(),
            open_positions: book.open_positions(),
            orders_last_second: self.orders_1s.count(now),
            limits: l.clone(),
            utilization: u,
            symbols,
            groups,
            strategies,
            paused_strategies,
            recent_limit_changes: changes,
        }
    }
}
