//! Orders and fills: what the engine asks an exchange for (`OrderRequest`), what the exchange says
//! about it (`OrderReport`, with its `Fill`s), and the order as the engine tracks it (`Order`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::{ClientOrderId, Price, Qty, SignalId, Symbol};

mod kinds;
#[cfg(test)]
mod tests;

pub use kinds::{OrderStatus, OrderType, Side, TimeInForce, positive_qty, price_for, stop_for};

/// What the engine sends to an exchange. Built by the order router, checked by the risk gate.
///
/// A market order sized by quote amount (Binance's `quoteOrderQty`) has `quote_quantity` set
/// and `quantity` zero: the venue works out the base quantity from the book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderRequest {
    pub client_order_id: ClientOrderId,
    pub symbol: Symbol,
    pub side: Side,
    pub order_type: OrderType,
    /// Base quantity; zero when the order is sized by `quote_quantity`.
    pub quantity: Qty,
    /// Limit price; `None` for types without one (market, stop_loss, take_profit).
    pub price: Option<Price>,
    pub time_in_force: TimeInForce,
    /// Trigger price of a conditional order (Binance's `stopPrice`); for a trailing stop, the
    /// price at which trailing starts. `None` on other types.
    pub stop_price: Option<Price>,
    /// Trailing stop distance in basis points (Binance's `trailingDelta`; 100 = 1%).
    pub trailing_delta: Option<u32>,
    /// Market orders only: spend (buy) or receive (sell) this much of the quote asset instead of
    /// giving a base quantity (Binance's `quoteOrderQty`).
    pub quote_quantity: Option<Decimal>,
}

impl OrderRequest {
    /// A market order for `quantity` of the base asset.
    pub fn market(id: ClientOrderId, symbol: Symbol, side: Side, quantity: Qty) -> Self {
        Self {
            client_order_id: id,
            symbol,
            side,
            order_type: OrderType::Market,
            quantity,
            price: None,
            time_in_force: TimeInForce::Gtc,
            stop_price: None,
            trailing_delta: None,
            quote_quantity: None,
        }
    }

    /// A limit order for `quantity` at `price`.
    pub fn limit(
        id: ClientOrderId,
        symbol: Symbol,
        side: Side,
        quantity: Qty,
        price: Price,
        time_in_force: TimeInForce,
    ) -> Self {
        Self {
            order_type: OrderType::Limit,
            price: Some(price),
            time_in_force,
            ..Self::market(id, symbol, side, quantity)
        }
    }

    /// Whether the venue sizes this order from `quote_quantity`.
    pub fn by_quote(&self) -> bool {
        self.quote_quantity.is_some()
    }
}

/// One execution against an order, as the venue reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The venue's trade id, unique per symbol: the key that stops a fill being applied twice.
    pub trade_id: u64,
    pub symbol: Symbol,
    pub client_order_id: ClientOrderId,
    pub side: Side,
    pub quantity: Qty,
    pub price: Price,
    pub commission: Decimal,
    pub commission_asset: Arc<str>,
    pub is_maker: bool,
    pub ts: DateTime<Utc>,
}

impl Fill {
    /// How much this fill changes holdings of `base_asset`: + for buys, - for sells, less any
    /// commission the venue took in the base asset. `None` on overflow.
    pub fn base_change(&self, base_asset: &str) -> Option<Decimal> {
        let base_fee = if self.commission_asset.as_ref() == base_asset {
            self.commission
        } else {
            Decimal::ZERO
        };
        match self.side {
            Side::Buy => self.quantity.0.checked_sub(base_fee),
            Side::Sell => self.quantity.0.checked_add(base_fee).map(|q| -q),
        }
    }
}

/// The venue's view of one order at a moment: the answer to a submit, cancel or query, and the
/// content of every order update pushed afterwards. `fills` holds executions the report carries;
/// a receiver must de-duplicate them by `trade_id`, since the same fill can arrive twice (in the
/// submit answer and in the pushed update).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderReport {
    pub client_order_id: ClientOrderId,
    pub exchange_order_id: u64,
    pub symbol: Symbol,
    pub status: OrderStatus,
    pub executed_qty: Qty,
    /// Sum of price × quantity over all fills so far (Binance's `cummulativeQuoteQty`).
    pub cumulative_quote: Decimal,
    pub fills: Vec<Fill>,
    pub ts: DateTime<Utc>,
    /// What the order asked for, when the venue says (Binance's ACK answers do not): enough
    /// to adopt an order this engine did not place (see [`Order::adopt`]).
    pub terms: Option<OrderTerms>,
}

/// An order's terms as the venue reports them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderTerms {
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    /// The original quantity.
    pub quantity: Qty,
    /// Limit price; `None` for market orders.
    pub price: Option<Price>,
}

/// An order as the engine tracks it from intent to a terminal state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Order {
    #[schema(value_type = String)]
    pub client_order_id: ClientOrderId,
    #[schema(value_type = String)]
    pub symbol: Symbol,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub status: OrderStatus,
    #[schema(value_type = String)]
    pub quantity: Qty,
    #[schema(value_type = String)]
    pub filled_quantity: Qty,
    #[schema(value_type = Option<String>)]
    pub price: Option<Price>,
    /// Trigger price of a conditional order.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<Price>,
    /// Trailing stop distance in basis points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_delta: Option<u32>,
    /// Quote amount of a market order sized by quote (then `quantity` is zero until filled).
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_quantity: Option<Decimal>,
    /// Volume-weighted price of the fills so far; `None` until the first fill.
    #[schema(value_type = Option<String>)]
    pub average_price: Option<Price>,
    #[schema(value_type = String)]
    pub cumulative_quote: Decimal,
    pub exchange_order_id: Option<u64>,
    /// The signal that made this order, if it came from one (manual orders have none).
    #[schema(value_type = Option<String>)]
    pub signal_id: Option<SignalId>,
    pub strategy: Option<String>,
    /// Why the venue or the engine ended the order, when it says.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Trade ids already applied, so a fill reported twice moves the position once.
    #[serde(skip)]
    pub applied_trade_ids: Vec<u64>,
}

impl Order {
    pub fn new(
        request: &OrderRequest,
        signal_id: Option<SignalId>,
        strategy: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            client_order_id: request.client_order_id.clone(),
            symbol: request.symbol.clone(),
            side: request.side,
            order_type: request.order_type,
            time_in_force: request.time_in_force,
            status: OrderStatus::PendingNew,
            quantity: request.quantity,
            filled_quantity: Qty::ZERO,
            price: request.price,
            stop_price: request.stop_price,
            trailing_delta: request.trailing_delta,
            quote_quantity: request.quote_quantity,
            average_price: None,
            cumulative_quote: Decimal::ZERO,
            exchange_order_id: None,
            signal_id,
            strategy,
            reason: None,
            created_at: now,
            updated_at: now,
            applied_trade_ids: Vec::new(),
        }
    }

    /// An order the venue reports but this engine does not hold (placed by the emergency stop,
    /// by hand on the venue, or by an earlier run), built from the report's terms, with no fill
    /// applied yet: fold the same report in with [`Order::apply_report`] to take its fills, once.
    /// Without terms, a report that carries fills still gives the side (the order is then
    /// recorded as a market order for what executed); otherwise `None`.
    pub fn adopt(report: &OrderReport, strategy: &str, now: DateTime<Utc>) -> Option<Self> {
        let terms = match &report.terms {
            Some(t) => t.clone(),
            None => OrderTerms {
                side: report.fills.first()?.side,
                order_type: OrderType::Market,
                time_in_force: TimeInForce::Gtc,
                quantity: report.executed_qty,
                price: None,
            },
        };
        let request = OrderRequest {
            client_order_id: report.client_order_id.clone(),
            symbol: report.symbol.clone(),
            side: terms.side,
            order_type: terms.order_type,
            quantity: terms.quantity,
            price: terms.price,
            time_in_force: terms.time_in_force,
            // The venue's terms do not carry these; an adopted conditional order shows none.
            stop_price: None,
            trailing_delta: None,
            quote_quantity: None,
        };
        let mut order = Self::new(&request, None, Some(strategy.to_string()), now);
        order.status = OrderStatus::Unknown;
        order.created_at = report.ts.min(now);
        order.updated_at = order.created_at;
        Some(order)
    }

    /// Folds a venue report into the order and returns the fills not applied before.
    ///
    /// Reports may arrive twice or out of order, so the fold is monotonic: the filled quantity
    /// never goes down, a terminal status is never left (an `UNKNOWN` order can be resolved to
    /// anything), and a fill whose trade id was seen is dropped.
    pub fn apply_report(&mut self, report: &OrderReport) -> Vec<Fill> {
        let fresh: Vec<Fill> = report
            .fills
            .iter()
            .filter(|f| !self.applied_trade_ids.contains(&f.trade_id))
            .cloned()
            .collect();
        self.applied_trade_ids
            .extend(fresh.iter().map(|f| f.trade_id));
        self.exchange_order_id
            .get_or_insert(report.exchange_order_id);

        if report.executed_qty > self.filled_quantity {
            self.filled_quantity = report.executed_qty;
            self.cumulative_quote = report.cumulative_quote;
            self.average_price = report
                .cumulative_quote
                .checked_div(report.executed_qty.0)
                .map(Price);
        }
        let keep_current = self.status.is_terminal()
            || (report.status == OrderStatus::New && self.status == OrderStatus::PartiallyFilled);
        if !keep_current {
            self.status = report.status;
        }
        self.updated_at = self.updated_at.max(report.ts);
        fresh
    }
}
