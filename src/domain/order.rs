//! Orders and fills: what the engine asks an exchange for (`OrderRequest`), what the exchange says
//! about it (`OrderReport`, with its `Fill`s), and the order as the engine tracks it (`Order`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::{ClientOrderId, DomainError, Price, Qty, SignalId, Symbol};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    #[serde(alias = "BUY")]
    Buy,
    #[serde(alias = "SELL")]
    Sell,
}

impl Side {
    pub fn opposite(self) -> Self {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buys, -1 for sells: the sign a fill of this side gives to a position change.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    #[serde(alias = "MARKET")]
    Market,
    #[serde(alias = "LIMIT")]
    Limit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Good till cancelled: the unfilled rest of a limit order rests on the book.
    #[default]
    #[serde(alias = "gtc")]
    Gtc,
    /// Immediate or cancel: fill what can be filled now, expire the rest.
    #[serde(alias = "ioc")]
    Ioc,
    /// Fill or kill: fill all of it now or none of it.
    #[serde(alias = "fok")]
    Fok,
}

/// Lifecycle of an order. Names are Binance's (`PENDING_NEW` is the engine's own state between
/// sending and the venue's answer; `UNKNOWN` is an outcome the venue did not confirm, which is
/// resolved by querying, never by re-sending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingNew,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
    Unknown,
}

impl OrderStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// Still able to trade: resting, partly filled, or not yet confirmed either way.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingNew => "PENDING_NEW",
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::Unknown => "UNKNOWN",
        }
    }
}

/// Checks a quantity from outside: present values must be positive.
pub fn positive_qty(quantity: Option<Decimal>) -> Result<Option<Qty>, DomainError> {
    match quantity {
        Some(q) if q <= Decimal::ZERO => Err(DomainError::invalid(
            "quantity",
            "must be greater than zero",
        )),
        q => Ok(q.map(Qty)),
    }
}

/// Checks a price from outside against the order type: a limit order needs a positive price,
/// a market order takes none.
pub fn price_for(
    order_type: OrderType,
    price: Option<Decimal>,
) -> Result<Option<Price>, DomainError> {
    match (order_type, price) {
        (OrderType::Limit, None) => Err(DomainError::invalid(
            "price",
            "is required for limit orders",
        )),
        (OrderType::Limit, Some(p)) if p <= Decimal::ZERO => {
            Err(DomainError::invalid("price", "must be greater than zero"))
        }
        (OrderType::Market, Some(_)) => Err(DomainError::invalid(
            "price",
            "is not allowed on market orders",
        )),
        (_, p) => Ok(p.map(Price)),
    }
}

/// What the engine sends to an exchange. Built by the order router, checked by the risk gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderRequest {
    pub client_order_id: ClientOrderId,
    pub symbol: Symbol,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: Qty,
    /// Limit price; `None` for market orders.
    pub price: Option<Price>,
    pub time_in_force: TimeInForce,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn request() -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new("t1").unwrap(),
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            quantity: Qty(d("2")),
            price: Some(Price(d("100"))),
            time_in_force: TimeInForce::Gtc,
        }
    }

    fn fill(trade_id: u64, qty: &str, price: &str) -> Fill {
        Fill {
            trade_id,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            client_order_id: ClientOrderId::new("t1").unwrap(),
            side: Side::Buy,
            quantity: Qty(d(qty)),
            price: Price(d(price)),
            commission: Decimal::ZERO,
            commission_asset: Arc::from("USDT"),
            is_maker: false,
            ts: Utc::now(),
        }
    }

    fn report(status: OrderStatus, executed: &str, quote: &str, fills: Vec<Fill>) -> OrderReport {
        OrderReport {
            client_order_id: ClientOrderId::new("t1").unwrap(),
            exchange_order_id: 7,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            status,
            executed_qty: Qty(d(executed)),
            cumulative_quote: d(quote),
            fills,
            ts: Utc::now(),
            terms: None,
        }
    }

    #[test]
    fn a_fill_reported_twice_is_applied_once() {
        let mut order = Order::new(&request(), None, None, Utc::now());
        let first = report(
            OrderStatus::PartiallyFilled,
            "1",
            "100",
            vec![fill(1, "1", "100")],
        );
        assert_eq!(order.apply_report(&first).len(), 1);
        assert_eq!(order.apply_report(&first).len(), 0);
        assert_eq!(order.filled_quantity, Qty(d("1")));
        assert_eq!(order.status, OrderStatus::PartiallyFilled);
    }

    #[test]
    fn late_reports_do_not_move_an_order_backwards() {
        let mut order = Order::new(&request(), None, None, Utc::now());
        let done = report(
            OrderStatus::Filled,
            "2",
            "199",
            vec![fill(1, "1", "100"), fill(2, "1", "99")],
        );
        order.apply_report(&done);
        let stale = report(OrderStatus::New, "0", "0", vec![]);
        order.apply_report(&stale);
        assert_eq!(order.status, OrderStatus::Filled);
        assert_eq!(order.filled_quantity, Qty(d("2")));
        assert_eq!(order.average_price, Some(Price(d("99.5"))));
    }

    #[test]
    fn unknown_is_resolved_by_a_later_report() {
        let mut order = Order::new(&request(), None, None, Utc::now());
        order.status = OrderStatus::Unknown;
        order.apply_report(&report(OrderStatus::New, "0", "0", vec![]));
        assert_eq!(order.status, OrderStatus::New);
    }

    #[test]
    fn an_adopted_order_takes_its_terms_and_its_fills_once() {
        let mut report = report(OrderStatus::Filled, "1", "100", vec![fill(9, "1", "100")]);
        report.terms = Some(OrderTerms {
            side: Side::Sell,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Gtc,
            quantity: Qty(d("1")),
            price: None,
        });
        let mut order = Order::adopt(&report, "emergency", Utc::now()).unwrap();
        assert_eq!((order.side, order.quantity), (Side::Sell, Qty(d("1"))));
        assert_eq!(order.strategy.as_deref(), Some("emergency"));
        assert_eq!(order.apply_report(&report).len(), 1);
        assert_eq!(order.apply_report(&report).len(), 0);
        assert_eq!(order.status, OrderStatus::Filled);

        let bare = self::report(OrderStatus::New, "0", "0", vec![]);
        assert!(Order::adopt(&bare, "external", Utc::now()).is_none());
    }
}
