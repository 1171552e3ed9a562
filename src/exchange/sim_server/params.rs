//! Request parameters as Binance reads them: the query string and an
//! `application/x-www-form-urlencoded` body merged, the query string winning when both carry a
//! name; a name repeated within one of them is refused (-1101). The raw strings are kept,
//! because the signature covers exactly the bytes sent.

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::error::ApiError;
use crate::domain::Symbol;

/// Binance's legal range for decimal parameters, quoted in -1100 messages.
const DECIMAL_RANGE: &str = "^([0-9]{1,20})(\\.[0-9]{1,20})?$";

/// The merged parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// The query string as sent (percent-encoded).
    query: String,
    /// The body as sent.
    body: String,
    /// Decoded name → value, query string winning.
    map: BTreeMap<String, String>,
}

fn decode(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(raw)
        .map(|q| q.into_inner())
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))
}

fn into_map(pairs: Vec<(String, String)>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        if map.insert(k, v).is_some() {
            return Err(ApiError::bad(
                -1101,
                "Duplicate values for a parameter detected.",
            ));
        }
    }
    Ok(map)
}

/// `raw` without its `signature=` component(s).
fn without_signature(raw: &str) -> String {
    raw.split('&')
        .filter(|kv| !kv.starts_with("signature="))
        .collect::<Vec<_>>()
        .join("&")
}

impl Params {
    /// Parses and merges `query` and `body` (the body is read as a form whatever its
    /// content type, as Binance does).
    pub fn parse(query: &str, body: &str) -> Result<Self, ApiError> {
        let from_query = into_map(decode(query)?)?;
        let mut map = into_map(decode(body)?)?;
        map.extend(from_query);
        Ok(Self {
            query: query.to_string(),
            body: body.to_string(),
            map,
        })
    }

    /// Parameters given directly (WebSocket API requests).
    pub fn from_map(map: BTreeMap<String, String>) -> Self {
        Self {
            map,
            ..Self::default()
        }
    }

    /// A value, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::mandatory(name))
    }

    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        self.get(name)
            .map(|v| {
                let ok = v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                Decimal::from_str(v)
                    .ok()
                    .filter(|_| ok)
                    .ok_or_else(|| ApiError::illegal(name, DECIMAL_RANGE))
            })
            .transpose()
    }

    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::illegal(name, "^[0-9]{1,20}$"))
            })
            .transpose()
    }

    pub fn symbol(&self) -> Result<Symbol, ApiError> {
        let raw = self.required("symbol")?;
        Symbol::new(raw).map_err(|_| ApiError::illegal("symbol", "^[A-Z0-9-_.]{1,20}$"))
    }

    pub fn optional_symbol(&self) -> Result<Option<Symbol>, ApiError> {
        self.get("symbol").map(|_| self.symbol()).transpose()
    }

    /// What a REST signature covers: the query string and the body as sent, concatenated,
    /// each without its `signature` parameter.
    pub fn signed_payload(&self) -> String {
        crate::exchange::binance::signing::rest_payload(
            &without_signature(&self.query),
            &without_signature(&self.body),
        )
    }

    /// Every parameter, decoded (the WebSocket API signs these sorted).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_wins_and_the_payload_keeps_the_raw_order() {
        let p = Params::parse("symbol=BTCUSDT&price=1", "price=2&quantity=3&signature=ab").unwrap();
        assert_eq!(p.get("price"), Some("1"));
        assert_eq!(p.get("quantity"), Some("3"));
        assert_eq!(
            p.signed_payload(),
            "symbol=BTCUSDT&price=1price=2&quantity=3"
        );
    }

    #[test]
    fn repeats_and_bad_values_are_refused() {
        assert_eq!(Params::parse("a=1&a=2", "").unwrap_err().code, -1101);
        let p = Params::parse("quantity=1e3&n=-1&s=btcusdt", "").unwrap();
        assert_eq!(p.decimal("quantity").unwrap_err().code, -1100);
        assert_eq!(p.u64("n").unwrap_err().code, -1100);
        assert_eq!(p.decimal("missing").unwrap(), None);
        assert_eq!(
            Params::parse("symbol=", "")
                .unwrap()
                .symbol()
                .unwrap_err()
                .code,
            -1102
        );
        let encoded = Params::parse("symbol=%EF%BC%91", "").unwrap();
        assert_eq!(encoded.get("symbol"), Some("１"));
    }
}
