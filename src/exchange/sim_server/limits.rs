//! Binance's rate limits: request weight per minute (per IP; here, per server), new orders
//! per 10 seconds and per day (per account), each in fixed windows aligned to the epoch as
//! Binance's counters reset on interval boundaries. An optional ORDERS per 1 SECOND limit
//! (off unless set; Binance's own venues publish none) lets tests exercise order pacing in a
//! second rather than ten.
//!
//! Over a limit the request gets HTTP 429 (-1003 for weight, -1015 for orders) with
//! `Retry-After` in seconds. Weight 429s start a backoff lasting until the window ends (or
//! `forced_retry_after_secs` for an injected 429); every request during the backoff is
//! refused again and counts a strike, and at `strikes_before_ban` strikes the server bans
//! everything with HTTP 418 for `ban_secs` (Binance bans from 2 minutes to 3 days). Times are
//! passed in (epoch milliseconds), so the logic is tested without a clock.

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;

const MINUTE_MS: i64 = 60_000;
const SECOND_MS: i64 = 1_000;
const TEN_SECONDS_MS: i64 = 10_000;
const DAY_MS: i64 = 86_400_000;

/// The limits in force. `exchangeInfo.rateLimits` is rendered from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// REQUEST_WEIGHT per 1 MINUTE.
    pub weight_per_minute: u32,
    /// ORDERS per 1 SECOND; 0 = no such limit (not published in `exchangeInfo`).
    #[serde(default)]
    pub orders_per_second: u32,
    /// ORDERS per 10 SECOND.
    pub orders_per_10s: u32,
    /// ORDERS per 1 DAY.
    pub orders_per_day: u32,
    /// RAW_REQUESTS per 5 MINUTE (rendered only; not enforced).
    pub raw_requests_per_5m: u32,
    /// Requests refused during a backoff before the server answers 418 and bans.
    pub strikes_before_ban: u32,
    /// How long a ban lasts.
    pub ban_secs: u64,
    /// The backoff after an injected 429.
    pub forced_retry_after_secs: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            weight_per_minute: 6000,
            orders_per_second: 0,
            orders_per_10s: 100,
            orders_per_day: 200_000,
            raw_requests_per_5m: 61_000,
            strikes_before_ban: 3,
            ban_secs: 120,
            forced_retry_after_secs: 1,
        }
    }
}

impl RateLimits {
    /// The limits an `exchangeInfo` document declares (the shapes Binance uses: weight per
    /// 1 MINUTE, orders per 10 SECOND and per 1 DAY, raw requests per 5 MINUTE); defaults for
    /// any it lacks.
    pub fn from_exchange_info(info: &Value) -> Self {
        let mut limits = Self::default();
        let entries = info["rateLimits"].as_array().cloned().unwrap_or_default();
        for e in entries {
            let limit = e["limit"].as_u64().and_then(|l| u32::try_from(l).ok());
            let Some(limit) = limit else { continue };
            let key = (
                e["rateLimitType"].as_str().unwrap_or_default(),
                e["interval"].as_str().unwrap_or_default(),
                e["intervalNum"].as_u64().unwrap_or_default(),
            );
            match key {
                ("REQUEST_WEIGHT", "MINUTE", 1) => limits.weight_per_minute = limit,
                ("ORDERS", "SECOND", 1) => limits.orders_per_second = limit,
                ("ORDERS", "SECOND", 10) => limits.orders_per_10s = limit,
                ("ORDERS", "DAY", 1) => limits.orders_per_day = limit,
                ("RAW_REQUESTS", "MINUTE", 5) => limits.raw_requests_per_5m = limit,
                _ => {}
            }
        }
        limits
    }

    /// `exchangeInfo.rateLimits` (ORDERS per 1 SECOND only when set).
    pub fn render(&self) -> Value {
        let mut rules = vec![
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_per_minute}),
        ];
        if self.orders_per_second > 0 {
            rules.push(json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1, "limit": self.orders_per_second}));
        }
        rules.extend([
            json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": self.orders_per_10s}),
            json!({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.orders_per_day}),
            json!({"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": self.raw_requests_per_5m}),
        ]);
        Value::Array(rules)
    }
}

/// A fixed window: `used` counts since `start`, a multiple of `len`.
#[derive(Debug, Clone, Copy)]
struct Window {
    len: i64,
    start: i64,
    used: u32,
}

impl Window {
    fn new(len: i64) -> Self {
        Self {
            len,
            start: 0,
            used: 0,
        }
    }

    fn roll(&mut self, now: i64) {
        let start = now - now.rem_euclid(self.len);
        if start != self.start {
            self.start = start;
            self.used = 0;
        }
    }

    fn used(&mut self, now: i64) -> u32 {
        self.roll(now);
        self.used
    }

    /// Whole seconds (at least 1) until the window resets.
    fn secs_left(&self, now: i64) -> u64 {
        let left = (self.start + self.len - now).max(0);
        u64::try_from((left + 999) / 1000).unwrap_or(1).max(1)
    }
}

/// Current usage, for the `X-MBX-USED-WEIGHT-1M` / `X-MBX-ORDER-COUNT-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    pub weight_1m: u32,
    pub orders_1s: u32,
    pub orders_10s: u32,
    pub orders_1d: u32,
}

/// The counters and the backoff/ban state.
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    weight: Window,
    orders_1s: Window,
    orders_10s: Window,
    orders_day: Window,
    /// Until when a 429 asked the client to back off (epoch ms).
    backoff_until: Option<i64>,
    /// Requests refused during the current backoff.
    strikes: u32,
    /// Until when every request gets 418 (epoch ms).
    banned_until: Option<i64>,
    /// Injected 429s still to answer.
    forced: u32,
}

fn secs_until(until: i64, now: i64) -> u64 {
    u64::try_from((until - now + 999) / 1000)
        .unwrap_or(1)
        .max(1)
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            weight: Window::new(MINUTE_MS),
            orders_1s: Window::new(SECOND_MS),
            orders_10s: Window::new(TEN_SECONDS_MS),
            orders_day: Window::new(DAY_MS),
            backoff_until: None,
            strikes: 0,
            banned_until: None,
            forced: 0,
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// New limits; counters, backoff and ban start afresh.
    pub fn set_limits(&mut self, limits: RateLimits) {
        *self = Self::new(limits);
    }

    /// The next `n` requests get 429 (and start a backoff).
    pub fn force_429(&mut self, n: u32) {
        self.forced = self.forced.saturating_add(n);
    }

    /// Bans every request with 418 for `secs` from `now`, as if a backoff had been ignored.
    pub fn force_ban(&mut self, now: i64, secs: u64) {
        let ms = i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        self.banned_until = Some(now.saturating_add(ms));
        self.backoff_until = None;
        self.strikes = 0;
    }

    /// Forgets injected 429s not yet answered.
    pub fn clear_forced(&mut self) {
        self.forced = 0;
    }

    pub fn usage(&mut self, now: i64) -> Usage {
        Usage {
            weight_1m: self.weight.used(now),
            orders_1s: self.orders_1s.used(now),
            orders_10s: self.orders_10s.used(now),
            orders_1d: self.orders_day.used(now),
        }
    }

    fn weight_error(&self) -> String {
        format!(
            "Too much request weight used; current limit is {} request weight per 1 MINUTE. \
             Please use WebSocket Streams for live updates to avoid polling the API.",
            self.limits.weight_per_minute
        )
    }

    /// Charges `weight` for one request, or refuses it (429, or 418 while banned).
    pub fn admit(&mut self, now: i64, weight: u32) -> Result<(), ApiError> {
        if let Some(until) = self.banned_until {
            if now < until {
                return Err(banned(until, now));
            }
            self.banned_until = None;
        }
        if let Some(until) = self.backoff_until {
            if now < until {
                self.strikes += 1;
                if self.strikes >= self.limits.strikes_before_ban {
                    let until = now.saturating_add(
                        i64::try_from(self.limits.ban_secs.saturating_mul(1000))
                            .unwrap_or(i64::MAX),
                    );
                    self.banned_until = Some(until);
                    self.backoff_until = None;
                    self.strikes = 0;
                    return Err(banned(until, now));
                }
                return Err(too_many(self.weight_error(), secs_until(until, now)));
            }
            self.backoff_until = None;
            self.strikes = 0;
        }
        if self.forced > 0 {
            self.forced -= 1;
            let ms = self.limits.forced_retry_after_secs.saturating_mul(1000);
            let until = now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
            self.backoff_until = Some(until);
            return Err(too_many(self.weight_error(), secs_until(until, now)));
        }
        self.weight.roll(now);
        if self.weight.used.saturating_add(weight) > self.limits.weight_per_minute {
            self.backoff_until = Some(self.weight.start + self.weight.len);
            return Err(too_many(self.weight_error(), self.weight.secs_left(now)));
        }
        self.weight.used += weight;
        Ok(())
    }

    /// Counts one new order, or refuses it with 429 -1015.
    pub fn admit_order(&mut self, now: i64) -> Result<(), ApiError> {
        self.orders_1s.roll(now);
        self.orders_10s.roll(now);
        self.orders_day.roll(now);
        // A limit of 0 per second means there is no such limit.
        let per_second = match self.limits.orders_per_second {
            0 => u32::MAX,
            n => n,
        };
        let over = [
            (&self.orders_1s, per_second, "1 SECOND"),
            (&self.orders_10s, self.limits.orders_per_10s, "10 SECOND"),
            (&self.orders_day, self.limits.orders_per_day, "1 DAY"),
        ]
        .into_iter()
        .find(|(w, limit, _)| w.used >= *limit);
        if let Some((w, limit, per)) = over {
            let msg = format!("Too many new orders; current limit is {limit} orders per {per}.");
            return Err(ApiError {
                retry_after: Some(w.secs_left(now)),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, -1015, msg)
            });
        }
        self.orders_1s.used += 1;
        self.orders_10s.used += 1;
        self.orders_day.used += 1;
        Ok(())
    }
}

fn too_many(msg: String, retry_after: u64) -> ApiError {
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, -1003, msg)
    }
}

fn banned(until: i64, now: i64) -> ApiError {
    let msg = format!(
        "Way too much request weight used; IP banned until {until}. \
         Please use WebSocket Streams for live updates to avoid bans."
    );
    ApiError {
        retry_after: Some(secs_until(until, now)),
        ..ApiError::new(StatusCode::IM_A_TEAPOT, -1003, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> Limiter {
        Limiter::new(RateLimits {
            weight_per_minute: 10,
            orders_per_10s: 2,
            orders_per_day: 3,
            strikes_before_ban: 2,
            ban_secs: 120,
            ..RateLimits::default()
        })
    }

    #[test]
    fn weight_over_the_minute_is_429_until_the_window_resets() {
        let mut l = limiter();
        let t = 120_000; // a minute boundary
        l.admit(t, 6).unwrap();
        l.admit(t + 1, 4).unwrap();
        let e = l.admit(t + 59_000, 1).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (429, -1003, Some(1))
        );
        assert_eq!(l.usage(t + 59_000).weight_1m, 10);
        // The next window is fresh and the backoff is over.
        l.admit(t + 60_000, 10).unwrap();
    }

    #[test]
    fn requests_during_a_backoff_earn_a_ban_with_418() {
        let mut l = limiter();
        l.force_429(1);
        assert_eq!(l.admit(0, 1).unwrap_err().status.as_u16(), 429);
        assert_eq!(l.admit(10, 1).unwrap_err().status.as_u16(), 429);
        let ban = l.admit(20, 1).unwrap_err();
        assert_eq!((ban.status.as_u16(), ban.code), (418, -1003));
        assert_eq!(ban.retry_after, Some(120));
        assert!(ban.msg.contains("IP banned until 120020"));
        assert_eq!(l.admit(119_000, 1).unwrap_err().status.as_u16(), 418);
        l.admit(120_020, 1).unwrap();
    }

    #[test]
    fn orders_per_10s_and_per_day() {
        let mut l = limiter();
        l.admit_order(0).unwrap();
        l.admit_order(1).unwrap();
        let e = l.admit_order(2).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (429, -1015, Some(10))
        );
        assert!(e.msg.ends_with("2 orders per 10 SECOND."));
        l.admit_order(10_000).unwrap();
        let e = l.admit_order(20_000).unwrap_err();
        assert!(e.msg.ends_with("3 orders per 1 DAY."));
        assert_eq!(
            l.usage(20_000),
            Usage {
                weight_1m: 0,
                orders_1s: 0,
                orders_10s: 0,
                orders_1d: 3
            }
        );
    }

    #[test]
    fn orders_per_second_when_set() {
        let mut l = Limiter::new(RateLimits {
            orders_per_second: 2,
            ..RateLimits::default()
        });
        let t = 5_000; // a second boundary
        l.admit_order(t).unwrap();
        l.admit_order(t + 10).unwrap();
        let e = l.admit_order(t + 999).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (429, -1015, Some(1))
        );
        assert!(e.msg.ends_with("2 orders per 1 SECOND."));
        assert_eq!(l.usage(t + 999).orders_1s, 2);
        l.admit_order(t + 1_000).unwrap();
        // Off by default: only the 10 s limit (100) applies.
        let mut l = Limiter::new(RateLimits::default());
        for i in 0..100 {
            l.admit_order(t + i).unwrap();
        }
        assert!(l.admit_order(t + 100).is_err());
    }

    #[test]
    fn a_forced_ban_answers_418_until_it_ends() {
        let mut l = limiter();
        l.force_ban(1_000, 2);
        let e = l.admit(1_500, 1).unwrap_err();
        assert_eq!((e.status.as_u16(), e.retry_after), (418, Some(2)));
        assert_eq!(l.admit(2_999, 1).unwrap_err().status.as_u16(), 418);
        l.admit(3_000, 1).unwrap();
    }

    #[test]
    fn the_per_second_limit_round_trips_through_exchange_info() {
        let limits = RateLimits {
            orders_per_second: 5,
            ..RateLimits::default()
        };
        let info = json!({ "rateLimits": limits.render() });
        assert_eq!(RateLimits::from_exchange_info(&info), limits);
        let plain = json!({ "rateLimits": RateLimits::default().render() });
        assert_eq!(plain["rateLimits"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn limits_come_from_exchange_info() {
        let info = json!({"rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50}
        ]});
        let l = RateLimits::from_exchange_info(&info);
        assert_eq!(
            (l.weight_per_minute, l.orders_per_10s, l.orders_per_day),
            (1200, 50, 200_000)
        );
    }
}
