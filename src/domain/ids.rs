//! Identifier newtypes. Each one validates on construction, so a value of the type is always
//! well-formed and can be sent to an exchange as it is.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

use super::DomainError;

/// An exchange symbol such as `BTCUSDT`: upper-case ASCII letters and digits, 1 to 20 characters.
/// Cheap to clone (shared string) because it is copied into every order, fill and event.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(Arc<str>);

impl Symbol {
    pub fn new(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= 20
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(Arc::from(raw)))
        } else {
            Err(DomainError::invalid(
                "symbol",
                format!("{raw:?} is not a symbol (1-20 upper-case letters and digits)"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Symbol {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> Self {
        s.0.to_string()
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.0)
    }
}

/// The id Binance (and the simulator) know an order by. Binance's rule is
/// `^[.A-Z:/a-z0-9_-]{1,36}$`; every constructor enforces it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(Arc<str>);

/// Prefix of ids derived from signals, so an operator can tell redline's orders apart on the venue.
const SIGNAL_ORDER_PREFIX: &str = "rl-";

impl ClientOrderId {
    pub fn new(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= 36
            && raw.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-')
            });
        if ok {
            Ok(Self(Arc::from(raw)))
        } else {
            Err(DomainError::invalid(
                "client_order_id",
                format!("{raw:?} does not match ^[.A-Z:/a-z0-9_-]{{1,36}}$"),
            ))
        }
    }

    /// The id for the order a signal makes: a pure function of the signal id, so the same signal
    /// maps to the same order id across retries and restarts (the venue rejects a second open
    /// order with the same id). `rl-` + 32 hex digits of SHA-256 = 35 characters.
    pub fn for_signal(signal: &SignalId) -> Self {
        let digest = Sha256::digest(signal.as_str().as_bytes());
        let hex = hex::encode(&digest[..16]);
        Self(Arc::from(format!("{SIGNAL_ORDER_PREFIX}{hex}")))
    }

    /// Whether this id has the form of one derived from a signal (`rl-`...).
    pub fn is_signal_derived(&self) -> bool {
        self.0.starts_with(SIGNAL_ORDER_PREFIX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<ClientOrderId> for String {
    fn from(s: ClientOrderId) -> Self {
        s.0.to_string()
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The idempotency key a strategy puts on a signal: printable ASCII without spaces, 1-128 chars.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SignalId(Arc<str>);

impl SignalId {
    pub fn new(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(Arc::from(raw)))
        } else {
            Err(DomainError::invalid(
                "id",
                "must be 1-128 printable ASCII characters without spaces",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SignalId {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<SignalId> for String {
    fn from(s: SignalId) -> Self {
        s.0.to_string()
    }
}

impl fmt::Display for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_order_ids_are_deterministic_and_fit_binance_rule() {
        let a = ClientOrderId::for_signal(&SignalId::new("sig-1").unwrap());
        let b = ClientOrderId::for_signal(&SignalId::new("sig-1").unwrap());
        let c = ClientOrderId::for_signal(&SignalId::new("sig-2").unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 35);
        assert!(ClientOrderId::new(a.as_str()).is_ok());
    }

    #[test]
    fn client_order_id_rule_is_enforced() {
        for bad in ["", "has space", "ümlaut", &"x".repeat(37), "semi;colon"] {
            assert!(ClientOrderId::new(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["a", "A.b:c/d_e-f", &"9".repeat(36)] {
            assert!(ClientOrderId::new(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn symbols_must_be_upper_case_alphanumerics() {
        assert!(Symbol::new("BTCUSDT").is_ok());
        assert!(Symbol::new("btcusdt").is_err());
        assert!(Symbol::new("BTC-USDT").is_err());
        assert!(Symbol::new("").is_err());
    }
}
