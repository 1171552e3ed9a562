//! What a Binance answer (or the lack of one) means for the caller: every failure becomes one
//! `ExchangeError` variant, chosen by what the caller should do next.
//!
//! The deciding question is whether the request could have changed anything on the venue:
//! a failure *after* a write (`POST /order`, `DELETE /order`) was sent is an unknown outcome,
//! to be resolved by a query; the same failure on a read is plain connectivity.

use serde::Deserialize;
use std::time::Duration;

use crate::exchange::ExchangeError;

/// Whether a request can change state on the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A query: a failure changes nothing and the request may be repeated.
    Read,
    /// Places or cancels: a failure after sending leaves the outcome unknown.
    Write,
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Never reached the venue: connection refused, DNS, TLS handshake, bad URL.
    NotSent,
    /// Sent (or possibly sent), then no complete answer: timeout, reset, truncated body.
    NoAnswer,
}

/// Binance's error body: `{"code":-1121,"msg":"Invalid symbol."}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    pub code: i64,
    pub msg: String,
}

impl ApiError {
    /// The body's error, if it is one of Binance's.
    pub fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }
}

/// Codes that mean the key, its signature or its permissions are wrong.
const AUTH_CODES: &[i64] = &[-1002, -1022, -2008, -2014, -2015];
/// Codes that mean a request limit was hit.
const RATE_CODES: &[i64] = &[-1003, -1015];
/// Codes Binance documents as "execution status unknown" (or that give no status at all).
const UNKNOWN_STATUS_CODES: &[i64] = &[-1000, -1001, -1006, -1007];
/// Codes that refuse the request before processing it (busy, shutting down).
const NOT_PROCESSED_CODES: &[i64] = &[-1008, -1016];
/// "Timestamp for this request is outside of the recvWindow."
pub const CODE_INVALID_TIMESTAMP: i64 = -1021;

/// Classifies an HTTP answer that is not a success.
pub fn classify_response(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    effect: Effect,
) -> ExchangeError {
    let api = ApiError::parse(body);
    if status == 418 || status == 429 {
        return ExchangeError::RateLimited { retry_after };
    }
    let unknown_or_down = |what: String| match effect {
        Effect::Write => ExchangeError::UnknownOutcome(what),
        Effect::Read => ExchangeError::Connectivity(what),
    };
    let Some(ApiError { code, msg }) = api else {
        return match status {
            500..=599 => unknown_or_down(format!("HTTP {status} without a Binance error body")),
            403 => ExchangeError::Connectivity(
                "HTTP 403 without a Binance error body: the venue's firewall (WAF) refused \
                 the request"
                    .into(),
            ),
            // Something between us and the venue answered (a proxy's 408/499, a wrong URL).
            // For an order, whether it reached the venue is not known: never "not sent".
            _ => unknown_or_down(format!(
                "HTTP {status} without a Binance error body (wrong URL or a proxy in the way?)"
            )),
        };
    };
    if AUTH_CODES.contains(&code) || status == 401 {
        return ExchangeError::Auth { code, message: msg };
    }
    if RATE_CODES.contains(&code) {
        return ExchangeError::RateLimited { retry_after };
    }
    if UNKNOWN_STATUS_CODES.contains(&code) || status >= 500 {
        return unknown_or_down(format!("HTTP {status}, {code}: {msg}"));
    }
    if NOT_PROCESSED_CODES.contains(&code) {
        return ExchangeError::Connectivity(format!("{code}: {msg}"));
    }
    ExchangeError::Rejected { code, message: msg }
}

/// Classifies a request that got no HTTP answer.
pub fn classify_transport(kind: Transport, detail: &str, effect: Effect) -> ExchangeError {
    match (kind, effect) {
        (Transport::NotSent, _) => ExchangeError::Connectivity(format!("not sent: {detail}")),
        (Transport::NoAnswer, Effect::Read) => {
            ExchangeError::Connectivity(format!("no answer: {detail}"))
        }
        (Transport::NoAnswer, Effect::Write) => {
            ExchangeError::UnknownOutcome(format!("sent, no answer: {detail}"))
        }
    }
}

/// Which side of "sent" a reqwest error falls on. Connection and request-building failures
/// happen before a byte of the request leaves; anything else may be after.
pub fn transport_kind(e: &reqwest::Error) -> Transport {
    if e.is_connect() || e.is_builder() {
        Transport::NotSent
    } else {
        Transport::NoAnswer
    }
}

/// The `Retry-After` header (whole seconds) of a 418/429.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Effect::{Read, Write};

    fn body(code: i64, msg: &str) -> String {
        format!(r#"{{"code":{code},"msg":"{msg}"}}"#)
    }

    fn rejected(code: i64, msg: &str) -> ExchangeError {
        ExchangeError::Rejected {
            code,
            message: msg.into(),
        }
    }

    #[test]
    fn every_answer_maps_to_what_the_caller_does_next() {
        let wait = Some(Duration::from_secs(7));
        let rate = ExchangeError::RateLimited { retry_after: wait };
        let cases: Vec<(u16, String, Effect, ExchangeError)> = vec![
            (
                400,
                body(-2010, "Duplicate order sent."),
                Write,
                rejected(-2010, "Duplicate order sent."),
            ),
            (
                400,
                body(-2011, "Unknown order sent."),
                Write,
                rejected(-2011, "Unknown order sent."),
            ),
            (
                400,
                body(-2013, "Order does not exist."),
                Read,
                rejected(-2013, "Order does not exist."),
            ),
            (
                400,
                body(-1013, "Filter failure: LOT_SIZE"),
                Write,
                rejected(-1013, "Filter failure: LOT_SIZE"),
            ),
            (
                400,
                body(-1121, "Invalid symbol."),
                Read,
                rejected(-1121, "Invalid symbol."),
            ),
            (
                400,
                body(-1102, "Mandatory parameter 'x' was not sent."),
                Write,
                rejected(-1102, "Mandatory parameter 'x' was not sent."),
            ),
            (
                400,
                body(-1100, "Illegal characters found in parameter."),
                Write,
                rejected(-1100, "Illegal characters found in parameter."),
            ),
            (
                400,
                body(
                    -1021,
                    "Timestamp for this request is outside of the recvWindow.",
                ),
                Write,
                rejected(
                    -1021,
                    "Timestamp for this request is outside of the recvWindow.",
                ),
            ),
            (
                401,
                body(-2015, "Invalid API-key, IP, or permissions for action."),
                Read,
                ExchangeError::Auth {
                    code: -2015,
                    message: "Invalid API-key, IP, or permissions for action.".into(),
                },
            ),
            (
                400,
                body(-2014, "API-key format invalid."),
                Write,
                ExchangeError::Auth {
                    code: -2014,
                    message: "API-key format invalid.".into(),
                },
            ),
            (
                400,
                body(-1022, "Signature for this request is not valid."),
                Write,
                ExchangeError::Auth {
                    code: -1022,
                    message: "Signature for this request is not valid.".into(),
                },
            ),
            (
                403,
                body(-2008, "Invalid Api-Key ID."),
                Read,
                ExchangeError::Auth {
                    code: -2008,
                    message: "Invalid Api-Key ID.".into(),
                },
            ),
            (
                429,
                body(-1003, "Too many requests queued."),
                Read,
                rate.clone(),
            ),
            (
                429,
                body(-1015, "Too many new orders."),
                Write,
                rate.clone(),
            ),
            (
                418,
                body(
                    -1003,
                    "Way too much request weight used; IP banned until 1.",
                ),
                Write,
                rate.clone(),
            ),
            (418, String::new(), Read, rate.clone()),
            (
                500,
                String::new(),
                Write,
                ExchangeError::UnknownOutcome("HTTP 500 without a Binance error body".into()),
            ),
            (
                503,
                String::new(),
                Read,
                ExchangeError::Connectivity("HTTP 503 without a Binance error body".into()),
            ),
            (
                400,
                body(-1007, "Timeout waiting for response from backend server."),
                Write,
                ExchangeError::UnknownOutcome(
                    "HTTP 400, -1007: Timeout waiting for response from backend server.".into(),
                ),
            ),
            (
                400,
                body(-1006, "An unexpected response was received."),
                Read,
                ExchangeError::Connectivity(
                    "HTTP 400, -1006: An unexpected response was received.".into(),
                ),
            ),
            (
                503,
                body(-1008, "Server is currently overloaded."),
                Write,
                ExchangeError::UnknownOutcome(
                    "HTTP 503, -1008: Server is currently overloaded.".into(),
                ),
            ),
            (
                400,
                body(-1008, "Server is currently overloaded."),
                Write,
                ExchangeError::Connectivity("-1008: Server is currently overloaded.".into()),
            ),
        ];
        for (status, text, effect, want) in cases {
            assert_eq!(
                classify_response(status, &text, wait, effect),
                want,
                "{status} {text}"
            );
        }
    }

    #[test]
    fn a_403_without_a_binance_body_is_the_firewall() {
        let e = classify_response(403, "<html>Forbidden</html>", None, Write);
        assert!(matches!(e, ExchangeError::Connectivity(m) if m.contains("WAF")));
    }

    #[test]
    fn a_proxy_answer_to_an_order_is_an_unknown_outcome_never_not_sent() {
        // "Not sent" would free the id for a retry: a double order if the first one landed.
        for status in [404, 408, 499] {
            let e = classify_response(status, "upstream timed out", None, Write);
            assert!(
                matches!(e, ExchangeError::UnknownOutcome(_)),
                "{status}: {e:?}"
            );
            let e = classify_response(status, "upstream timed out", None, Read);
            assert!(
                matches!(e, ExchangeError::Connectivity(_)),
                "{status}: {e:?}"
            );
        }
    }

    #[test]
    fn transport_failures_depend_on_whether_the_request_was_sent() {
        use Transport::*;
        let cases = [
            (NotSent, Write, "Connectivity"),
            (NotSent, Read, "Connectivity"),
            (NoAnswer, Read, "Connectivity"),
            (NoAnswer, Write, "UnknownOutcome"),
        ];
        for (kind, effect, want) in cases {
            let got = match classify_transport(kind, "x", effect) {
                ExchangeError::Connectivity(_) => "Connectivity",
                ExchangeError::UnknownOutcome(_) => "UnknownOutcome",
                other => panic!("{other:?}"),
            };
            assert_eq!(got, want, "{kind:?} {effect:?}");
        }
    }

    #[test]
    fn retry_after_reads_whole_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
    }

    #[test]
    fn the_published_error_payload_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/binance/fixtures/rest/error_payload_example.json"
        ))
        .unwrap();
        let e = ApiError::parse(&text).unwrap();
        assert_eq!((e.code, e.msg.as_str()), (-1121, "Invalid symbol."));
    }
}
