//! Message buses beyond the in-process [`crate::events::EventBus`]: [`redis`] bridges signals in
//! from Redis pub/sub and engine events (and signal decisions) back out to it.

pub mod redis;
