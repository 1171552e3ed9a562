//! The gate's whole decision state and [`RiskState::decide`], the pure (clock and price passed
//! in) function that judges one order: the risk gate actor owns one `RiskState` and feeds it
//! facts; the benchmark calls `decide` directly.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::actors::messages::{RiskReason, RiskRefusal};
use crate::domain::{ClientOrderId, Fill, OrderRequest, OrderType, Side};
use crate::exchange::Balance;
use crate::exchange::filters::Instruments;

use super::book::{Book, exposure_qty};
use super::checks;
use super::limits::{LimitProblem, LimitsPatch, RiskConfig};
use super::strategies::Strategies;
use super::throttle::{RecentOrders, SlidingWindow};

/// Every instrument here is quoted in USDT; equity and exposure are valued in it.
pub const VALUATION_ASSET: &str = "USDT";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingState {
    Active,
    /// Only orders that shrink a position pass.
    Reducing,
    /// Nothing passes.
    Halted,
}

impl TradingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "active",
            TradingState::Reducing => "reducing",
            TradingState::Halted => "halted",
        }
    }
}

/// An order to judge, with what the gate needs to know about where it came from.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub order: OrderRequest,
    pub strategy: Option<String>,
    /// The signal says an identical recent order is intended (check 12 does not apply).
    pub allow_duplicate: bool,
    /// The other leg of the same OCO, checked (and approved) just before this one. Only one of
    /// the two can fill, so this leg is judged as if that leg's reservation were not there:
    /// both legs of an exit that sells a long each count as reducing it, and each must fit the
    /// holdings on its own rather than together.
    pub shares_with: Option<ClientOrderId>,
}

/// Something the gate decided on its own that must be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    StateChanged { state: TradingState, reason: String },
    StrategyPaused { strategy: String, losses: u32 },
}

#[derive(Debug, Clone)]
pub struct RiskState {
    pub limits: RiskConfig,
    pub book: Book,
    pub(super) state: TradingState,
    pub(super) halt_reason: Option<String>,
    /// The code a halted gate refuses with: `trading_halted` or `execution_throttle`.
    pub(super) halt_cause: RiskReason,
    pub(super) day: Option<NaiveDate>,
    pub(super) day_start_equity: Decimal,
    pub(super) trades_today: u32,
    /// Today's start as recorded before a restart: used instead of the current equity when
    /// the day is first rolled, if it is the same day (a restart must not reset the limits).
    pub(super) restored_day: Option<(NaiveDate, Decimal, u32)>,
    /// The last day announced (journaled) by [`RiskState::new_day`].
    pub(super) announced_day: Option<NaiveDate>,
    pub(super) orders_1s: SlidingWindow,
    pub(super) messages_1s: SlidingWindow,
    pub(super) messages_60s: SlidingWindow,
    pub(super) fills: SlidingWindow,
    pub(super) recent: RecentOrders,
    pub(super) strategies: Strategies,
}

fn refuse<T>(reason: RiskReason, detail: String) -> Result<T, RiskRefusal> {
    Err(RiskRefusal { reason, detail })
}

impl RiskState {
    pub fn new(limits: RiskConfig, instruments: &Instruments) -> Self {
        let mut book = Book::new(instruments, VALUATION_ASSET);
        book.set_groups(&limits.groups);
        let fill_window = Duration::seconds(limits.fill_window_secs as i64);
        Self {
            limits,
            book,
            state: TradingState::Active,
            halt_reason: None,
            halt_cause: RiskReason::TradingHalted,
            day: None,
            day_start_equity: Decimal::ZERO,
            trades_today: 0,
            restored_day: None,
            announced_day: None,
            orders_1s: SlidingWindow::new(Duration::seconds(1)),
            messages_1s: SlidingWindow::new(Duration::seconds(1)),
            messages_60s: SlidingWindow::new(Duration::seconds(60)),
            fills: SlidingWindow::new(fill_window),
            recent: RecentOrders::default(),
            strategies: Strategies::default(),
        }
    }

    pub fn state(&self) -> TradingState {
        self.state
    }

    /// At the first event of a new UTC day: today's loss and trade count start from here.
    pub fn roll_day(&mut self, now: DateTime<Utc>) {
        let today = now.date_naive();
        if self.book.account_known && self.day != Some(today) {
            self.day = Some(today);
            match self.restored_day.take() {
                Some((day, equity, trades)) if day == today => {
                    self.day_start_equity = equity;
                    self.trades_today = trades;
                }
                _ => {
                    self.day_start_equity = self.book.equity();
                    self.trades_today = 0;
                }
            }
        }
    }

    /// Continues today's counters from before a restart: the day's starting equity and trades
    /// so far (from the journal). Takes effect when the day is first rolled.
    pub fn restore_day(&mut self, day: NaiveDate, start_equity: Decimal, trades: u32) {
        self.announced_day = Some(day);
        self.restored_day = Some((day, start_equity, trades));
    }

    /// Pauses a strategy the consecutive-loss breaker had paused before a restart.
    pub fn restore_paused(&mut self, strategy: &str, since: DateTime<Utc>) {
        self.strategies.restore_paused(strategy, since);
    }

    /// A day started since the last call: its date and starting equity, to be journaled.
    pub fn new_day(&mut self) -> Option<(NaiveDate, Decimal)> {
        let day = self.day?;
        if self.announced_day == Some(day) {
            return None;
        }
        self.announced_day = Some(day);
        Some((day, self.day_start_equity))
    }

    pub fn sync_balances(&mut self, balances: &[Balance], now: DateTime<Utc>) {
        let first = !self.book.account_known;
        self.book.sync_balances(balances);
        if first {
            self.day = None;
            self.roll_day(now);
        }
    }

    /// Judges one order. `last` is the symbol's last price and when it was seen. On approval
    /// the order is counted as sent (throttles, duplicate memory) and its reservation held.
    pub fn decide(
        &mut self,
        req: &CheckRequest,
        last: Option<(Decimal, DateTime<Utc>)>,
        now: DateTime<Utc>,
    ) -> Result<(), RiskRefusal> {
        self.roll_day(now);
        let o = &req.order;
        let limits = &self.limits;
        if self.state == TradingState::Halted {
            let why = self.halt_reason.clone().unwrap_or_default();
            return refuse(self.halt_cause, format!("trading is halted: {why}"));
        }
        if !self.book.account_known {
            return refuse(
                RiskReason::AccountUnknown,
                "the account's balances have not been loaded yet".into(),
            );
        }
        let Some(i) = self.book.index_of(&o.symbol) else {
            return refuse(
                RiskReason::SymbolNotAllowed,
                format!("{} is not a configured instrument", o.symbol),
            );
        };
        checks::symbol_lists(limits, o.symbol.as_str())?;
        let strategy = req.strategy.as_deref();
        let paused = strategy.is_some_and(|s| self.strategies.is_paused(s));
        checks::strategy_paused(strategy, paused)?;
        if let Some((p, ts)) = last {
            self.book.set_mark(i, p, ts);
        }
        let limits = &self.limits;
        let qty = o.quantity.0;
        let price = match (o.order_type, o.price, last) {
            (OrderType::Limit, Some(p), _) => p.0,
            (_, _, Some((p, _))) => p,
            _ => {
                return refuse(
                    RiskReason::NoMarketPrice,
                    format!("no market price for {} to value the order", o.symbol),
                );
            }
        };
        let notional = qty.checked_mul(price).unwrap_or(Decimal::MAX);
        checks::order_size(limits, o.symbol.as_str(), qty, notional)?;
        let last_price = last.map(|(p, _)| p);
        checks::price_collar(
            limits.price_collar_pct,
            o.side,
            o.price.map(|p| p.0),
            last_price,
        )?;
        checks::stale_price(
            limits.max_price_age_secs,
            o.order_type,
            last.map(|l| l.1),
            now,
        )?;

        let s = self.book.symbol(i);
        let (mut open_buy, mut open_sell) = (s.open_buy, s.open_sell);
        if let Some((side, held)) = req
            .shares_with
            .as_ref()
            .and_then(|id| self.book.reserved_by(id))
        {
            match side {
                Side::Buy => open_buy = (open_buy - held).max(Decimal::ZERO),
                Side::Sell => open_sell = (open_sell - held).max(Decimal::ZERO),
            }
        }
        let reduces = match o.side {
            Side::Sell => s.qty.is_sign_positive() && qty.saturating_add(open_sell) <= s.qty,
            Side::Buy => s.qty.is_sign_negative() && qty.saturating_add(open_buy) <= -s.qty,
        };
        if self.state == TradingState::Reducing && !reduces {
            return refuse(
                RiskReason::ReducingOnly,
                format!(
                    "trading is reducing-only: this order does not shrink the {} position",
                    o.symbol
                ),
            );
        }
        if !reduces {
            let equity = self.book.equity();
            checks::daily_loss(limits.daily_loss_limit, self.day_start_equity, equity)?;
            checks::trades_per_day(limits.max_trades_per_day, self.trades_today)?;
            checks::open_positions(
                limits.max_open_positions,
                self.book.open_positions(),
                s.is_open(),
            )?;
            let mark = s.mark.unwrap_or(price);
            let (buy, sell) = match o.side {
                Side::Buy => (open_buy.saturating_add(qty), open_sell),
                Side::Sell => (open_buy, open_sell.saturating_add(qty)),
            };
            let before = s.exposure;
            let after = exposure_qty(s.qty, buy, sell).saturating_mul(mark);
            let sym = o.symbol.as_str();
            checks::exposure_limit(
                RiskReason::PositionExposure,
                sym,
                limits.max_position_pct,
                equity,
                before,
                after,
            )?;
            let gross = self.book.gross_exposure();
            let gross_after = gross.saturating_sub(before).saturating_add(after);
            checks::exposure_limit(
                RiskReason::TotalExposure,
                "total",
                limits.max_total_exposure_pct,
                equity,
                gross,
                gross_after,
            )?;
            let net = self.book.net_exposure();
            let net_after =
                net.saturating_add(o.side.sign().saturating_mul(qty).saturating_mul(mark));
            checks::exposure_limit(
                RiskReason::DirectionalExposure,
                "net directional",
                limits.max_directional_pct,
                equity,
                net.abs(),
                net_after.abs(),
            )?;
            for g in &s.groups {
                if let Some((name, group)) = limits.groups.iter().nth(*g) {
                    let total = self.book.group_exposure(*g);
                    let total_after = total.saturating_sub(before).saturating_add(after);
                    checks::exposure_limit(
                        RiskReason::GroupExposure,
                        &format!("group {name}"),
                        group.max_exposure_pct,
                        equity,
                        total,
                        total_after,
                    )?;
                }
            }
        }
        if limits.check_balance {
            match o.side {
                Side::Buy => checks::balance(notional, self.book.free_cash(), VALUATION_ASSET)?,
                Side::Sell => checks::balance(qty, s.qty.saturating_sub(open_sell), &s.base_asset)?,
            }
        }
        let key = (
            o.symbol.clone(),
            o.side,
            qty.normalize(),
            o.price.map(|p| p.0.normalize()),
        );
        if limits.duplicate_window_ms > 0 {
            let window = Duration::milliseconds(limits.duplicate_window_ms as i64);
            let seen = self.recent.seen_within(&key, now, window);
            checks::duplicate(seen, req.allow_duplicate, now)?;
        }
        let (per_s, per_m) = (
            limits.max_messages_per_second,
            limits.max_messages_per_minute,
        );
        checks::message_throttle(
            per_s,
            self.messages_1s.count(now),
            per_m,
            self.messages_60s.count(now),
        )?;
        checks::order_rate(limits.max_orders_per_second, self.orders_1s.count(now))?;

        // Approved: it counts as sent from this moment.
        self.orders_1s.record(now);
        self.record_message(now);
        if self.limits.duplicate_window_ms > 0 {
            self.recent.record(key, now);
        }
        self.book
            .reserve(o.client_order_id.clone(), i, o.side, qty, price);
        Ok(())
    }

    /// A cancel or modify was sent: it counts toward the message throttle.
    pub fn record_message(&mut self, now: DateTime<Utc>) {
        self.messages_1s.record(now);
        self.messages_60s.record(now);
    }

    /// Folds a fill in: holdings, trades today, the execution throttle, the strategy's round
    /// trips. Returns what the gate decided because of it.
    pub fn on_fill(
        &mut self,
        fill: &Fill,
        strategy: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        self.roll_day(now);
        let mut effects = Vec::new();
        let Some(first) = self.book.apply_fill(fill) else {
            return effects;
        };
        if first {
            self.trades_today = self.trades_today.saturating_add(1);
        }
        self.fills.record(now);
        let max = self.limits.max_fills_per_window;
        let count = self.fills.count(now);
        if max > 0 && count > max as usize && self.state != TradingState::Halted {
            let reason = format!(
                "{count} fills within {} s (limit {max}); latched until resumed",
                self.limits.fill_window_secs
            );
            effects.extend(self.set_state(TradingState::Halted, reason));
            self.halt_cause = RiskReason::ExecutionThrottle;
        }
        if let (Some(name), Some(i)) = (strategy, self.book.index_of(&fill.symbol)) {
            let max = self.limits.max_consecutive_losses;
            if self
                .strategies
                .on_fill(name, fill, self.book.symbol(i), max, now)
            {
                effects.push(Effect::StrategyPaused {
                    strategy: name.to_string(),
                    losses: max,
                });
            }
        }
        effects
    }

    /// Sets the trading state; `None` if it already was that.
    pub fn set_state(&mut self, state: TradingState, reason: String) -> Option<Effect> {
        if self.state == state {
            return None;
        }
        self.state = state;
        self.halt_reason = (state == TradingState::Halted).then(|| reason.clone());
        self.halt_cause = RiskReason::TradingHalted;
        if state != TradingState::Halted {
            self.fills.clear();
        }
        Some(Effect::StateChanged { state, reason })
    }

    /// Halts for an emergency stop: the reason is replaced even if already halted, so what
    /// the gate shows and refuses with names the stop.
    pub fn halt_for_stop(&mut self, reason: String) -> Option<Effect> {
        let effect = self.set_state(TradingState::Halted, reason.clone());
        self.halt_reason = Some(reason.clone());
        self.halt_cause = RiskReason::TradingHalted;
        effect.or(Some(Effect::StateChanged {
            state: TradingState::Halted,
            reason,
        }))
    }

    pub fn resume_strategy(&mut self, strategy: &str) -> bool {
        self.strategies.resume(strategy)
    }

    /// Validates the patched limits as a whole and applies them only if every field is good.
    pub fn update_limits(&mut self, patch: &LimitsPatch) -> Result<&RiskConfig, Vec<LimitProblem>> {
        let next = self.limits.patched(patch);
        let book = &self.book;
        let known = |s: &str| {
            crate::domain::Symbol::new(s)
                .ok()
                .and_then(|s| book.index_of(&s))
                .is_some()
        };
        let problems = next.validate(Some(&known));
        if !problems.is_empty() {
            return Err(problems);
        }
        self.book.set_groups(&next.groups);
        self.fills
            .set_window(Duration::seconds(next.fill_window_secs as i64));
        self.limits = next;
        Ok(&self.limits)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
pub(crate) mod tests;
