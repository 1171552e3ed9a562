//! Money units. `Price` and `Qty` wrap `rust_decimal::Decimal` so a price can never be passed
//! where a quantity is expected. Both serialize as JSON strings and parse from strings or exact
//! JSON numbers (serde_json's `arbitrary_precision`), never through `f64`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! decimal_unit {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Decimal);

        impl $name {
            pub const ZERO: Self = Self(Decimal::ZERO);

            pub fn new(value: Decimal) -> Self {
                Self(value)
            }

            pub fn get(self) -> Decimal {
                self.0
            }

            pub fn is_positive(self) -> bool {
                self.0 > Decimal::ZERO
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.normalize(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = rust_decimal::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<Decimal>().map(Self)
            }
        }
    };
}

decimal_unit!(
    /// A price in the quote asset per unit of the base asset.
    Price
);
decimal_unit!(
    /// A quantity of the base asset.
    Qty
);

impl Qty {
    /// Quote-asset value of this quantity at `price`, or `None` on overflow.
    pub fn notional(self, price: Price) -> Option<Decimal> {
        self.0.checked_mul(price.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn parses_json_numbers_and_strings_exactly() {
        let from_number: Qty = serde_json::from_str("0.1").unwrap();
        let from_string: Qty = serde_json::from_str("\"0.1\"").unwrap();
        assert_eq!(from_number, Qty(Decimal::from_str("0.1").unwrap()));
        assert_eq!(from_number, from_string);
        // 0.1 + 0.2 is exact, which it would not be through f64.
        let sum = from_number.0 + serde_json::from_str::<Qty>("0.2").unwrap().0;
        assert_eq!(sum.to_string(), "0.3");
        let long: Price = serde_json::from_str("12345.678901234567").unwrap();
        assert_eq!(long.0.to_string(), "12345.678901234567");
    }

    #[test]
    fn serializes_as_string() {
        let p = Price(Decimal::from_str("101.50").unwrap());
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"101.50\"");
    }
}
