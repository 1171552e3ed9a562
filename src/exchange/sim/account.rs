//! The simulated account's balances: per asset, `free` (spendable) and `locked` (reserved by
//! open orders), as on Binance spot.
//!
//! An order reserves what it may spend when it is accepted (`reserve`: free → locked), each fill
//! pays from locked and credits what it buys (`settle`), and cancel or expiry returns the rest
//! (`release`: locked → free). Every operation checks all of its arithmetic before changing
//! anything, so a failed operation leaves the balances as they were.

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::exchange::Balance;

/// Why a balance operation failed. Nothing changed in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountError {
    /// Not enough free (for `reserve`) or locked (for `settle`/`release`) balance.
    Insufficient,
    /// A sum left `Decimal`'s range.
    Overflow,
}

/// One asset's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Holding {
    /// Available to new orders.
    free: Decimal,
    /// Reserved by open orders; only fills and releases take it out.
    locked: Decimal,
}

/// All of the account's balances, keyed by asset name (sorted, so `balances()` comes out sorted).
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Balance per asset. Keys are shared strings so crediting a new asset needs no allocation
    /// beyond the map node.
    holdings: BTreeMap<Arc<str>, Holding>,
}

impl Account {
    /// An account holding `start` as free balances. Negative amounts are refused.
    pub fn new(start: &BTreeMap<String, Decimal>) -> Result<Self, String> {
        let mut holdings = BTreeMap::new();
        for (asset, &free) in start {
            if free < Decimal::ZERO {
                return Err(format!("balance of {asset} is negative ({free})"));
            }
            let holding = Holding {
                free,
                locked: Decimal::ZERO,
            };
            holdings.insert(Arc::from(asset.as_str()), holding);
        }
        Ok(Self { holdings })
    }

    #[cfg(test)]
    pub fn free(&self, asset: &str) -> Decimal {
        self.holdings.get(asset).map_or(Decimal::ZERO, |h| h.free)
    }

    #[cfg(test)]
    pub fn locked(&self, asset: &str) -> Decimal {
        self.holdings.get(asset).map_or(Decimal::ZERO, |h| h.locked)
    }

    /// Moves `amount` of `asset` from free to locked.
    pub fn reserve(&mut self, asset: &str, amount: Decimal) -> Result<(), AccountError> {
        if amount.is_zero() {
            return Ok(());
        }
        let h = self
            .holdings
            .get_mut(asset)
            .ok_or(AccountError::Insufficient)?;
        if h.free < amount {
            return Err(AccountError::Insufficient);
        }
        let locked = h.locked.checked_add(amount).ok_or(AccountError::Overflow)?;
        h.free -= amount;
        h.locked = locked;
        Ok(())
    }

    /// Moves `amount` of `asset` from locked back to free.
    pub fn release(&mut self, asset: &str, amount: Decimal) -> Result<(), AccountError> {
        self.settle(asset, amount, amount, None)
    }

    /// One fill: takes `pay_locked` of `pay` out of locked, of which `refund` goes back to free
    /// (a limit buy filled below its limit), and credits `receive` (asset, amount) to free.
    pub fn settle(
        &mut self,
        pay: &str,
        pay_locked: Decimal,
        refund: Decimal,
        receive: Option<(&Arc<str>, Decimal)>,
    ) -> Result<(), AccountError> {
        let current = self.holdings.get(pay).copied().unwrap_or_default();
        if current.locked < pay_locked || refund > pay_locked || refund < Decimal::ZERO {
            return Err(AccountError::Insufficient);
        }
        let paid = Holding {
            free: current
                .free
                .checked_add(refund)
                .ok_or(AccountError::Overflow)?,
            locked: current.locked - pay_locked,
        };
        let credited = match receive {
            Some((asset, amount)) if asset.as_ref() != pay => {
                let h = self
                    .holdings
                    .get(asset.as_ref())
                    .copied()
                    .unwrap_or_default();
                let free = h.free.checked_add(amount).ok_or(AccountError::Overflow)?;
                Some((asset, Holding { free, ..h }))
            }
            // Paying and receiving the same asset is refused when markets are configured.
            _ => None,
        };
        // An asset with no entry has nothing locked, so there is nothing to pay from it.
        if let Some(h) = self.holdings.get_mut(pay) {
            *h = paid;
        }
        if let Some((asset, h)) = credited {
            match self.holdings.get_mut(asset.as_ref()) {
                Some(slot) => *slot = h,
                None => {
                    self.holdings.insert(Arc::clone(asset), h);
                }
            }
        }
        Ok(())
    }

    /// The balances of `assets` (zero for an asset never held), in the order given.
    pub fn balances_of(&self, assets: &[&Arc<str>]) -> Vec<Balance> {
        assets
            .iter()
            .map(|asset| {
                let h = self
                    .holdings
                    .get(asset.as_ref())
                    .copied()
                    .unwrap_or_default();
                Balance {
                    asset: asset.to_string(),
                    free: h.free,
                    locked: h.locked,
                }
            })
            .collect()
    }

    /// Every balance that is not all zero, sorted by asset.
    pub fn balances(&self) -> Vec<Balance> {
        self.holdings
            .iter()
            .filter(|(_, h)| !(h.free.is_zero() && h.locked.is_zero()))
            .map(|(asset, h)| Balance {
                asset: asset.to_string(),
                free: h.free,
                locked: h.locked,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn account() -> Account {
        let mut start = BTreeMap::new();
        start.insert("USDT".to_string(), d("1000"));
        start.insert("ETH".to_string(), d("0"));
        Account::new(&start).unwrap()
    }

    #[test]
    fn reserve_settle_release_move_exact_amounts() {
        let mut a = account();
        let eth: Arc<str> = Arc::from("ETH");
        // Limit buy 0.3 ETH at 1000 locks 300 USDT.
        a.reserve("USDT", d("300")).unwrap();
        assert_eq!((a.free("USDT"), a.locked("USDT")), (d("700"), d("300")));
        // 0.1 fills at 990: pays 100 locked, 1 back to free, receives 0.1 − 0.0001 fee.
        a.settle("USDT", d("100"), d("1"), Some((&eth, d("0.0999"))))
            .unwrap();
        assert_eq!((a.free("USDT"), a.locked("USDT")), (d("701"), d("200")));
        assert_eq!(a.free("ETH"), d("0.0999"));
        // Cancel releases the rest.
        a.release("USDT", d("200")).unwrap();
        assert_eq!((a.free("USDT"), a.locked("USDT")), (d("901"), d("0")));
    }

    #[test]
    fn failures_change_nothing() {
        let mut a = account();
        let before = a.balances();
        assert_eq!(
            a.reserve("USDT", d("1000.01")),
            Err(AccountError::Insufficient)
        );
        assert_eq!(a.reserve("BTC", d("1")), Err(AccountError::Insufficient));
        assert_eq!(a.release("USDT", d("1")), Err(AccountError::Insufficient));
        let eth: Arc<str> = Arc::from("ETH");
        a.reserve("USDT", d("10")).unwrap();
        let max = Some((&eth, Decimal::MAX));
        a.settle("USDT", d("1"), d("0"), max).unwrap();
        let again = a.settle("USDT", d("1"), d("0"), Some((&eth, d("1"))));
        assert_eq!(again, Err(AccountError::Overflow));
        assert_eq!(a.locked("USDT"), d("9"));
        assert_eq!(before.len(), 1);
    }

    #[test]
    fn balances_are_sorted_and_omit_all_zero_assets() {
        let mut a = account();
        let btc: Arc<str> = Arc::from("BTC");
        a.reserve("USDT", d("1")).unwrap();
        a.settle("USDT", d("1"), d("0"), Some((&btc, d("0.5"))))
            .unwrap();
        let assets: Vec<_> = a.balances().into_iter().map(|b| b.asset).collect();
        assert_eq!(assets, vec!["BTC", "USDT"]); // ETH (all zero) omitted
        assert!(Account::new(&BTreeMap::from([("X".into(), d("-1"))])).is_err());
    }
}
