//! Tests of `SimExchange` through its public API and the `Exchange` port, with shared helpers.
//! `matching`: fills, fees, balances; `lifecycle`: validation, ids, queries, events, faults, feed;
//! `conditional`: limit maker, quote-amount market, stops and trailing stops; `oco`: order lists.

mod conditional;
mod lifecycle;
mod matching;
mod oco;

use super::*;
use crate::domain::{OrderStatus, OrderType, Side, TimeInForce};
use crate::exchange::filters::Instruments;
use crate::exchange::{
    CODE_BAD_SYMBOL, CODE_CANCEL_REJECTED, CODE_INVALID_MESSAGE, CODE_NEW_ORDER_REJECTED,
    CODE_NO_SUCH_ORDER,
};
use futures_util::FutureExt;
use std::future::Future;
use std::str::FromStr;

pub(super) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(super) fn now<T>(f: impl Future<Output = T>) -> T {
    f.now_or_never().expect("sim futures are ready")
}

pub(super) fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

pub(super) fn settings() -> SimSettings {
    let instruments =
        Instruments::from_exchange_info_json(include_str!("../../../../config/exchange_info.json"))
            .unwrap();
    let market = |s: &str, price: &str, level: &str| SimMarket {
        rules: instruments.get(&sym(s)).unwrap().clone(),
        start_price: Price(d(price)),
        level_qty: Qty(d(level)),
        level_spacing: d("0.0001"),
    };
    SimSettings {
        seed: 7,
        taker_fee_rate: d("0.001"),
        maker_fee_rate: d("0.0005"),
        volatility: d("0.0005"),
        book_levels: 5,
        retained_orders: 100_000,
        balances: BTreeMap::from([
            ("USDT".to_string(), d("1000000")),
            ("BTC".to_string(), d("1")),
        ]),
        markets: vec![
            market("BTCUSDT", "50000", "0.5"),
            market("ETHUSDT", "3000", "5"),
        ],
    }
}

pub(super) fn sim() -> SimExchange {
    SimExchange::new(settings()).unwrap()
}

pub(super) fn order(
    cid: &str,
    side: Side,
    qty: &str,
    limit: Option<(&str, TimeInForce)>,
) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new(cid).unwrap(),
        symbol: sym("BTCUSDT"),
        side,
        order_type: if limit.is_some() {
            OrderType::Limit
        } else {
            OrderType::Market
        },
        quantity: Qty(d(qty)),
        price: limit.map(|(p, _)| Price(d(p))),
        time_in_force: limit.map_or(TimeInForce::Gtc, |(_, t)| t),
        stop_price: None,
        trailing_delta: None,
        quote_quantity: None,
    }
}

/// An order of any type on BTCUSDT (GTC).
pub(super) fn typed(
    cid: &str,
    side: Side,
    kind: OrderType,
    qty: &str,
    price: Option<&str>,
    stop: Option<&str>,
    trailing_delta: Option<u32>,
) -> OrderRequest {
    OrderRequest {
        order_type: kind,
        price: price.map(|p| Price(d(p))),
        stop_price: stop.map(|p| Price(d(p))),
        trailing_delta,
        ..order(cid, side, qty, None)
    }
}

pub(super) fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

/// Sets BTCUSDT's last price.
pub(super) fn price(sim: &SimExchange, p: &str) {
    sim.set_price(&sym("BTCUSDT"), Price(d(p))).unwrap();
}

/// Every event waiting on `rx`, one line each: `order <cid> <STATUS> <fills>`,
/// `list <list cid> <LIST_STATUS_TYPE>/<LIST_ORDER_STATUS>`, `price <p>`.
pub(super) fn drain(rx: &mut mpsc::UnboundedReceiver<ExchangeEvent>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(event) = rx.try_recv() {
        out.push(match event {
            ExchangeEvent::Order(r) => format!(
                "order {} {} {}",
                r.client_order_id,
                r.status.as_str(),
                r.fills.len()
            ),
            ExchangeEvent::OrderList(l) => format!(
                "list {} {:?}/{:?}",
                l.list_client_order_id, l.list_status_type, l.list_order_status
            ),
            ExchangeEvent::Price { price, .. } => format!("price {price}"),
            ExchangeEvent::Reconnected => "reconnected".into(),
        });
    }
    out
}

pub(super) fn gtc(p: &str) -> Option<(&str, TimeInForce)> {
    Some((p, TimeInForce::Gtc))
}

/// (free, locked) of `asset`, zero if absent.
pub(super) fn bal(sim: &SimExchange, asset: &str) -> (Decimal, Decimal) {
    now(sim.balances())
        .unwrap()
        .into_iter()
        .find(|b| b.asset == asset)
        .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
}

pub(super) fn fills(r: &OrderReport) -> Vec<(Decimal, Decimal, Decimal, &str, bool)> {
    r.fills
        .iter()
        .map(|f| {
            let asset = f.commission_asset.as_ref();
            (f.quantity.0, f.price.0, f.commission, asset, f.is_maker)
        })
        .collect()
}

pub(super) fn code(e: ExchangeError) -> (i64, String) {
    match e {
        ExchangeError::Rejected { code, message } => (code, message),
        other => panic!("expected a rejection, got {other:?}"),
    }
}
