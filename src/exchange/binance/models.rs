//! Binance Spot's wire types, as the REST API, the WebSocket API and the market streams send
//! them. Money parses straight from Binance's strings into `Decimal`; unknown fields are ignored,
//! since Binance adds fields over time. Conversion to the engine's types is in `parse`.
//!
//! Events are dispatched on their `e` field by hand (`UserEvent::from_value`) rather than with a
//! serde-tagged enum, so that one unknown event type is a log line, not a parse error.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::Side;

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    pub server_time: i64,
}

/// One entry of `exchangeInfo.rateLimits`. Every field defaults, as the published skeleton
/// shows an empty object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimit {
    pub rate_limit_type: String,
    pub interval: String,
    pub interval_num: u32,
    pub limit: u32,
}

/// The part of `exchangeInfo` the adapter reads beyond the symbol rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExchangeLimits {
    pub rate_limits: Vec<RateLimit>,
}

/// `GET /api/v3/ticker/price`.
#[derive(Debug, Clone, Deserialize)]
pub struct TickerPrice {
    pub symbol: String,
    pub price: Decimal,
}

/// `GET /api/v3/account` (only what the engine uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub balances: Vec<WireBalance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireBalance {
    pub asset: String,
    pub free: Decimal,
    pub locked: Decimal,
}

/// An order's status as Binance names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WireStatus {
    New,
    PendingNew,
    PartiallyFilled,
    Filled,
    Canceled,
    PendingCancel,
    Rejected,
    Expired,
    ExpiredInMatch,
    #[serde(other)]
    Other,
}

/// An order as the REST API returns it: new-order answers (ACK, RESULT, FULL), cancel answers,
/// query and open-orders entries. Fields missing from the shorter shapes are `None`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrder {
    pub symbol: String,
    pub order_id: u64,
    #[serde(default)]
    pub order_list_id: i64,
    /// On a cancel answer, the id of the cancel request; the order's own id is then
    /// `orig_client_order_id`.
    pub client_order_id: String,
    pub orig_client_order_id: Option<String>,
    /// New order and cancel answers.
    pub transact_time: Option<i64>,
    /// Query and open orders.
    pub update_time: Option<i64>,
    pub time: Option<i64>,
    pub price: Option<Decimal>,
    pub orig_qty: Option<Decimal>,
    pub executed_qty: Option<Decimal>,
    pub cummulative_quote_qty: Option<Decimal>,
    /// Missing only from ACK answers.
    pub status: Option<WireStatus>,
    pub time_in_force: Option<String>,
    #[serde(rename = "type")]
    pub order_type: Option<String>,
    pub side: Option<Side>,
    /// Only in FULL answers.
    #[serde(default)]
    pub fills: Vec<WireFill>,
}

/// One fill of a FULL new-order answer. No maker flag: fills on submit always take.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireFill {
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub trade_id: u64,
}

/// `GET /api/v3/myTrades` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MyTrade {
    pub symbol: String,
    pub id: u64,
    pub order_id: u64,
    pub price: Decimal,
    pub qty: Decimal,
    pub quote_qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
    pub is_maker: bool,
}

/// An order list (OCO...) as placed or cancelled over REST.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrderList {
    pub order_list_id: i64,
    pub contingency_type: String,
    pub list_status_type: String,
    pub list_order_status: String,
    pub list_client_order_id: String,
    pub transaction_time: i64,
    pub symbol: String,
    pub orders: Vec<ListMember>,
    #[serde(default)]
    pub order_reports: Vec<WireOrder>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMember {
    pub symbol: String,
    pub order_id: u64,
    pub client_order_id: String,
}

/// One entry of `DELETE /api/v3/openOrders`: an order, or an order list it also cancelled.
#[derive(Debug, Clone)]
pub enum Cancelled {
    Order(WireOrder),
    List(WireOrderList),
}

impl Cancelled {
    pub fn from_value(v: Value) -> Result<Self, serde_json::Error> {
        if v.get("contingencyType").is_some() {
            serde_json::from_value(v).map(Cancelled::List)
        } else {
            serde_json::from_value(v).map(Cancelled::Order)
        }
    }
}

/// A WebSocket API answer to a request.
#[derive(Debug, Clone, Deserialize)]
pub struct WsResponse {
    pub id: Option<Value>,
    pub status: u16,
    pub result: Option<Value>,
    pub error: Option<WsError>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsError {
    pub code: i64,
    pub msg: String,
    /// On 418/429: `{"serverTime":..,"retryAfter":<epoch ms>}`.
    pub data: Option<Value>,
}

/// `executionReport`: one change of one order.
#[derive(Debug, Clone, Deserialize)]
pub struct ExecutionReport {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    /// The id of the request behind this event (the cancel's own id on a cancel).
    #[serde(rename = "c")]
    pub client_order_id: String,
    #[serde(rename = "S")]
    pub side: Side,
    #[serde(rename = "o")]
    pub order_type: String,
    #[serde(rename = "q")]
    pub quantity: Decimal,
    #[serde(rename = "p")]
    pub price: Decimal,
    #[serde(rename = "f", default)]
    pub time_in_force: Option<String>,
    #[serde(rename = "g", default)]
    pub order_list_id: i64,
    /// The order's own client id when this event is a cancel; empty otherwise.
    #[serde(rename = "C", default)]
    pub orig_client_order_id: Option<String>,
    #[serde(rename = "x")]
    pub execution_type: String,
    #[serde(rename = "X")]
    pub status: WireStatus,
    #[serde(rename = "r")]
    pub reject_reason: String,
    #[serde(rename = "i")]
    pub order_id: u64,
    #[serde(rename = "l")]
    pub last_qty: Decimal,
    #[serde(rename = "z")]
    pub cumulative_qty: Decimal,
    #[serde(rename = "L")]
    pub last_price: Decimal,
    #[serde(rename = "n")]
    pub commission: Decimal,
    #[serde(rename = "N")]
    pub commission_asset: Option<String>,
    #[serde(rename = "T")]
    pub transaction_time: i64,
    /// -1 unless `execution_type` is TRADE.
    #[serde(rename = "t")]
    pub trade_id: i64,
    #[serde(rename = "m")]
    pub is_maker: bool,
    #[serde(rename = "Z")]
    pub cumulative_quote: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountPosition {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "u")]
    pub last_update: i64,
    #[serde(rename = "B")]
    pub balances: Vec<PositionBalance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PositionBalance {
    #[serde(rename = "a")]
    pub asset: String,
    #[serde(rename = "f")]
    pub free: Decimal,
    #[serde(rename = "l")]
    pub locked: Decimal,
}

/// `balanceUpdate` (deposit, withdrawal, transfer) and `externalLockUpdate`.
#[derive(Debug, Clone, Deserialize)]
pub struct BalanceDelta {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "a")]
    pub asset: String,
    #[serde(rename = "d")]
    pub delta: Decimal,
    #[serde(rename = "T")]
    pub time: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListStatus {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "g")]
    pub order_list_id: i64,
    #[serde(rename = "c")]
    pub contingency_type: String,
    #[serde(rename = "l")]
    pub list_status_type: String,
    #[serde(rename = "L")]
    pub list_order_status: String,
    #[serde(rename = "r")]
    pub reject_reason: String,
    #[serde(rename = "C")]
    pub list_client_order_id: String,
    #[serde(rename = "T")]
    pub transaction_time: i64,
    #[serde(rename = "O")]
    pub orders: Vec<ListStatusMember>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListStatusMember {
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "i")]
    pub order_id: u64,
    #[serde(rename = "c")]
    pub client_order_id: String,
}

/// A user-data event, raw or taken out of the WebSocket API's `{"subscriptionId", "event"}`.
#[derive(Debug, Clone)]
pub enum UserEvent {
    Execution(Box<ExecutionReport>),
    AccountPosition(AccountPosition),
    BalanceUpdate(BalanceDelta),
    ExternalLock(BalanceDelta),
    ListStatus(ListStatus),
    /// The subscription ended (the key was deleted or the session logged out): resubscribe.
    StreamTerminated,
    /// The server is about to close the connection: reconnect now.
    ServerShutdown,
    /// Only on the retired listenKey streams.
    ListenKeyExpired,
    Other(String),
}

impl UserEvent {
    pub fn from_value(v: Value) -> Result<Self, serde_json::Error> {
        let kind = v.get("e").and_then(Value::as_str).unwrap_or("").to_string();
        Ok(match kind.as_str() {
            "executionReport" => UserEvent::Execution(Box::new(serde_json::from_value(v)?)),
            "outboundAccountPosition" => UserEvent::AccountPosition(serde_json::from_value(v)?),
            "balanceUpdate" => UserEvent::BalanceUpdate(serde_json::from_value(v)?),
            "externalLockUpdate" => UserEvent::ExternalLock(serde_json::from_value(v)?),
            "listStatus" => UserEvent::ListStatus(serde_json::from_value(v)?),
            "eventStreamTerminated" => UserEvent::StreamTerminated,
            "serverShutdown" => UserEvent::ServerShutdown,
            "listenKeyExpired" => UserEvent::ListenKeyExpired,
            _ => UserEvent::Other(kind),
        })
    }
}

/// A `<symbol>@trade` event.
#[derive(Debug, Clone, Deserialize)]
pub struct Trade {
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "t")]
    pub trade_id: u64,
    #[serde(rename = "p")]
    pub price: Decimal,
    #[serde(rename = "q")]
    pub quantity: Decimal,
    #[serde(rename = "T")]
    pub trade_time: i64,
    /// Whether the buyer was the maker.
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// A `<symbol>@bookTicker` event (parsed for completeness; the adapter streams trades only).
#[derive(Debug, Clone, Deserialize)]
pub struct BookTicker {
    #[serde(rename = "u")]
    pub update_id: u64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "b")]
    pub bid: Decimal,
    #[serde(rename = "B")]
    pub bid_qty: Decimal,
    #[serde(rename = "a")]
    pub ask: Decimal,
    #[serde(rename = "A")]
    pub ask_qty: Decimal,
}
