//! Message buses beyond the in-process [`crate::events::EventBus`]: [`redis`] bridges signals in
//! from Redis pub/sub and engine events (and signal decisions) back out to it.

pub mod redis;

use std::sync::Arc;

use crate::engine::Engine;
use crate::web::signals::submit_signal;

/// Starts the Redis bridge when `redis.url` (or `REDIS_URL`) is set. Signals from Redis go
/// through the same path as `POST /v1/signals`; their decisions reach Redis as
/// `signal_decision` events from the event bus, like every other event.
pub fn spawn_for(engine: &Engine) -> Option<redis::RedisBridge> {
    let config = engine.config.redis.clone();
    if config.url.is_empty() {
        return None;
    }
    let for_submit = engine.clone();
    let submit: redis::SubmitFn = Arc::new(move |payload| {
        let engine = for_submit.clone();
        Box::pin(async move {
            submit_signal(&engine, &payload).await;
            serde_json::Value::Null
        })
    });
    Some(redis::spawn_redis_bridge(
        config,
        submit,
        engine.events.clone(),
    ))
}
