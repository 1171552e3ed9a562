//! `decide` end to end over a real book: state, reductions, exposure and balance arithmetic.

use super::*;
use crate::domain::{ClientOrderId, Price, Qty, Symbol, TimeInForce};
use crate::risk::limits::tests::open_limits;
use std::str::FromStr;
use std::sync::Arc;

pub(crate) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(crate) fn instruments() -> Instruments {
    Instruments::from_exchange_info_json(include_str!("../../config/exchange_info.json")).unwrap()
}

pub(crate) fn btc_fill(
    id: &str,
    side: Side,
    qty: &str,
    price: &str,
    fee: &str,
    fee_asset: &str,
) -> Fill {
    Fill {
        trade_id: 1,
        symbol: Symbol::new("BTCUSDT").unwrap(),
        client_order_id: ClientOrderId::new(id).unwrap(),
        side,
        quantity: Qty(d(qty)),
        price: Price(d(price)),
        commission: d(fee),
        commission_asset: Arc::from(fee_asset),
        is_maker: false,
        ts: Utc::now(),
    }
}

fn usdt(amount: &str) -> Vec<Balance> {
    vec![Balance {
        asset: "USDT".into(),
        free: d(amount),
        locked: Decimal::ZERO,
    }]
}

fn req(id: &str, side: Side, qty: &str, price: Option<&str>) -> CheckRequest {
    CheckRequest {
        order: OrderRequest {
            client_order_id: ClientOrderId::new(id).unwrap(),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side,
            order_type: if price.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: Qty(d(qty)),
            price: price.map(|p| Price(d(p))),
            time_in_force: TimeInForce::Gtc,
            stop_price: None,
            trailing_delta: None,
            quote_quantity: None,
        },
        strategy: Some("s".into()),
        allow_duplicate: false,
        shares_with: None,
    }
}

fn gate(limits: RiskConfig) -> (RiskState, DateTime<Utc>) {
    let now = Utc::now();
    let mut g = RiskState::new(limits, &instruments());
    g.sync_balances(&usdt("100000"), now);
    (g, now)
}

fn code(r: Result<(), RiskRefusal>) -> Option<&'static str> {
    r.err().map(|e| e.reason.as_str())
}

#[test]
fn nothing_passes_before_the_account_is_known() {
    let mut g = RiskState::new(open_limits(), &instruments());
    let last = Some((d("60000"), Utc::now()));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.01", None), last, Utc::now())),
        Some("account_unknown")
    );
}

#[test]
fn the_readme_demo_passes_the_default_single_position_limit() {
    let mut l = open_limits();
    l.max_position_pct = d("10");
    l.check_balance = true;
    let (mut g, now) = gate(l);
    let last = Some((d("60000"), now));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.01", None), last, now)),
        None
    );
    // 0.01 open + 0.16 more = 0.17 BTC = 10,200 USDT > 10% of 100,000.
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.16", None), last, now)),
        Some("position_exposure")
    );
    assert_eq!(
        code(g.decide(&req("c", Side::Buy, "0.15", None), last, now)),
        None,
        "exactly 10,000"
    );
}

#[test]
fn both_legs_of_an_oco_selling_a_long_count_as_reducing_it() {
    let (mut g, now) = gate(open_limits());
    let last = Some((d("60000"), now));
    g.on_fill(
        &btc_fill("x", Side::Buy, "0.02", "60000", "0", "USDT"),
        None,
        now,
    );
    g.set_state(TradingState::Reducing, "test".into());
    assert_eq!(
        code(g.decide(&req("stop", Side::Sell, "0.02", None), last, now)),
        None
    );
    let mut take = req("take", Side::Sell, "0.02", Some("61000"));
    assert_eq!(
        code(g.decide(&take, last, now)),
        Some("reducing_only"),
        "alone it would sell the position twice"
    );
    take.shares_with = Some(ClientOrderId::new("stop").unwrap());
    assert_eq!(code(g.decide(&take, last, now)), None);
}

#[test]
fn reducing_state_passes_a_sell_of_a_long_but_not_a_buy() {
    let (mut g, now) = gate(open_limits());
    let last = Some((d("60000"), now));
    g.on_fill(
        &btc_fill("x", Side::Buy, "0.02", "60000", "0", "USDT"),
        None,
        now,
    );
    g.set_state(TradingState::Reducing, "test".into());
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.01", None), last, now)),
        Some("reducing_only")
    );
    assert_eq!(
        code(g.decide(&req("s", Side::Sell, "0.01", None), last, now)),
        None
    );
    assert_eq!(
        code(g.decide(&req("t", Side::Sell, "0.02", None), last, now)),
        Some("reducing_only"),
        "0.01 already reserved by an open sell"
    );
    g.set_state(TradingState::Halted, "test".into());
    assert_eq!(
        code(g.decide(&req("u", Side::Sell, "0.001", None), last, now)),
        Some("trading_halted")
    );
}

#[test]
fn open_orders_reserve_balance() {
    let mut l = open_limits();
    l.check_balance = true;
    let (mut g, now) = gate(l);
    let last = Some((d("60000"), now));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "1", Some("60000")), last, now)),
        None
    );
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.67", Some("60000")), last, now)),
        Some("insufficient_balance"),
        "40,000 free"
    );
    g.book.release(&ClientOrderId::new("a").unwrap());
    assert_eq!(
        code(g.decide(&req("c", Side::Buy, "0.67", Some("60000")), last, now)),
        None
    );
    assert_eq!(
        code(g.decide(&req("d", Side::Sell, "0.001", None), last, now)),
        Some("insufficient_balance"),
        "no BTC held"
    );
}

#[test]
fn daily_loss_counts_unrealized_and_resets_at_utc_midnight() {
    let mut l = open_limits();
    l.daily_loss_limit = d("100");
    let (mut g, _) = gate(l);
    let day = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    g.day = None;
    g.roll_day(day);
    g.on_fill(
        &btc_fill("x", Side::Buy, "0.01", "60000", "0", "USDT"),
        None,
        day,
    );
    let falling = Some((d("50000"), day));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.001", None), falling, day)),
        Some("daily_loss_limit"),
        "-100 unrealized"
    );
    assert_eq!(
        code(g.decide(&req("b", Side::Sell, "0.001", None), falling, day)),
        None,
        "reducing still passes"
    );
    let next_day = day + Duration::hours(12);
    assert_eq!(
        code(g.decide(
            &req("c", Side::Buy, "0.001", None),
            Some((d("50000"), next_day)),
            next_day
        )),
        None
    );
}

#[test]
fn execution_throttle_latches_until_resumed() {
    let mut l = open_limits();
    l.max_fills_per_window = 2;
    let (mut g, now) = gate(l);
    let last = Some((d("60000"), now));
    for _ in 0..2 {
        assert!(
            g.on_fill(
                &btc_fill("x", Side::Buy, "0.001", "60000", "0", "USDT"),
                None,
                now
            )
            .is_empty()
        );
    }
    let effects = g.on_fill(
        &btc_fill("x", Side::Buy, "0.001", "60000", "0", "USDT"),
        None,
        now,
    );
    assert!(matches!(
        effects[0],
        Effect::StateChanged {
            state: TradingState::Halted,
            ..
        }
    ));
    let later = now + Duration::hours(1);
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.001", None), last, later)),
        Some("execution_throttle")
    );
    g.set_state(TradingState::Active, "operator".into());
    assert_eq!(
        code(g.decide(
            &req("b", Side::Buy, "0.001", None),
            Some((d("60000"), later)),
            later
        )),
        None
    );
}

#[test]
fn group_total_and_directional_limits_block_growth() {
    let mut l = open_limits();
    l.groups.insert(
        "l1".into(),
        crate::risk::limits::GroupLimit {
            symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            max_exposure_pct: d("20"),
        },
    );
    let (mut g, now) = gate(l.clone());
    let last = Some((d("60000"), now));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.33", None), last, now)),
        None,
        "19,800"
    );
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.01", None), last, now)),
        Some("group_exposure")
    );
    l.groups.clear();
    l.max_total_exposure_pct = d("30");
    let (mut g, _) = gate(l);
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.5", None), last, now)),
        None,
        "30,000"
    );
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.01", None), last, now)),
        Some("total_exposure")
    );
    g.on_fill(
        &btc_fill("a", Side::Buy, "0.5", "60000", "0", "USDT"),
        None,
        now,
    );
    g.book.release(&ClientOrderId::new("a").unwrap());
    assert_eq!(g.book.net_exposure(), d("30000"));
    // Net 30,000 > 25% already: a buy grows it (refused), a sell shrinks it (passes).
    let mut l = g.limits.clone();
    l.max_total_exposure_pct = Decimal::ZERO;
    l.max_directional_pct = d("25");
    g.limits = l;
    assert_eq!(
        code(g.decide(&req("c", Side::Buy, "0.01", None), last, now)),
        Some("directional_exposure")
    );
}

#[test]
fn duplicates_and_throttles_count_from_approval() {
    let mut l = open_limits();
    l.duplicate_window_ms = 1000;
    l.max_messages_per_second = 3;
    let (mut g, now) = gate(l);
    let last = Some((d("60000"), now));
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.001", None), last, now)),
        None
    );
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.001", None), last, now)),
        Some("duplicate_order")
    );
    let mut intended = req("c", Side::Buy, "0.001", None);
    intended.allow_duplicate = true;
    assert_eq!(code(g.decide(&intended, last, now)), None);
    g.record_message(now); // a cancel
    assert_eq!(
        code(g.decide(&req("d", Side::Buy, "0.002", None), last, now)),
        Some("message_throttle")
    );
    let later = now + Duration::seconds(1);
    assert_eq!(
        code(g.decide(
            &req("e", Side::Buy, "0.001", None),
            Some((d("60000"), later)),
            later
        )),
        None
    );
}

#[test]
fn a_paused_strategy_is_refused_until_resumed() {
    let mut l = open_limits();
    l.max_consecutive_losses = 1;
    let (mut g, now) = gate(l);
    let last = Some((d("60000"), now));
    g.on_fill(
        &btc_fill("x", Side::Buy, "1", "60000", "0", "USDT"),
        Some("s"),
        now,
    );
    let effects = g.on_fill(
        &btc_fill("y", Side::Sell, "1", "59000", "0", "USDT"),
        Some("s"),
        now,
    );
    assert_eq!(
        effects,
        vec![Effect::StrategyPaused {
            strategy: "s".into(),
            losses: 1
        }]
    );
    assert_eq!(
        code(g.decide(&req("a", Side::Buy, "0.001", None), last, now)),
        Some("strategy_paused")
    );
    assert!(g.resume_strategy("s"));
    assert_eq!(
        code(g.decide(&req("b", Side::Buy, "0.001", None), last, now)),
        None
    );
}

#[test]
fn a_bad_patch_changes_nothing() {
    let (mut g, _) = gate(open_limits());
    let before = g.limits.clone();
    let patch: LimitsPatch =
        serde_json::from_str(r#"{"max_position_pct":"5","blocked_symbols":["NOPE"]}"#).unwrap();
    let problems = g.update_limits(&patch).unwrap_err();
    assert_eq!(problems[0].field, "blocked_symbols");
    assert_eq!(g.limits, before);
    let patch: LimitsPatch = serde_json::from_str(r#"{"max_position_pct":"5"}"#).unwrap();
    assert_eq!(g.update_limits(&patch).unwrap().max_position_pct, d("5"));
}
