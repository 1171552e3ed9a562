//! Request pacing that keeps the engine under Binance's limits, so the engine never itself
//! causes a 429 or a 418 ban.
//!
//! - One `governor` limiter per limit in `exchangeInfo.rateLimits` (REQUEST_WEIGHT, ORDERS per
//!   interval, RAW_REQUESTS), each charged before a request is sent: weight by the endpoint's
//!   documented weight, ORDERS by one per new order, RAW_REQUESTS by one. A limiter lets
//!   through at most `SAFETY` of the venue's limit in any window of its interval: a burst of
//!   10 % of the limit plus a steady refill of 80 % per interval.
//! - The venue's own counters (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, `-1D`) correct
//!   ours: if the venue has counted more than the cap for the current window (another process
//!   on the same IP or account), requests wait for the window to end (windows of a minute or
//!   less) or fail fast with `RateLimited` (longer windows).
//! - A 429 or 418 bans every request until its `Retry-After` has passed; meanwhile requests
//!   fail fast with `RateLimited { retry_after }` so the caller and its breaker know.

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::models::RateLimit;
use crate::exchange::ExchangeError;

/// Share of each venue limit the engine allows itself.
pub const SAFETY_PERCENT: u64 = 90;
/// Ban length when a 429 carries no `Retry-After`.
const DEFAULT_429_BAN: Duration = Duration::from_secs(60);
/// Ban length when a 418 carries no `Retry-After` (Binance's shortest IP ban).
const DEFAULT_418_BAN: Duration = Duration::from_secs(120);

/// What one request costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// The endpoint's documented request weight.
    pub weight: u32,
    /// How many orders it places (counted against ORDERS): 1 for a new order, 2 for an OCO.
    pub orders: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Weight,
    Orders,
    Raw,
}

/// One venue limit: our limiter for it and the venue's last word on it.
struct Rule {
    kind: Kind,
    limit: u32,
    interval: Duration,
    /// Lower-case response header carrying the venue's count, e.g. `x-mbx-used-weight-1m`.
    header: Option<String>,
    limiter: DefaultDirectRateLimiter,
    burst: NonZeroU32,
}

impl Rule {
    fn amount(&self, charge: Charge) -> u32 {
        match self.kind {
            Kind::Weight => charge.weight,
            Kind::Orders => charge.orders,
            Kind::Raw => 1,
        }
    }

    /// The most the venue may have counted in a window before we hold back.
    fn cap(&self) -> u64 {
        u64::from(self.limit) * SAFETY_PERCENT / 100
    }
}

/// The venue's count for one rule in its current window.
#[derive(Debug, Clone, Copy)]
struct VenueCount {
    used: u64,
    window_end: Instant,
}

#[derive(Debug, Default)]
struct State {
    /// Per rule (same order as `rules`), from response headers.
    counts: Vec<Option<VenueCount>>,
    banned_until: Option<Instant>,
    banned_until_utc: Option<DateTime<Utc>>,
}

/// What the pacing says about sending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Go,
    /// Hold the request this long, then ask again.
    Wait(Duration),
    /// Refuse it: nothing may be sent for this long.
    Refuse(Duration),
}

/// Counters for metrics and `/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitsSnapshot {
    /// Request weight the venue reported used in the current minute, if it has said.
    pub used_weight: Option<u64>,
    /// The venue's REQUEST_WEIGHT limit per minute, if it published one.
    pub weight_limit: Option<u32>,
    /// Every counter the venue reported: (header, used, limit).
    pub counters: Vec<(String, u64, u32)>,
    /// Until when a 429/418 stops every request.
    pub banned_until: Option<DateTime<Utc>>,
}

/// The pacing for one adapter (all its requests share one IP and one account).
pub struct Limits {
    rules: Vec<Rule>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

fn interval_of(unit: &str, n: u32) -> Option<(Duration, char)> {
    let (secs, letter) = match unit {
        "SECOND" => (1, 's'),
        "MINUTE" => (60, 'm'),
        "HOUR" => (3600, 'h'),
        "DAY" => (86_400, 'd'),
        _ => return None,
    };
    (n > 0).then(|| (Duration::from_secs(secs * u64::from(n)), letter))
}

impl Limits {
    /// Limiters for `rules` (Binance's `rateLimits`); unknown kinds (CONNECTIONS) are skipped.
    pub fn from_rules(rules: &[RateLimit]) -> Self {
        let mut out = Vec::new();
        for r in rules {
            let kind = match r.rate_limit_type.as_str() {
                "REQUEST_WEIGHT" => Kind::Weight,
                "ORDERS" => Kind::Orders,
                "RAW_REQUESTS" => Kind::Raw,
                _ => continue,
            };
            let Some((interval, letter)) = interval_of(&r.interval, r.interval_num) else {
                continue;
            };
            if r.limit == 0 {
                continue;
            }
            let burst = NonZeroU32::new((r.limit / 10).max(1)).unwrap_or(NonZeroU32::MIN);
            let per_interval = (u64::from(r.limit) * 8 / 10).max(1);
            let period = interval / u32::try_from(per_interval).unwrap_or(u32::MAX);
            let Some(quota) = Quota::with_period(period.max(Duration::from_nanos(1))) else {
                continue;
            };
            let header = match kind {
                Kind::Weight => Some(format!("x-mbx-used-weight-{}{letter}", r.interval_num)),
                Kind::Orders => Some(format!("x-mbx-order-count-{}{letter}", r.interval_num)),
                Kind::Raw => None,
            };
            out.push(Rule {
                kind,
                limit: r.limit,
                interval,
                header,
                limiter: RateLimiter::direct(quota.allow_burst(burst)),
                burst,
            });
        }
        let state = State {
            counts: vec![None; out.len()],
            ..State::default()
        };
        Self {
            rules: out,
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a request costing `charge` may go at `now`, by the ban and the venue's counts.
    pub fn decide(&self, charge: Charge, now: Instant) -> Decision {
        let state = self.lock();
        if let Some(until) = state.banned_until.filter(|u| *u > now) {
            return Decision::Refuse(until - now);
        }
        let mut wait = Duration::ZERO;
        for (rule, count) in self.rules.iter().zip(&state.counts) {
            let amount = u64::from(rule.amount(charge));
            let Some(c) = count.filter(|c| c.window_end > now && amount > 0) else {
                continue;
            };
            if c.used + amount > rule.cap() {
                let left = c.window_end - now;
                if rule.interval > Duration::from_secs(60) {
                    return Decision::Refuse(left);
                }
                wait = wait.max(left);
            }
        }
        if wait.is_zero() {
            Decision::Go
        } else {
            Decision::Wait(wait)
        }
    }

    /// Waits until a request costing `charge` may be sent, or refuses it with `RateLimited`.
    pub async fn acquire(&self, charge: Charge) -> Result<(), ExchangeError> {
        loop {
            match self.decide(charge, Instant::now()) {
                Decision::Go => break,
                Decision::Wait(d) => {
                    tracing::warn!(
                        wait_ms = d.as_millis() as u64,
                        "venue counters near the limit; holding a request"
                    );
                    tokio::time::sleep(d).await;
                }
                Decision::Refuse(d) => {
                    return Err(ExchangeError::RateLimited {
                        retry_after: Some(d),
                    });
                }
            }
        }
        for rule in &self.rules {
            let Some(n) = NonZeroU32::new(rule.amount(charge).min(rule.burst.get())) else {
                continue;
            };
            // `n` never exceeds the burst, so the limiter can always grant it eventually.
            let _ = rule.limiter.until_n_ready(n).await;
        }
        Ok(())
    }

    /// Takes the venue's counters from a response's headers. `server_ms` is the venue's clock
    /// now, which places the end of each counter's window.
    pub fn observe(&self, headers: &reqwest::header::HeaderMap, now: Instant, server_ms: i64) {
        let mut state = self.lock();
        for (i, rule) in self.rules.iter().enumerate() {
            let Some(name) = &rule.header else { continue };
            let Some(used) = headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                continue;
            };
            let interval_ms = i64::try_from(rule.interval.as_millis()).unwrap_or(i64::MAX);
            let left_ms = interval_ms - server_ms.rem_euclid(interval_ms.max(1));
            let window_end = now + Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
            if let Some(slot) = state.counts.get_mut(i) {
                *slot = Some(VenueCount { used, window_end });
            }
        }
    }

    /// Stops every request after a 429 or 418 until `retry_after` has passed.
    pub fn ban(&self, status: u16, retry_after: Option<Duration>, now: Instant) -> Duration {
        let default = if status == 418 {
            DEFAULT_418_BAN
        } else {
            DEFAULT_429_BAN
        };
        let length = retry_after.unwrap_or(default);
        let mut state = self.lock();
        let until = now + length;
        if state.banned_until.is_none_or(|u| u < until) {
            state.banned_until = Some(until);
            state.banned_until_utc = chrono::Duration::from_std(length)
                .ok()
                .map(|d| Utc::now() + d);
        }
        tracing::error!(
            status,
            retry_after_s = length.as_secs(),
            "rate limited by Binance; every request stops until Retry-After"
        );
        length
    }

    /// How long the current 429/418 ban still lasts at `now`, if there is one.
    pub fn ban_left(&self, now: Instant) -> Option<Duration> {
        self.lock()
            .banned_until
            .filter(|u| *u > now)
            .map(|u| u - now)
    }

    pub fn snapshot(&self) -> LimitsSnapshot {
        let state = self.lock();
        let now = Instant::now();
        let mut used_weight = None;
        let mut weight_limit = None;
        let mut counters = Vec::new();
        for (rule, count) in self.rules.iter().zip(&state.counts) {
            let live = count.filter(|c| c.window_end > now).map(|c| c.used);
            if rule.kind == Kind::Weight && rule.interval == Duration::from_secs(60) {
                weight_limit = Some(rule.limit);
                used_weight = live.or(Some(0)).filter(|_| count.is_some());
            }
            if let (Some(h), Some(used)) = (&rule.header, live) {
                counters.push((h.clone(), used, rule.limit));
            }
        }
        LimitsSnapshot {
            used_weight,
            weight_limit,
            counters,
            banned_until: state
                .banned_until
                .filter(|u| *u > now)
                .and(state.banned_until_utc),
        }
    }
}
