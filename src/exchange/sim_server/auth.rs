//! Checks on SIGNED (TRADE and USER_DATA) requests, in Binance's order and with its codes:
//! the API key (`X-MBX-APIKEY` on REST, `apiKey` on the WebSocket API: -2014 when absent,
//! -2015 when not ours, both HTTP 401), the mandatory `timestamp` and `signature` (-1102),
//! `recvWindow` at most 60000 (-1102), the HMAC signature (-1022), then the time window
//! (-1021): accepted iff `timestamp < serverTime + 1000` and
//! `serverTime - timestamp <= recvWindow` (default 5000).

use actix_web::http::StatusCode;
use rust_decimal::Decimal;
use std::str::FromStr;

use super::error::ApiError;
use super::params::Params;
use crate::exchange::binance::signing::Credentials;

const DEFAULT_RECV_WINDOW: i64 = 5000;
const MAX_RECV_WINDOW: i64 = 60_000;
/// How far ahead of the server's clock a timestamp may be.
const MAX_AHEAD_MS: i64 = 1000;
/// Timestamps at or above this are microseconds (Binance accepts both).
const MICROS_FROM: i64 = 100_000_000_000_000;

/// Where the signature's payload comes from.
pub enum Payload {
    /// REST: query string + body as sent.
    Rest,
    /// WebSocket API: every parameter but `signature`, sorted, `k=v&...`.
    WsApi,
}

fn unauthorized(code: i64, msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, msg)
}

/// Checks the key only (for endpoints that need a key but no signature, and first of all).
pub fn check_key(creds: &Credentials, key: Option<&str>) -> Result<(), ApiError> {
    match key {
        None | Some("") => Err(unauthorized(-2014, "API-key format invalid.")),
        Some(k) if k != creds.api_key => Err(unauthorized(
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )),
        Some(_) => Ok(()),
    }
}

/// Checks a signed request: key, mandatory parameters, signature, time window.
pub fn check_signed(
    creds: &Credentials,
    key: Option<&str>,
    params: &Params,
    payload: Payload,
    now_ms: i64,
) -> Result<(), ApiError> {
    check_key(creds, key)?;
    let timestamp = params
        .required("timestamp")?
        .parse::<i64>()
        .map_err(|_| ApiError::mandatory("timestamp"))?;
    let recv_window = match params.get("recvWindow") {
        None => Decimal::from(DEFAULT_RECV_WINDOW),
        Some(raw) => Decimal::from_str(raw)
            .ok()
            .filter(|w| !w.is_sign_negative() && w.scale() <= 3)
            .ok_or_else(|| ApiError::mandatory("recvWindow"))?,
    };
    if recv_window > Decimal::from(MAX_RECV_WINDOW) {
        return Err(ApiError::bad(
            -1102,
            format!(
                "'recvWindow' contains unexpected value. Cannot be greater than {MAX_RECV_WINDOW}."
            ),
        ));
    }
    let signature = params.required("signature")?;
    let signed = match payload {
        Payload::Rest => params.signed_payload(),
        Payload::WsApi => crate::exchange::binance::signing::ws_payload(params.iter()),
    };
    if !creds.verify(&signed, signature) {
        return Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    let ts = if timestamp >= MICROS_FROM {
        Decimal::from(timestamp) / Decimal::from(1000)
    } else {
        Decimal::from(timestamp)
    };
    let now = Decimal::from(now_ms);
    if ts >= now + Decimal::from(MAX_AHEAD_MS) {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if now - ts > recv_window {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::binance::signing::encode_params;

    fn signed(creds: &Credentials, query: &str) -> Params {
        let sig = creds.sign(query);
        Params::parse(&format!("{query}&signature={sig}"), "").unwrap()
    }

    #[test]
    fn keys_signatures_and_time_windows() {
        let creds = Credentials::new("k", "s");
        let now = 1_700_000_000_000;
        let p = |ts: i64, w: &str| {
            let ts = ts.to_string();
            let mut pairs = vec![("symbol", "BTCUSDT"), ("timestamp", ts.as_str())];
            if !w.is_empty() {
                pairs.push(("recvWindow", w));
            }
            signed(&creds, &encode_params(pairs))
        };
        let code = |r: Result<(), ApiError>| r.map_err(|e| e.code).err();
        let ok = |params: &Params| check_signed(&creds, Some("k"), params, Payload::Rest, now);
        assert_eq!(code(ok(&p(now - 5000, ""))), None);
        assert_eq!(code(ok(&p(now - 5001, ""))), Some(-1021));
        assert_eq!(code(ok(&p(now - 5001, "5001"))), None);
        assert_eq!(code(ok(&p(now + 999, ""))), None);
        assert_eq!(code(ok(&p(now + 1000, ""))), Some(-1021));
        assert_eq!(code(ok(&p(now * 1000, ""))), None); // microseconds
        assert_eq!(code(ok(&p(now, "60001"))), Some(-1102));
        let e = check_signed(&creds, None, &p(now, ""), Payload::Rest, now).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (401, -2014));
        let e = check_signed(&creds, Some("x"), &p(now, ""), Payload::Rest, now).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (401, -2015));
        let other = Credentials::new("k", "other");
        let forged = signed(&other, &format!("timestamp={now}"));
        assert_eq!(code(ok(&forged)), Some(-1022));
        let unsigned = Params::parse(&format!("timestamp={now}"), "").unwrap();
        assert_eq!(code(ok(&unsigned)), Some(-1102));
    }
}
