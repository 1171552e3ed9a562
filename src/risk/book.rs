//! The gate's incremental book: per symbol the quantity held, what open orders reserve, and the
//! mark it is valued at; account-wide the cash, equity and exposure totals. Every change
//! adjusts the totals by the symbol's delta, so a decision reads them in O(1).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::domain::{ClientOrderId, Fill, Side, Symbol};
use crate::exchange::Balance;
use crate::exchange::filters::Instruments;

use super::limits::GroupLimit;

/// One symbol's holdings, reservations and mark, with its cached contributions to the totals.
#[derive(Debug, Clone, Serialize)]
pub struct SymbolBook {
    pub symbol: Symbol,
    #[serde(skip)]
    pub base_asset: Arc<str>,
    #[serde(skip)]
    pub quote_asset: Arc<str>,
    /// Below this a holding is dust: it cannot be traded, so it is not an open position.
    #[serde(skip)]
    pub min_lot: Decimal,
    /// Indexes of the groups this symbol belongs to.
    #[serde(skip)]
    pub groups: Vec<usize>,
    /// Base asset held (signed): the venue's balance at the last sync plus fills since.
    pub qty: Decimal,
    /// Unfilled quantity of open buy / sell orders.
    pub open_buy: Decimal,
    pub open_sell: Decimal,
    /// Quote asset open buys hold back (remaining quantity × the price reserved at).
    pub reserved_quote: Decimal,
    pub mark: Option<Decimal>,
    #[serde(skip)]
    pub mark_ts: Option<DateTime<Utc>>,
    /// `qty × mark`: this symbol's part of equity and of the directional total.
    pub value: Decimal,
    /// The larger of the two ways open orders could move the position, × mark.
    pub exposure: Decimal,
    #[serde(skip)]
    open: bool,
}

/// The worst absolute position the open orders could leave: all buys fill, or all sells fill.
pub fn exposure_qty(qty: Decimal, open_buy: Decimal, open_sell: Decimal) -> Decimal {
    qty.saturating_add(open_buy)
        .abs()
        .max(qty.saturating_sub(open_sell).abs())
}

impl SymbolBook {
    pub fn is_open(&self) -> bool {
        !self.qty.is_zero() && self.qty.abs() >= self.min_lot
    }
}

/// An order the gate approved and has not yet seen end.
#[derive(Debug, Clone)]
struct Reservation {
    symbol: usize,
    side: Side,
    remaining: Decimal,
    price: Decimal,
    filled: bool,
}

#[derive(Debug, Clone)]
pub struct Book {
    symbols: Vec<SymbolBook>,
    index: HashMap<Symbol, usize>,
    reservations: HashMap<ClientOrderId, Reservation>,
    /// The asset equity is valued in; only symbols quoted in it are valued.
    valuation_asset: Arc<str>,
    /// Balance of the valuation asset (free + locked).
    pub cash: Decimal,
    /// False until the first balance sync: no equity, so no percentage limit can be judged.
    pub account_known: bool,
    holdings_value: Decimal,
    gross_exposure: Decimal,
    reserved_quote: Decimal,
    group_exposure: Vec<Decimal>,
    open_positions: usize,
}

impl Book {
    pub fn new(instruments: &Instruments, valuation_asset: &str) -> Self {
        let symbols: Vec<SymbolBook> = instruments
            .iter()
            .map(|r| SymbolBook {
                symbol: r.symbol.clone(),
                base_asset: r.base_asset.clone(),
                quote_asset: r.quote_asset.clone(),
                min_lot: r.lot.min.max(r.market_lot.min),
                groups: Vec::new(),
                qty: Decimal::ZERO,
                open_buy: Decimal::ZERO,
                open_sell: Decimal::ZERO,
                reserved_quote: Decimal::ZERO,
                mark: None,
                mark_ts: None,
                value: Decimal::ZERO,
                exposure: Decimal::ZERO,
                open: false,
            })
            .collect();
        let index = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.symbol.clone(), i))
            .collect();
        Self {
            symbols,
            index,
            reservations: HashMap::new(),
            valuation_asset: Arc::from(valuation_asset),
            cash: Decimal::ZERO,
            account_known: false,
            holdings_value: Decimal::ZERO,
            gross_exposure: Decimal::ZERO,
            reserved_quote: Decimal::ZERO,
            group_exposure: Vec::new(),
            open_positions: 0,
        }
    }

    pub fn index_of(&self, symbol: &Symbol) -> Option<usize> {
        self.index.get(symbol).copied()
    }

    pub fn symbol(&self, i: usize) -> &SymbolBook {
        &self.symbols[i]
    }

    pub fn symbols(&self) -> &[SymbolBook] {
        &self.symbols
    }

    /// Cash plus every valued holding.
    pub fn equity(&self) -> Decimal {
        self.cash.saturating_add(self.holdings_value)
    }

    /// Net value of all holdings: positive = net long.
    pub fn net_exposure(&self) -> Decimal {
        self.holdings_value
    }

    pub fn gross_exposure(&self) -> Decimal {
        self.gross_exposure
    }

    pub fn group_exposure(&self, g: usize) -> Decimal {
        self.group_exposure.get(g).copied().unwrap_or_default()
    }

    pub fn open_positions(&self) -> usize {
        self.open_positions
    }

    /// Cash not held back by open buys.
    pub fn free_cash(&self) -> Decimal {
        self.cash.saturating_sub(self.reserved_quote)
    }

    pub fn reserved_quote(&self) -> Decimal {
        self.reserved_quote
    }

    pub fn open_orders(&self) -> usize {
        self.reservations.len()
    }

    /// Re-assigns symbols to groups (limits changed) and recomputes the group totals.
    pub fn set_groups(&mut self, groups: &BTreeMap<String, GroupLimit>) {
        for s in &mut self.symbols {
            s.groups.clear();
        }
        self.group_exposure = vec![Decimal::ZERO; groups.len()];
        for (g, group) in groups.values().enumerate() {
            for name in &group.symbols {
                if let Some(i) = Symbol::new(name).ok().and_then(|s| self.index_of(&s)) {
                    self.symbols[i].groups.push(g);
                    self.group_exposure[g] =
                        self.group_exposure[g].saturating_add(self.symbols[i].exposure);
                }
            }
        }
    }

    /// Recomputes one symbol's contributions and moves the totals by the difference.
    fn refresh(&mut self, i: usize) {
        let s = &mut self.symbols[i];
        let valued = s.quote_asset == self.valuation_asset;
        let mark = s.mark.filter(|_| valued).unwrap_or_default();
        let value = s.qty.saturating_mul(mark);
        let exposure = exposure_qty(s.qty, s.open_buy, s.open_sell).saturating_mul(mark);
        let open = s.is_open();
        self.holdings_value = self
            .holdings_value
            .saturating_sub(s.value)
            .saturating_add(value);
        self.gross_exposure = self
            .gross_exposure
            .saturating_sub(s.exposure)
            .saturating_add(exposure);
        for g in &s.groups {
            if let Some(total) = self.group_exposure.get_mut(*g) {
                *total = total.saturating_sub(s.exposure).saturating_add(exposure);
            }
        }
        match (s.open, open) {
            (false, true) => self.open_positions += 1,
            (true, false) => self.open_positions = self.open_positions.saturating_sub(1),
            _ => {}
        }
        (s.value, s.exposure, s.open) = (value, exposure, open);
    }

    pub fn set_mark(&mut self, i: usize, price: Decimal, ts: DateTime<Utc>) {
        let s = &mut self.symbols[i];
        if s.mark == Some(price) {
            s.mark_ts = Some(ts);
            return;
        }
        (s.mark, s.mark_ts) = (Some(price), Some(ts));
        self.refresh(i);
    }

    /// Replaces cash and holdings with the venue's balances (free + locked). A base asset's
    /// balance goes to the first symbol that trades it against the valuation asset.
    pub fn sync_balances(&mut self, balances: &[Balance]) {
        let total = |asset: &str| {
            balances
                .iter()
                .filter(|b| b.asset == asset)
                .fold(Decimal::ZERO, |acc, b| {
                    acc.saturating_add(b.free).saturating_add(b.locked)
                })
        };
        self.cash = total(&self.valuation_asset);
        let mut assigned: Vec<Arc<str>> = Vec::new();
        for i in 0..self.symbols.len() {
            let s = &self.symbols[i];
            let owner = s.quote_asset == self.valuation_asset && !assigned.contains(&s.base_asset);
            let qty = if owner { total(&s.base_asset) } else { s.qty };
            if owner {
                assigned.push(s.base_asset.clone());
            }
            self.symbols[i].qty = qty;
            self.refresh(i);
        }
        self.account_known = true;
    }

    /// Holds back what an approved order may use until it fills or ends.
    pub fn reserve(
        &mut self,
        id: ClientOrderId,
        i: usize,
        side: Side,
        qty: Decimal,
        price: Decimal,
    ) {
        let s = &mut self.symbols[i];
        match side {
            Side::Buy => {
                s.open_buy = s.open_buy.saturating_add(qty);
                let quote = qty.saturating_mul(price);
                s.reserved_quote = s.reserved_quote.saturating_add(quote);
                self.reserved_quote = self.reserved_quote.saturating_add(quote);
            }
            Side::Sell => s.open_sell = s.open_sell.saturating_add(qty),
        }
        self.reservations.insert(
            id,
            Reservation {
                symbol: i,
                side,
                remaining: qty,
                price,
                filled: false,
            },
        );
        self.refresh(i);
    }

    /// The side and unfilled quantity an approved order still holds back, if it does.
    pub fn reserved_by(&self, id: &ClientOrderId) -> Option<(Side, Decimal)> {
        self.reservations.get(id).map(|r| (r.side, r.remaining))
    }

    /// Takes `qty` off a reservation (filled, or the order ended with it unfilled).
    fn unreserve(&mut self, r: &Reservation, qty: Decimal) {
        let s = &mut self.symbols[r.symbol];
        match r.side {
            Side::Buy => {
                s.open_buy = (s.open_buy - qty).max(Decimal::ZERO);
                let quote = qty.saturating_mul(r.price);
                s.reserved_quote = (s.reserved_quote - quote).max(Decimal::ZERO);
                self.reserved_quote = (self.reserved_quote - quote).max(Decimal::ZERO);
            }
            Side::Sell => s.open_sell = (s.open_sell - qty).max(Decimal::ZERO),
        }
    }

    /// Applies a fill to holdings, cash and the order's reservation. Returns whether it was the
    /// order's first fill (a new trade), or `None` for a symbol this book does not hold.
    pub fn apply_fill(&mut self, fill: &Fill) -> Option<bool> {
        let i = self.index_of(&fill.symbol)?;
        let mut first = true;
        if let Some(mut r) = self.reservations.get(&fill.client_order_id).cloned() {
            first = !r.filled;
            let used = fill.quantity.0.min(r.remaining);
            self.unreserve(&r, used);
            r.remaining -= used;
            r.filled = true;
            self.reservations.insert(fill.client_order_id.clone(), r);
        }
        let s = &mut self.symbols[i];
        if let Some(change) = fill.base_change(&s.base_asset) {
            s.qty = s.qty.saturating_add(change);
        }
        if s.quote_asset == self.valuation_asset {
            let quote = fill.quantity.0.saturating_mul(fill.price.0);
            let fee = if fill.commission_asset == s.quote_asset {
                fill.commission
            } else {
                Decimal::ZERO
            };
            self.cash = match fill.side {
                Side::Buy => self.cash.saturating_sub(quote),
                Side::Sell => self.cash.saturating_add(quote),
            }
            .saturating_sub(fee);
        }
        if s.mark.is_none() {
            s.mark = Some(fill.price.0);
        }
        self.refresh(i);
        Some(first)
    }

    /// The order ended: whatever it still reserved is free again.
    pub fn release(&mut self, id: &ClientOrderId) {
        if let Some(r) = self.reservations.remove(id) {
            self.unreserve(&r, r.remaining);
            self.refresh(r.symbol);
        }
    }

    /// No approved order is still open, so the venue's balances cannot be mid-change.
    pub fn is_idle(&self) -> bool {
        self.reservations.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::state::tests::{btc_fill, d, instruments};

    fn book() -> Book {
        let mut b = Book::new(&instruments(), "USDT");
        b.sync_balances(&[Balance {
            asset: "USDT".into(),
            free: d("100000"),
            locked: Decimal::ZERO,
        }]);
        b
    }

    #[test]
    fn reservations_and_fills_move_the_totals_exactly() {
        let mut b = book();
        let btc = b.index_of(&Symbol::new("BTCUSDT").unwrap()).unwrap();
        b.set_mark(btc, d("60000"), Utc::now());
        let id = ClientOrderId::new("o1").unwrap();
        b.reserve(id.clone(), btc, Side::Buy, d("0.02"), d("60000"));
        assert_eq!(b.free_cash(), d("98800"));
        assert_eq!(b.gross_exposure(), d("1200"));
        b.apply_fill(&btc_fill("o1", Side::Buy, "0.01", "60000", "0.6", "USDT"));
        assert_eq!(b.cash, d("99399.4"));
        assert_eq!(b.reserved_quote(), d("600"));
        assert_eq!(b.gross_exposure(), d("1200"), "held 0.01 + open 0.01");
        assert_eq!(b.net_exposure(), d("600"));
        assert_eq!(b.equity(), d("99999.4"));
        b.release(&id);
        assert_eq!(b.reserved_quote(), Decimal::ZERO);
        assert_eq!(b.gross_exposure(), d("600"));
        assert_eq!(b.open_positions(), 1);
        assert!(b.is_idle());
    }

    #[test]
    fn a_new_mark_revalues_equity_and_exposure() {
        let mut b = book();
        let btc = b.index_of(&Symbol::new("BTCUSDT").unwrap()).unwrap();
        b.apply_fill(&btc_fill("o1", Side::Buy, "1", "60000", "0", "USDT"));
        assert_eq!(b.equity(), d("100000"));
        b.set_mark(btc, d("50000"), Utc::now());
        assert_eq!(b.equity(), d("90000"));
        assert_eq!(b.gross_exposure(), d("50000"));
    }
}
