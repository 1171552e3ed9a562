//! Binance wire types → the engine's domain types. Every function here is pure; a value the
//! engine cannot represent (a malformed id, a negative trade id on a trade) is an `Err` with a
//! sentence, never a panic.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::models::{
    Account, ExecutionReport, ListStatus, MyTrade, TickerPrice, Trade, WireOrder, WireOrderList,
    WireStatus,
};
use crate::domain::{
    ClientOrderId, ContingencyType, Fill, ListOrderStatus, ListStatusType, OrderListReport,
    OrderReport, OrderStatus, OrderTerms, OrderType, Price, Qty, Side, Symbol, TimeInForce,
};
use crate::exchange::{Balance, ExchangeEvent};

/// Binance's epoch milliseconds; a value chrono cannot hold becomes now.
pub fn ms_to_utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
}

/// Binance's order status → the engine's. PENDING_CANCEL is documented as unused and still
/// means "open"; an unknown future status is UNKNOWN, which the engine resolves by query.
pub fn status(s: WireStatus) -> OrderStatus {
    match s {
        WireStatus::New | WireStatus::PendingCancel => OrderStatus::New,
        WireStatus::PendingNew => OrderStatus::PendingNew,
        WireStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
        WireStatus::Filled => OrderStatus::Filled,
        WireStatus::Canceled => OrderStatus::Canceled,
        WireStatus::Rejected => OrderStatus::Rejected,
        WireStatus::Expired | WireStatus::ExpiredInMatch => OrderStatus::Expired,
        WireStatus::Other => OrderStatus::Unknown,
    }
}

/// Binance's order type → the engine's; types the engine does not place (stop, take-profit...)
/// are `None`. LIMIT_MAKER is a limit order that may only rest.
pub fn order_type(s: &str) -> Option<OrderType> {
    match s {
        "LIMIT" | "LIMIT_MAKER" => Some(OrderType::Limit),
        "MARKET" => Some(OrderType::Market),
        _ => None,
    }
}

/// Binance's time in force; missing or unknown reads as GTC (what LIMIT_MAKER and MARKET mean).
pub fn time_in_force(s: Option<&str>) -> TimeInForce {
    match s {
        Some("IOC") => TimeInForce::Ioc,
        Some("FOK") => TimeInForce::Fok,
        _ => TimeInForce::Gtc,
    }
}

/// An order's terms from the fields a report carries, when all that is needed is there. A
/// zero price (Binance's rendering of "none") is no price.
fn terms(
    side: Option<Side>,
    order_type: Option<&str>,
    tif: Option<&str>,
    quantity: Option<rust_decimal::Decimal>,
    price: Option<rust_decimal::Decimal>,
) -> Option<OrderTerms> {
    let order_type = self::order_type(order_type?)?;
    Some(OrderTerms {
        side: side?,
        order_type,
        time_in_force: time_in_force(tif),
        quantity: Qty(quantity.filter(|q| q.is_sign_positive() && !q.is_zero())?),
        price: price.filter(|p| !p.is_zero()).map(Price),
    })
}

fn symbol(s: &str) -> Result<Symbol, String> {
    Symbol::new(s).map_err(|e| e.to_string())
}

fn client_id(s: &str) -> Result<ClientOrderId, String> {
    ClientOrderId::new(s).map_err(|e| e.to_string())
}

/// A REST order (new-order ACK/RESULT/FULL, cancel, query, open orders) → a report. `side` is
/// used when the answer does not carry one (ACK) and a fill needs it.
pub fn order_report(o: &WireOrder, side: Option<Side>) -> Result<OrderReport, String> {
    let symbol = symbol(&o.symbol)?;
    // A cancel answer's `clientOrderId` is the cancel request's; the order's is `orig...`.
    let id = client_id(
        o.orig_client_order_id
            .as_deref()
            .unwrap_or(&o.client_order_id),
    )?;
    let ts = ms_to_utc(o.transact_time.or(o.update_time).or(o.time).unwrap_or(0));
    let fills = if o.fills.is_empty() {
        Vec::new()
    } else {
        let side = o
            .side
            .or(side)
            .ok_or("an order answer with fills but no side")?;
        o.fills
            .iter()
            .map(|f| Fill {
                trade_id: f.trade_id,
                symbol: symbol.clone(),
                client_order_id: id.clone(),
                side,
                quantity: Qty(f.qty),
                price: Price(f.price),
                commission: f.commission,
                commission_asset: Arc::from(f.commission_asset.as_str()),
                is_maker: false,
                ts,
            })
            .collect()
    };
    Ok(OrderReport {
        client_order_id: id,
        exchange_order_id: o.order_id,
        symbol,
        // An ACK says only that the venue took the order.
        status: o.status.map_or(OrderStatus::New, status),
        executed_qty: Qty(o.executed_qty.unwrap_or_default()),
        cumulative_quote: o.cummulative_quote_qty.unwrap_or_default(),
        fills,
        ts,
        terms: terms(
            o.side.or(side),
            o.order_type.as_deref(),
            o.time_in_force.as_deref(),
            o.orig_qty,
            o.price,
        ),
    })
}

/// `myTrades` of one order → its fills.
pub fn trade_fills(trades: &[MyTrade], id: &ClientOrderId) -> Result<Vec<Fill>, String> {
    trades
        .iter()
        .map(|t| {
            Ok(Fill {
                trade_id: t.id,
                symbol: symbol(&t.symbol)?,
                client_order_id: id.clone(),
                side: if t.is_buyer { Side::Buy } else { Side::Sell },
                quantity: Qty(t.qty),
                price: Price(t.price),
                commission: t.commission,
                commission_asset: Arc::from(t.commission_asset.as_str()),
                is_maker: t.is_maker,
                ts: ms_to_utc(t.time),
            })
        })
        .collect()
}

/// An `executionReport` → a report, with one fill when it is a trade.
pub fn execution_report(e: &ExecutionReport) -> Result<OrderReport, String> {
    let symbol = symbol(&e.symbol)?;
    let own = e
        .orig_client_order_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .unwrap_or(&e.client_order_id);
    let id = client_id(own)?;
    let ts = ms_to_utc(e.transaction_time);
    let mut fills = Vec::new();
    if e.execution_type == "TRADE" {
        let trade_id = u64::try_from(e.trade_id)
            .map_err(|_| format!("a TRADE execution with trade id {}", e.trade_id))?;
        fills.push(Fill {
            trade_id,
            symbol: symbol.clone(),
            client_order_id: id.clone(),
            side: e.side,
            quantity: Qty(e.last_qty),
            price: Price(e.last_price),
            commission: e.commission,
            commission_asset: Arc::from(e.commission_asset.as_deref().unwrap_or("")),
            is_maker: e.is_maker,
            ts,
        });
    }
    Ok(OrderReport {
        client_order_id: id,
        exchange_order_id: e.order_id,
        symbol,
        status: status(e.status),
        executed_qty: Qty(e.cumulative_qty),
        cumulative_quote: e.cumulative_quote,
        fills,
        ts,
        terms: terms(
            Some(e.side),
            Some(&e.order_type),
            e.time_in_force.as_deref(),
            Some(e.quantity),
            Some(e.price),
        ),
    })
}

fn list_status_type(s: &str) -> Result<ListStatusType, String> {
    Ok(match s {
        "RESPONSE" => ListStatusType::Response,
        "EXEC_STARTED" => ListStatusType::ExecStarted,
        "UPDATED" => ListStatusType::Updated,
        "ALL_DONE" => ListStatusType::AllDone,
        other => return Err(format!("unknown listStatusType {other}")),
    })
}

fn list_order_status(s: &str) -> Result<ListOrderStatus, String> {
    Ok(match s {
        "EXECUTING" => ListOrderStatus::Executing,
        "ALL_DONE" => ListOrderStatus::AllDone,
        "REJECT" => ListOrderStatus::Reject,
        other => return Err(format!("unknown listOrderStatus {other}")),
    })
}

fn contingency(s: &str) -> Result<ContingencyType, String> {
    match s {
        "OCO" => Ok(ContingencyType::Oco),
        other => Err(format!("unsupported contingencyType {other}")),
    }
}

fn list_id(id: i64) -> Result<u64, String> {
    u64::try_from(id).map_err(|_| format!("an order list with id {id}"))
}

/// A REST order list (OCO placement or list cancel) → a report with each leg's report (from
/// `orderReports`; empty in an ACK answer). `side` as for `order_report`.
pub fn order_list_report(l: &WireOrderList, side: Option<Side>) -> Result<OrderListReport, String> {
    Ok(OrderListReport {
        order_list_id: list_id(l.order_list_id)?,
        list_client_order_id: client_id(&l.list_client_order_id)?,
        symbol: symbol(&l.symbol)?,
        contingency_type: contingency(&l.contingency_type)?,
        list_status_type: list_status_type(&l.list_status_type)?,
        list_order_status: list_order_status(&l.list_order_status)?,
        orders: l
            .order_reports
            .iter()
            .map(|o| order_report(o, side))
            .collect::<Result<_, _>>()?,
        ts: ms_to_utc(l.transaction_time),
    })
}

/// A `listStatus` event → a list report without leg reports: the event names the legs only,
/// and each leg's state arrives in its own `executionReport`.
pub fn list_status(l: &ListStatus) -> Result<OrderListReport, String> {
    Ok(OrderListReport {
        order_list_id: list_id(l.order_list_id)?,
        list_client_order_id: client_id(&l.list_client_order_id)?,
        symbol: symbol(&l.symbol)?,
        contingency_type: contingency(&l.contingency_type)?,
        list_status_type: list_status_type(&l.list_status_type)?,
        list_order_status: list_order_status(&l.list_order_status)?,
        orders: Vec::new(),
        ts: ms_to_utc(l.transaction_time),
    })
}

pub fn balances(account: &Account) -> Vec<Balance> {
    account
        .balances
        .iter()
        .map(|b| Balance {
            asset: b.asset.clone(),
            free: b.free,
            locked: b.locked,
        })
        .collect()
}

/// Ticker prices → (symbol, price); a symbol the engine cannot name is skipped.
pub fn prices(tickers: &[TickerPrice]) -> Vec<(Symbol, Price)> {
    tickers
        .iter()
        .filter_map(|t| Some((Symbol::new(&t.symbol).ok()?, Price(t.price))))
        .collect()
}

/// A trade on the market stream → the symbol's new last price.
pub fn trade_price(t: &Trade) -> Result<ExchangeEvent, String> {
    Ok(ExchangeEvent::Price {
        symbol: symbol(&t.symbol)?,
        price: Price(t.price),
        ts: ms_to_utc(t.trade_time),
    })
}
