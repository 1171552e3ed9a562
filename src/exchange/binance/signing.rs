//! Binance's HMAC-SHA256 request signing, shared by the live adapter (which signs) and the
//! simulator server (which checks), and the credentials type that keeps the key and secret out
//! of logs.
//!
//! - REST: `signature = hex(HMAC-SHA256(secret, query_string + body))`, the two concatenated with
//!   no separator, `signature` itself excluded, values percent-encoded (UTF-8) before signing.
//! - WebSocket API: every parameter but `signature` (including `apiKey`), sorted by name, joined
//!   as `k=v&...` in raw UTF-8 (not percent-encoded).
//!
//! Hex is compared case-insensitively and in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// An API key and its HMAC secret. `Debug` prints neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Sent in the `X-MBX-APIKEY` header (REST) or the `apiKey` parameter (WebSocket API).
    pub api_key: String,
    /// The HMAC key; never sent, never logged.
    secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(REDACTED)")
    }
}

impl Credentials {
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret: secret.into(),
        }
    }

    /// Lower-case hex HMAC-SHA256 of `payload` under the secret.
    pub fn sign(&self, payload: &str) -> String {
        hex::encode(self.mac(payload))
    }

    /// Whether `signature` (hex, either case) is the HMAC of `payload`. Constant time.
    pub fn verify(&self, payload: &str, signature: &str) -> bool {
        let Ok(given) = hex::decode(signature.to_ascii_lowercase()) else {
            return false;
        };
        given.ct_eq(&self.mac(payload)).into()
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
        let mut mac = match HmacSha256::new_from_slice(self.secret.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// The REST payload Binance signs: the query string and the form body concatenated, no `&`.
pub fn rest_payload(query: &str, body: &str) -> String {
    let mut s = String::with_capacity(query.len() + body.len());
    s.push_str(query);
    s.push_str(body);
    s
}

/// The WebSocket API payload Binance signs: `params` (without `signature`) sorted by name,
/// `k=v` joined with `&`, values as-is.
pub fn ws_payload<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut params: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, _)| *k != "signature")
        .collect();
    params.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Percent-encodes a parameter value as `application/x-www-form-urlencoded` does (UTF-8 bytes;
/// unreserved characters kept), which is what Binance signs for REST.
pub fn encode_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&...` with values percent-encoded, in the order given.
pub fn encode_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::new();
    for (i, (k, v)) in params.into_iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(&encode_value(v));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Vectors {
        api_key: String,
        secret_key: String,
        vectors: Vec<Vector>,
    }

    #[derive(Deserialize)]
    struct Vector {
        kind: String,
        payload: String,
        expected: String,
        query_string: Option<String>,
        request_body: Option<String>,
    }

    fn vectors() -> Vectors {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/binance/fixtures/signature_vectors.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (../shared must sit beside the checkout)"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_published_vector_signs_and_verifies() {
        let v = vectors();
        let creds = Credentials::new(v.api_key, v.secret_key);
        assert_eq!(v.vectors.len(), 5);
        for vector in &v.vectors {
            assert_eq!(
                creds.sign(&vector.payload),
                vector.expected,
                "{}",
                vector.kind
            );
            assert!(creds.verify(&vector.payload, &vector.expected.to_uppercase()));
            assert!(!creds.verify(&format!("{}x", vector.payload), &vector.expected));
            if let (Some(q), Some(b)) = (&vector.query_string, &vector.request_body) {
                assert_eq!(rest_payload(q, b), vector.payload, "{}", vector.kind);
            }
        }
    }

    #[test]
    fn rest_encoding_of_a_non_ascii_symbol_matches_the_vector() {
        let v = vectors();
        let encoded = encode_params([
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]);
        assert_eq!(encoded, v.vectors[1].payload);
    }

    #[test]
    fn ws_payload_sorts_params_and_drops_the_signature() {
        let v = vectors();
        let payload = ws_payload([
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            ("apiKey", v.api_key.as_str()),
            ("signature", "ignored"),
        ]);
        assert_eq!(payload, v.vectors[2].payload);
    }

    #[test]
    fn debug_never_prints_the_key_or_secret() {
        let creds = Credentials::new("my-key", "my-secret");
        let shown = format!("{creds:?}");
        assert!(!shown.contains("my-key") && !shown.contains("my-secret"));
        assert!(shown.contains("REDACTED"));
    }
}
