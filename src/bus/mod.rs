//! Message buses beyond the in-process [`crate::events::EventBus`]: [`redis`] bridges signals in
//! from Redis pub/sub and engine events (and signal decisions) back out to it, and takes
//! operator commands (emergency stop, resume) on its control channel.

pub mod redis;

use std::sync::Arc;

use crate::control::{self, StopRequest, clean_reason, operator_or};
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
    let listener = redis::spawn_control_listener(&config, control_handler(engine));
    Some(redis::spawn_redis_bridge(config, submit, engine.events.clone()).with_control(listener))
}

/// Operator commands from the Redis control channel, carried out by the same functions as
/// `POST /v1/emergency-stop` and `POST /v1/resume`. `by` defaults to `redis`.
pub fn control_handler(engine: &Engine) -> redis::ControlFn {
    let engine = engine.clone();
    Arc::new(move |command| {
        let engine = engine.clone();
        Box::pin(async move {
            match command {
                redis::ControlCommand::EmergencyStop {
                    flatten,
                    reason,
                    by,
                } => {
                    let reason = reason
                        .as_deref()
                        .map(clean_reason)
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "no reason given".into());
                    let by = operator_or(by.as_deref(), "redis");
                    let request = StopRequest {
                        flatten,
                        reason,
                        by,
                    };
                    let report = control::emergency_stop(&engine, request).await;
                    serde_json::to_value(report).unwrap_or_default()
                }
                redis::ControlCommand::Resume { reason, by } => {
                    let reason = reason.as_deref().map(clean_reason).unwrap_or_default();
                    if reason.is_empty() {
                        return serde_json::json!({"error": "a reason is required to resume trading"});
                    }
                    let by = operator_or(by.as_deref(), "redis");
                    match control::resume(&engine, &reason, &by).await {
                        Ok(report) => serde_json::to_value(report).unwrap_or_default(),
                        Err(error) => serde_json::json!({ "error": error }),
                    }
                }
            }
        })
    })
}
