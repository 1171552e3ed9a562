//! Order lists: an OCO (one-cancels-the-other) request as Binance's `POST /api/v3/orderList/oco`
//! takes it (an *above* and a *below* leg), and the list's state as the venue reports it
//! (Binance's `listStatus`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    ClientOrderId, OrderReport, OrderRequest, OrderType, Price, Qty, Side, Symbol, TimeInForce,
};

/// The kind of order list. Only OCO is placed by redline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContingencyType {
    Oco,
}

/// Binance's `listStatusType`: what the report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListStatusType {
    /// Answering a failed action on the list (placement or cancel).
    Response,
    /// The list was placed, or something in it changed.
    ExecStarted,
    /// A leg's client order id changed.
    Updated,
    /// The list has finished: one leg worked and the other was expired, or it was canceled.
    AllDone,
}

/// Binance's `listOrderStatus`: where the list is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListOrderStatus {
    Executing,
    AllDone,
    Reject,
}

/// One leg of an OCO. Quantity, side and symbol are the list's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OcoLeg {
    pub client_order_id: ClientOrderId,
    /// LIMIT_MAKER, TAKE_PROFIT(_LIMIT) or STOP_LOSS(_LIMIT), by the leg's position and side.
    pub order_type: OrderType,
    /// Limit price (LIMIT_MAKER and the `*_LIMIT` types).
    pub price: Option<Price>,
    /// Trigger price of a conditional leg; a trailing leg may leave it out.
    pub stop_price: Option<Price>,
    /// Trailing delta in basis points for a conditional leg.
    pub trailing_delta: Option<u32>,
    /// For the `*_LIMIT` types; ignored by the others.
    pub time_in_force: TimeInForce,
}

/// An OCO order list (Binance's `POST /api/v3/orderList/oco`). For a sell, `above` is the
/// LIMIT_MAKER / TAKE_PROFIT(_LIMIT) leg above the market and `below` the STOP_LOSS(_LIMIT) leg
/// under it; a buy is the mirror image (stop above, limit or take-profit below).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OcoRequest {
    /// The list's own id (Binance's `listClientOrderId`), distinct from the legs' ids.
    pub list_client_order_id: ClientOrderId,
    pub symbol: Symbol,
    pub side: Side,
    /// Quantity of each leg.
    pub quantity: Qty,
    pub above: OcoLeg,
    pub below: OcoLeg,
}

impl OcoRequest {
    /// The order request of one leg (`self.above` or `self.below`).
    pub fn leg_request(&self, leg: &OcoLeg) -> OrderRequest {
        OrderRequest {
            client_order_id: leg.client_order_id.clone(),
            symbol: self.symbol.clone(),
            side: self.side,
            order_type: leg.order_type,
            quantity: self.quantity,
            price: leg.price,
            time_in_force: leg.time_in_force,
            stop_price: leg.stop_price,
            trailing_delta: leg.trailing_delta,
            quote_quantity: None,
        }
    }
}

/// An order list's state: the answer to placing or canceling one, and the content of every
/// list update pushed afterwards (Binance's `listStatus` event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderListReport {
    /// The venue's id for the list (Binance's `orderListId`).
    pub order_list_id: u64,
    pub list_client_order_id: ClientOrderId,
    pub symbol: Symbol,
    pub contingency_type: ContingencyType,
    pub list_status_type: ListStatusType,
    pub list_order_status: ListOrderStatus,
    /// Each leg's state at the time of the report (fills arrive in the legs' own reports).
    pub orders: Vec<OrderReport>,
    pub ts: DateTime<Utc>,
}
