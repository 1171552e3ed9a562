//! The Binance Spot adapter (`mode = "live"`). Split by concern: `signing` (HMAC and
//! credentials, shared with the simulator server).

pub mod signing;
