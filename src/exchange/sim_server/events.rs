//! From the venue's detailed updates to what the WebSocket connections send: the `Hub`
//! (broadcast channels for user-data and market events, and the "drop every connection now"
//! signals), the forwarding task, and the rendering of `executionReport`,
//! `outboundAccountPosition`, `trade` and `bookTicker` in Binance's shapes (fixtures under
//! `user_data_stream/ws_api_wrapped/` and `market_streams/`).
//!
//! One venue update can be several Binance events: a submit that trades on arrival is `NEW`,
//! then one `TRADE` per fill (the last `FILLED`, or `EXPIRED` after them for what did not
//! fill), then `outboundAccountPosition` for the order's two assets. The conditional
//! `v` (prevented match id) is left out, as Binance leaves it out without self-trade
//! prevention.

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::{Arc, Weak};
use tokio::sync::{broadcast, mpsc, watch};

use super::ServerState;
use super::render::{
    fmt8, list_order_status, list_status_type, ms, order_type, side, time_in_force,
};
use crate::domain::{OrderListReport, OrderStatus, Qty};
use crate::exchange::sim::{OrderChange, OrderUpdate, SimUpdate};

/// Events a connection may fall behind by before it misses some.
const CHANNEL_CAPACITY: usize = 4096;

/// One market stream message: its stream name (`btcusdt@trade`) and payload.
#[derive(Debug, Clone)]
pub struct MarketEvent {
    pub stream: String,
    pub data: Value,
}

/// Fan-out to every WebSocket connection.
pub struct Hub {
    /// User-data events (the `event` of `{"subscriptionId":N,"event":{...}}`).
    pub user: broadcast::Sender<Arc<Value>>,
    pub market: broadcast::Sender<Arc<MarketEvent>>,
    /// Bumped to make every WebSocket API connection drop.
    pub drop_user: watch::Sender<u64>,
    /// Bumped to make every market stream connection drop.
    pub drop_market: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            user: broadcast::channel(CHANNEL_CAPACITY).0,
            market: broadcast::channel(CHANNEL_CAPACITY).0,
            drop_user: watch::channel(0).0,
            drop_market: watch::channel(0).0,
        }
    }
}

/// Counters the rendered events need.
#[derive(Default)]
struct Ids {
    /// executionReport `I`.
    execution: u64,
    /// trade `t` of the market `trade` stream (price updates are not account trades).
    market_trade: u64,
    /// bookTicker `u`.
    book_update: u64,
}

/// Runs until the venue drops the update stream or the server is gone: renders each update
/// and broadcasts it, applying the user-event faults (drop, duplicate, reorder) on the way.
/// Holds the state weakly, so a stopped server's state is freed at the next update.
pub async fn forward(state: Weak<ServerState>, mut updates: mpsc::UnboundedReceiver<SimUpdate>) {
    let mut ids = Ids::default();
    let mut held: Option<Value> = None;
    while let Some(update) = updates.recv().await {
        let Some(state) = state.upgrade() else {
            return;
        };
        match update {
            SimUpdate::Order(u) => {
                for event in user_events(&u, &mut ids) {
                    let (copies, hold) = state.faults().user_event_fate();
                    if hold && held.is_none() {
                        held = Some(event);
                        continue;
                    }
                    for _ in 0..copies {
                        let _ = state.hub.user.send(Arc::new(event.clone()));
                    }
                    if copies > 0
                        && let Some(h) = held.take()
                    {
                        let _ = state.hub.user.send(Arc::new(h));
                    }
                }
            }
            SimUpdate::List(report) => {
                let event = list_status(&report);
                let _ = state.hub.user.send(Arc::new(event));
            }
            SimUpdate::Price {
                symbol,
                price,
                ts,
                best_bid,
                best_ask,
            } => {
                let name = symbol.as_str().to_ascii_lowercase();
                let t = ms(ts);
                ids.market_trade += 1;
                let qty = best_ask.or(best_bid).map_or(Qty::ZERO, |(_, q)| q);
                let trade = json!({
                    "e": "trade", "E": t, "s": symbol.as_str(), "t": ids.market_trade,
                    "p": fmt8(price.0), "q": fmt8(qty.0), "T": t, "m": false, "M": true,
                });
                ids.book_update += 1;
                let level = |l: Option<(crate::domain::Price, Qty)>| {
                    l.map_or((Decimal::ZERO, Decimal::ZERO), |(p, q)| (p.0, q.0))
                };
                let ((b, bq), (a, aq)) = (level(best_bid), level(best_ask));
                let book = json!({
                    "u": ids.book_update, "s": symbol.as_str(),
                    "b": fmt8(b), "B": fmt8(bq), "a": fmt8(a), "A": fmt8(aq),
                });
                for (kind, data) in [("trade", trade), ("bookTicker", book)] {
                    let stream = format!("{name}@{kind}");
                    let _ = state
                        .hub
                        .market
                        .send(Arc::new(MarketEvent { stream, data }));
                }
            }
        }
    }
}

/// Per-event values of an executionReport.
struct Exec<'a> {
    x: &'a str,
    status: OrderStatus,
    /// (qty, price, commission, asset, trade id, maker) of a trade.
    trade: Option<(Decimal, Decimal, Decimal, &'a str, u64, bool)>,
    cum_qty: Decimal,
    cum_quote: Decimal,
}

fn execution_report(u: &OrderUpdate, e: Exec<'_>, ids: &mut Ids, now: i64) -> Value {
    let v = &u.order;
    ids.execution += 1;
    let (c, orig) = match &u.change {
        OrderChange::Canceled { cancel_id } => (
            cancel_id
                .as_ref()
                .map_or_else(|| format!("sim-cancel-{}", v.order_id), |c| c.to_string()),
            v.client_order_id.to_string(),
        ),
        _ => (v.client_order_id.to_string(), String::new()),
    };
    let (l, price, n, asset, t, maker) = match e.trade {
        Some((q, p, n, a, t, m)) => (q, p, fmt8(n), json!(a), json!(t), m),
        None => (
            Decimal::ZERO,
            Decimal::ZERO,
            "0".to_string(),
            Value::Null,
            json!(-1),
            false,
        ),
    };
    // On the book: a limit price, working (a conditional one triggered), still open.
    let working = v.price.is_some() && v.working_time.is_some() && e.status.is_open();
    let mut report = json!({
        "e": "executionReport", "E": now, "s": v.symbol.as_str(), "c": c,
        "S": side(v.side), "o": order_type(v.order_type), "f": time_in_force(v.time_in_force),
        "q": fmt8(v.orig_qty.0), "p": fmt8(v.price.map_or(Decimal::ZERO, |p| p.0)),
        "P": fmt8(v.stop_price.map_or(Decimal::ZERO, |p| p.0)), "F": fmt8(Decimal::ZERO),
        "g": v.order_list_id.map_or(-1, |g| i64::try_from(g).unwrap_or(-1)), "C": orig,
        "x": e.x, "X": e.status.as_str(), "r": "NONE", "i": v.order_id,
        "l": fmt8(l), "z": fmt8(e.cum_qty), "L": fmt8(price), "n": n, "N": asset,
        "T": ms(v.update_time), "t": t, "I": ids.execution, "w": working, "m": maker,
        "M": false, "O": ms(v.time), "Z": fmt8(e.cum_quote), "Y": fmt8(quote(l, price)),
        "Q": fmt8(v.quote_quantity.unwrap_or(Decimal::ZERO)),
        "W": v.working_time.map_or(-1, ms), "V": "NONE",
    });
    if let (Some(d), Some(map)) = (v.trailing_delta, report.as_object_mut()) {
        map.insert("d".into(), json!(d));
    }
    if u.change == OrderChange::Expired
        && let Some(map) = report.as_object_mut()
    {
        map.insert("eR".into(), json!("OCO_TRIGGER"));
    }
    report
}

/// A `listStatus` event (fixture `user_data_stream/ws_api_wrapped/listStatus.json`).
fn list_status(l: &OrderListReport) -> Value {
    let orders: Vec<Value> = l
        .orders
        .iter()
        .map(|o| json!({"s": o.symbol.as_str(), "i": o.exchange_order_id, "c": o.client_order_id.as_str()}))
        .collect();
    json!({
        "e": "listStatus", "E": ms(Utc::now()), "s": l.symbol.as_str(), "g": l.order_list_id,
        "c": "OCO", "l": list_status_type(l.list_status_type),
        "L": list_order_status(l.list_order_status), "r": "NONE",
        "C": l.list_client_order_id.as_str(), "T": ms(l.ts), "O": orders,
    })
}

fn quote(qty: Decimal, price: Decimal) -> Decimal {
    qty.checked_mul(price).unwrap_or(Decimal::ZERO)
}

/// The Binance events one venue update makes, in order.
fn user_events(u: &OrderUpdate, ids: &mut Ids) -> Vec<Value> {
    let now = ms(Utc::now());
    let v = &u.order;
    let mut out = Vec::new();
    // The venue computed every one of these sums with checked arithmetic before accepting
    // the fills, so they fit; `quote` still refuses to panic.
    let fills_qty: Decimal = u.fills.iter().map(|f| f.quantity.0).sum();
    let fills_quote: Decimal = u.fills.iter().map(|f| quote(f.quantity.0, f.price.0)).sum();
    let (mut cum_qty, mut cum_quote) = (
        v.executed_qty.0 - fills_qty,
        v.cumulative_quote - fills_quote,
    );
    match &u.change {
        OrderChange::Expired => {
            let exec = Exec {
                x: "EXPIRED",
                status: v.status,
                trade: None,
                cum_qty,
                cum_quote,
            };
            out.push(execution_report(u, exec, ids, now));
        }
        OrderChange::Canceled { .. } => {
            let exec = Exec {
                x: "CANCELED",
                status: v.status,
                trade: None,
                cum_qty,
                cum_quote,
            };
            out.push(execution_report(u, exec, ids, now));
        }
        OrderChange::Submitted | OrderChange::Traded | OrderChange::Triggered => {
            // A triggered conditional order is NEW again, now working, before its trades.
            if matches!(u.change, OrderChange::Submitted | OrderChange::Triggered) {
                let exec = Exec {
                    x: "NEW",
                    status: OrderStatus::New,
                    trade: None,
                    cum_qty,
                    cum_quote,
                };
                out.push(execution_report(u, exec, ids, now));
            }
            for f in &u.fills {
                cum_qty += f.quantity.0;
                cum_quote += quote(f.quantity.0, f.price.0);
                let status = if cum_qty >= v.orig_qty.0 {
                    OrderStatus::Filled
                } else {
                    OrderStatus::PartiallyFilled
                };
                let trade = Some((
                    f.quantity.0,
                    f.price.0,
                    f.commission,
                    f.commission_asset.as_ref(),
                    f.trade_id,
                    f.is_maker,
                ));
                let exec = Exec {
                    x: "TRADE",
                    status,
                    trade,
                    cum_qty,
                    cum_quote,
                };
                out.push(execution_report(u, exec, ids, now));
            }
            if v.status == OrderStatus::Expired {
                let exec = Exec {
                    x: "EXPIRED",
                    status: v.status,
                    trade: None,
                    cum_qty,
                    cum_quote,
                };
                out.push(execution_report(u, exec, ids, now));
            }
        }
    }
    let balances: Vec<Value> = u
        .balances
        .iter()
        .map(|b| json!({"a": b.asset, "f": fmt8(b.free), "l": fmt8(b.locked)}))
        .collect();
    out.push(json!({
        "e": "outboundAccountPosition", "E": now, "u": ms(v.update_time), "B": balances,
    }));
    out
}
