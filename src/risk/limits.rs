//! The risk limits: the `[risk]` config section, changeable at runtime by a partial patch
//! (`PUT /v1/risk/limits`). A patch is applied to a copy and the copy validated as a whole, so
//! either every change lands or none does.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Every pre-trade limit. Zero (or empty) turns a check off where the field says so.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest order value in the quote asset.
    #[schema(value_type = String)]
    pub max_order_notional: Decimal,
    /// Smallest order value in the quote asset (0 = off).
    #[schema(value_type = String)]
    pub min_order_notional: Decimal,
    /// Largest order quantity per symbol, in the base asset.
    #[schema(value_type = BTreeMap<String, String>)]
    pub max_order_qty: BTreeMap<String, Decimal>,
    /// Smallest order quantity per symbol, in the base asset.
    #[schema(value_type = BTreeMap<String, String>)]
    pub min_order_qty: BTreeMap<String, Decimal>,
    /// Symbols with an open (non-dust) position at most.
    pub max_open_positions: u32,
    /// Orders sent per second (0 = off).
    pub max_orders_per_second: u32,
    /// Symbols that may be traded; empty = every configured instrument.
    pub allowed_symbols: Vec<String>,
    /// Symbols that may not be traded, whatever the allow-list says.
    pub blocked_symbols: Vec<String>,
    /// Largest loss since 00:00 UTC (realized + unrealized, fees included), quote asset (0 = off).
    #[schema(value_type = String)]
    pub daily_loss_limit: Decimal,
    /// Orders that executed (at least partly) since 00:00 UTC (0 = off).
    pub max_trades_per_day: u32,
    /// One symbol's exposure (position and open orders) as % of equity (0 = off).
    #[schema(value_type = String)]
    pub max_position_pct: Decimal,
    /// All symbols' exposure together as % of equity (0 = off).
    #[schema(value_type = String)]
    pub max_total_exposure_pct: Decimal,
    /// Net long or short value of all positions as % of equity (0 = off).
    #[schema(value_type = String)]
    pub max_directional_pct: Decimal,
    /// Refuse orders the free balance cannot pay for (open orders' reservations deducted).
    pub check_balance: bool,
    /// How far (%) through the last price an order may be priced on its aggressive side (0 = off).
    #[schema(value_type = String)]
    pub price_collar_pct: Decimal,
    /// A market order needs a price updated within this many seconds (0 = off).
    pub max_price_age_secs: u64,
    /// Submits + cancels + modifies per second (0 = off).
    pub max_messages_per_second: u32,
    /// Submits + cancels + modifies per minute (0 = off).
    pub max_messages_per_minute: u32,
    /// The same symbol, side, quantity and price within this window is a duplicate (0 = off).
    pub duplicate_window_ms: u64,
    /// More fills than this within `fill_window_secs` halts trading until resumed (0 = off).
    pub max_fills_per_window: u32,
    pub fill_window_secs: u64,
    /// Losing round trips in a row after which a strategy is paused (0 = off).
    pub max_consecutive_losses: u32,
    /// Groups of correlated symbols with a combined exposure limit.
    pub groups: BTreeMap<String, GroupLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupLimit {
    pub symbols: Vec<String>,
    /// Combined exposure of the group's symbols as % of equity.
    #[schema(value_type = String)]
    pub max_exposure_pct: Decimal,
}

/// A change to some limits: every field optional, unknown fields refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    #[schema(value_type = Option<String>)]
    pub max_order_notional: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub min_order_notional: Option<Decimal>,
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub max_order_qty: Option<BTreeMap<String, Decimal>>,
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub min_order_qty: Option<BTreeMap<String, Decimal>>,
    pub max_open_positions: Option<u32>,
    pub max_orders_per_second: Option<u32>,
    pub allowed_symbols: Option<Vec<String>>,
    pub blocked_symbols: Option<Vec<String>>,
    #[schema(value_type = Option<String>)]
    pub daily_loss_limit: Option<Decimal>,
    pub max_trades_per_day: Option<u32>,
    #[schema(value_type = Option<String>)]
    pub max_position_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub max_total_exposure_pct: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub max_directional_pct: Option<Decimal>,
    pub check_balance: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub price_collar_pct: Option<Decimal>,
    pub max_price_age_secs: Option<u64>,
    pub max_messages_per_second: Option<u32>,
    pub max_messages_per_minute: Option<u32>,
    pub duplicate_window_ms: Option<u64>,
    pub max_fills_per_window: Option<u32>,
    pub fill_window_secs: Option<u64>,
    pub max_consecutive_losses: Option<u32>,
    pub groups: Option<BTreeMap<String, GroupLimit>>,
}

/// The JSON keys of a patch, so a type error names its field.
pub const PATCH_FIELDS: [&str; 23] = [
    "max_order_notional",
    "min_order_notional",
    "max_order_qty",
    "min_order_qty",
    "max_open_positions",
    "max_orders_per_second",
    "allowed_symbols",
    "blocked_symbols",
    "daily_loss_limit",
    "max_trades_per_day",
    "max_position_pct",
    "max_total_exposure_pct",
    "max_directional_pct",
    "check_balance",
    "price_collar_pct",
    "max_price_age_secs",
    "max_messages_per_second",
    "max_messages_per_minute",
    "duplicate_window_ms",
    "max_fills_per_window",
    "fill_window_secs",
    "max_consecutive_losses",
    "groups",
];

/// One bad limit: the top-level field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitProblem {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for LimitProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "risk.{}: {}", self.field, self.message)
    }
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

impl RiskConfig {
    /// Every problem with these limits. `known` says whether a symbol is a configured
    /// instrument (`None` skips that check, for when the instrument list is not at hand).
    pub fn validate(&self, known: Option<&dyn Fn(&str) -> bool>) -> Vec<LimitProblem> {
        let mut out = Vec::new();
        let mut bad =
            |field: &'static str, message: String| out.push(LimitProblem { field, message });
        if self.max_order_notional <= Decimal::ZERO {
            bad("max_order_notional", "must be > 0".into());
        }
        if self.min_order_notional < Decimal::ZERO {
            bad("min_order_notional", "must be >= 0".into());
        } else if self.min_order_notional > self.max_order_notional {
            bad(
                "min_order_notional",
                "must not exceed max_order_notional".into(),
            );
        }
        for (field, map) in [
            ("max_order_qty", &self.max_order_qty),
            ("min_order_qty", &self.min_order_qty),
        ] {
            for (symbol, qty) in map {
                if *qty <= Decimal::ZERO {
                    bad(field, format!("{symbol}: must be > 0"));
                }
            }
        }
        for (symbol, min) in &self.min_order_qty {
            if let Some(max) = self.max_order_qty.get(symbol)
                && min > max
            {
                bad(
                    "min_order_qty",
                    format!("{symbol}: {min} exceeds max_order_qty {max}"),
                );
            }
        }
        if self.daily_loss_limit < Decimal::ZERO {
            bad("daily_loss_limit", "must be >= 0".into());
        }
        for (field, pct) in [
            ("max_position_pct", self.max_position_pct),
            ("max_total_exposure_pct", self.max_total_exposure_pct),
            ("max_directional_pct", self.max_directional_pct),
            ("price_collar_pct", self.price_collar_pct),
        ] {
            if !(Decimal::ZERO..=HUNDRED * Decimal::TEN).contains(&pct) {
                bad(field, "must be a percentage in [0, 1000]".into());
            }
        }
        if self.max_fills_per_window > 0 && self.fill_window_secs == 0 {
            bad(
                "fill_window_secs",
                "must be > 0 when max_fills_per_window is set".into(),
            );
        }
        for (name, group) in &self.groups {
            if group.symbols.is_empty() {
                bad("groups", format!("{name}: symbols must not be empty"));
            }
            if !(Decimal::ZERO..=HUNDRED * Decimal::TEN).contains(&group.max_exposure_pct)
                || group.max_exposure_pct.is_zero()
            {
                bad(
                    "groups",
                    format!("{name}: max_exposure_pct must be in (0, 1000]"),
                );
            }
        }
        if let Some(known) = known {
            let lists: [(&'static str, Vec<&String>); 5] = [
                ("allowed_symbols", self.allowed_symbols.iter().collect()),
                ("blocked_symbols", self.blocked_symbols.iter().collect()),
                ("max_order_qty", self.max_order_qty.keys().collect()),
                ("min_order_qty", self.min_order_qty.keys().collect()),
                (
                    "groups",
                    self.groups.values().flat_map(|g| &g.symbols).collect(),
                ),
            ];
            for (field, symbols) in lists {
                for s in symbols {
                    if !known(s) {
                        bad(field, format!("{s} is not a configured instrument"));
                    }
                }
            }
        }
        out
    }

    /// These limits with `patch` applied (not yet validated).
    pub fn patched(&self, patch: &LimitsPatch) -> Self {
        let mut next = self.clone();
        macro_rules! set {
            ($($f:ident),*) => {$(
                if let Some(v) = &patch.$f {
                    next.$f = v.clone();
                }
            )*};
        }
        set!(
            max_order_notional,
            min_order_notional,
            max_order_qty,
            min_order_qty,
            max_open_positions,
            max_orders_per_second,
            allowed_symbols,
            blocked_symbols,
            daily_loss_limit,
            max_trades_per_day,
            max_position_pct,
            max_total_exposure_pct,
            max_directional_pct,
            check_balance,
            price_collar_pct,
            max_price_age_secs,
            max_messages_per_second,
            max_messages_per_minute,
            duplicate_window_ms,
            max_fills_per_window,
            fill_window_secs,
            max_consecutive_losses,
            groups
        );
        next
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Limits that pass everything a unit test does not set itself.
    pub(crate) fn open_limits() -> RiskConfig {
        RiskConfig {
            max_order_notional: Decimal::from(1_000_000),
            min_order_notional: Decimal::ZERO,
            max_order_qty: BTreeMap::new(),
            min_order_qty: BTreeMap::new(),
            max_open_positions: 100,
            max_orders_per_second: 0,
            allowed_symbols: vec![],
            blocked_symbols: vec![],
            daily_loss_limit: Decimal::ZERO,
            max_trades_per_day: 0,
            max_position_pct: Decimal::ZERO,
            max_total_exposure_pct: Decimal::ZERO,
            max_directional_pct: Decimal::ZERO,
            check_balance: false,
            price_collar_pct: Decimal::ZERO,
            max_price_age_secs: 0,
            max_messages_per_second: 0,
            max_messages_per_minute: 0,
            duplicate_window_ms: 0,
            max_fills_per_window: 0,
            fill_window_secs: 10,
            max_consecutive_losses: 0,
            groups: BTreeMap::new(),
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut l = open_limits();
        l.max_order_notional = Decimal::ZERO;
        l.max_position_pct = Decimal::from(-1);
        l.blocked_symbols = vec!["NOPE".into()];
        l.groups.insert(
            "l1".into(),
            GroupLimit {
                symbols: vec![],
                max_exposure_pct: Decimal::TEN,
            },
        );
        let known = |s: &str| s == "BTCUSDT";
        let fields: Vec<&str> = l.validate(Some(&known)).iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "max_order_notional",
                "max_position_pct",
                "groups",
                "blocked_symbols"
            ]
        );
        assert!(open_limits().validate(Some(&known)).is_empty());
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let patch: LimitsPatch =
            serde_json::from_str(r#"{"max_position_pct":"12.5","check_balance":true}"#).unwrap();
        let next = open_limits().patched(&patch);
        assert_eq!(next.max_position_pct, Decimal::new(125, 1));
        assert!(next.check_balance);
        assert_eq!(next.max_order_notional, open_limits().max_order_notional);
        assert!(serde_json::from_str::<LimitsPatch>(r#"{"max_positon_pct":"1"}"#).is_err());
    }
}
