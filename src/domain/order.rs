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

/// Binance's spot order types. Our API spells them in snake_case (`stop_loss_limit`); Binance's
/// upper-case names (`STOP_LOSS_LIMIT`) are accepted too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Takes liquidity now, by base `quantity` or by `quote_quantity`.
    #[serde(alias = "MARKET")]
    Market,
    /// Takes what it can up to its price; the rest follows the time in force.
    #[serde(alias = "LIMIT")]
    Limit,
    /// Post-only limit: refused if any of it would take liquidity on arrival.
    #[serde(alias = "LIMIT_MAKER")]
    LimitMaker,
    /// Becomes a market order when its stop condition (or trailing delta) triggers.
    #[serde(alias = "STOP_LOSS")]
    StopLoss,
    /// Becomes a limit order at `price` when its stop condition (or trailing delta) triggers.
    #[serde(alias = "STOP_LOSS_LIMIT")]
    StopLossLimit,
    /// Like `StopLoss` with the stop on the other side of the market (see [`OrderType::fires_above`]).
    #[serde(alias = "TAKE_PROFIT")]
    TakeProfit,
    /// Like `StopLossLimit` with the stop on the other side of the market.
    #[serde(alias = "TAKE_PROFIT_LIMIT")]
    TakeProfitLimit,
}

impl OrderType {
    /// Binance's name for the type (`STOP_LOSS_LIMIT`).
    pub fn as_binance(self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit => "LIMIT",
            OrderType::LimitMaker => "LIMIT_MAKER",
            OrderType::StopLoss => "STOP_LOSS",
            OrderType::StopLossLimit => "STOP_LOSS_LIMIT",
            OrderType::TakeProfit => "TAKE_PROFIT",
            OrderType::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
        }
    }

    /// Waits for a stop price or trailing delta before it works (Binance's "contingent" orders).
    pub fn is_conditional(self) -> bool {
        matches!(
            self,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        )
    }

    /// Carries a limit price (`price` is mandatory).
    pub fn has_limit_price(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        )
    }

    /// Takes a time in force from the caller (Binance requires `timeInForce` for these).
    pub fn takes_time_in_force(self) -> bool {
        matches!(
            self,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        )
    }

    /// What the order works as once it is live: a conditional `*_LIMIT` as a limit order, the
    /// other conditionals as market orders, the rest as themselves.
    pub fn working_type(self) -> OrderType {
        match self {
            OrderType::StopLoss | OrderType::TakeProfit => OrderType::Market,
            OrderType::StopLossLimit | OrderType::TakeProfitLimit => OrderType::Limit,
            other => other,
        }
    }

    /// For a conditional order of `side`: whether its stop condition is "last price ≥ stop"
    /// (`STOP_LOSS` buy, `TAKE_PROFIT` sell: the stop sits above the market) rather than
    /// "last price ≤ stop" (`STOP_LOSS` sell, `TAKE_PROFIT` buy: below the market). This is
    /// also the side of TRAILING_DELTA's bounds that applies (`*Above*` when true).
    pub fn fires_above(self, side: Side) -> bool {
        let stop_loss = matches!(self, OrderType::StopLoss | OrderType::StopLossLimit);
        stop_loss == (side == Side::Buy)
    }
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

/// Checks a price from outside against the order type: a type with a limit price (limit,
/// limit_maker, stop_loss_limit, take_profit_limit) needs a positive one, the others take none.
pub fn price_for(
    order_type: OrderType,
    price: Option<Decimal>,
) -> Result<Option<Price>, DomainError> {
    match (order_type.has_limit_price(), price) {
        (true, None) => Err(DomainError::invalid(
            "price",
            format!("is required for {} orders", order_type.as_binance()),
        )),
        (true, Some(p)) if p <= Decimal::ZERO => {
            Err(DomainError::invalid("price", "must be greater than zero"))
        }
        (false, Some(_)) => Err(DomainError::invalid(
            "price",
            format!("is not allowed on {} orders", order_type.as_binance()),
        )),
        (_, p) => Ok(p.map(Price)),
    }
}

/// Checks the stop parameters from outside against the order type: conditional orders need a
/// positive `stop_price`, a `trailing_delta`, or both; other types take neither.
pub fn stop_for(
    order_type: OrderType,
    stop_price: Option<Decimal>,
    trailing_delta: Option<u32>,
) -> Result<(Option<Price>, Option<u32>), DomainError> {
    if !order_type.is_conditional() {
        if stop_price.is_some() {
            return Err(DomainError::invalid(
                "stop_price",
                format!("is not allowed on {} orders", order_type.as_binance()),
            ));
        }
        if trailing_delta.is_some() {
            return Err(DomainError::invalid(
                "trailing_delta",
                format!("is not allowed on {} orders", order_type.as_binance()),
            ));
        }
        return Ok((None, None));
    }
    match (stop_price, trailing_delta) {
        (None, None) => Err(DomainError::invalid(
            "stop_price",
            format!(
                "stop_price or trailing_delta is required for {} orders",
                order_type.as_binance()
            ),
        )),
        (Some(p), _) if p <= Decimal::ZERO => Err(DomainError::invalid(
            "stop_price",
            "must be greater than zero",
        )),
        (_, Some(0)) => Err(DomainError::invalid(
            "trailing_delta",
            "must be at least 1 basis point",
        )),
        (p, t) => Ok((p.map(Price), t)),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn request() -> OrderRequest {
        OrderRequest::limit(
            ClientOrderId::new("t1").unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
            Side::Buy,
            Qty(d("2")),
            Price(d("100")),
            TimeInForce::Gtc,
        )
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
    fn order_types_read_our_names_and_binances() {
        for (ours, binance, t) in [
            ("market", "MARKET", OrderType::Market),
            ("limit_maker", "LIMIT_MAKER", OrderType::LimitMaker),
            ("stop_loss", "STOP_LOSS", OrderType::StopLoss),
            (
                "stop_loss_limit",
                "STOP_LOSS_LIMIT",
                OrderType::StopLossLimit,
            ),
            ("take_profit", "TAKE_PROFIT", OrderType::TakeProfit),
            (
                "take_profit_limit",
                "TAKE_PROFIT_LIMIT",
                OrderType::TakeProfitLimit,
            ),
        ] {
            let q = |s: &str| serde_json::from_str::<OrderType>(&format!("\"{s}\"")).unwrap();
            assert_eq!((q(ours), q(binance)), (t, t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{ours}\""));
            assert_eq!(t.as_binance(), binance);
        }
        // Stop above the market: STOP_LOSS buy and TAKE_PROFIT sell.
        assert!(OrderType::StopLoss.fires_above(Side::Buy));
        assert!(OrderType::TakeProfitLimit.fires_above(Side::Sell));
        assert!(!OrderType::StopLossLimit.fires_above(Side::Sell));
        assert!(!OrderType::TakeProfit.fires_above(Side::Buy));
    }

    #[test]
    fn stop_parameters_are_checked_against_the_type() {
        let p = Some(Decimal::ONE);
        assert_eq!(
            stop_for(OrderType::Limit, p, None).unwrap_err().field,
            "stop_price"
        );
        assert_eq!(
            stop_for(OrderType::Market, None, Some(5))
                .unwrap_err()
                .field,
            "trailing_delta"
        );
        assert_eq!(
            stop_for(OrderType::StopLoss, None, None).unwrap_err().field,
            "stop_price"
        );
        assert_eq!(
            stop_for(OrderType::StopLoss, Some(Decimal::ZERO), None)
                .unwrap_err()
                .field,
            "stop_price"
        );
        assert_eq!(
            stop_for(OrderType::TakeProfit, None, Some(250)),
            Ok((None, Some(250)))
        );
        assert!(price_for(OrderType::StopLossLimit, None).is_err());
        assert!(price_for(OrderType::StopLoss, p).is_err());
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
