//! The Redis control channel ([`RedisConfig::control_channel`], `redline:control` by default):
//! operator commands over pub/sub, handled by the same code as `POST /v1/emergency-stop` and
//! `POST /v1/resume`; each answer is PUBLISHed to the event channel as a `control_answer`.
//!
//! ```json
//! {"command":"emergency_stop","flatten":true,"reason":"...","by":"alice"}
//! {"command":"resume","reason":"...","by":"alice"}
//! ```
//!
//! Pub/sub carries no credentials: anyone who can PUBLISH to this Redis can stop and resume
//! trading. Restrict access to Redis (loopback or a private network, `requirepass`/ACLs).
//!
//! The listener is its own task with its own connection, so a stop never waits behind the
//! signal subscriber (which hands signals to the engine one at a time).

use ::redis::RedisError;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio::task::JoinHandle;

use super::{Backoff, Target, connect_data, connect_pubsub, publish, redact_url};
use crate::config::RedisConfig;
use crate::exchange::BoxFuture;

/// One operator command.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControlCommand {
    EmergencyStop {
        #[serde(default)]
        flatten: bool,
        reason: Option<String>,
        by: Option<String>,
    },
    Resume {
        reason: Option<String>,
        by: Option<String>,
    },
}

impl ControlCommand {
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(payload).map_err(|e| e.to_string())
    }

    pub fn name(&self) -> &'static str {
        match self {
            ControlCommand::EmergencyStop { .. } => "emergency_stop",
            ControlCommand::Resume { .. } => "resume",
        }
    }
}

/// Carries out a command and answers with JSON (the engine supplies it; see `bus::spawn_for`).
pub type ControlFn = Arc<dyn Fn(ControlCommand) -> BoxFuture<serde_json::Value> + Send + Sync>;

/// Starts the control listener on the current tokio runtime; it reconnects with backoff until
/// the handle is aborted.
pub fn spawn_control_listener(config: &RedisConfig, handle: ControlFn) -> JoinHandle<()> {
    let target = Target {
        url: Arc::from(config.url.as_str()),
        log_url: Arc::from(redact_url(&config.url).as_str()),
        event_channel: Arc::from(config.event_channel.as_str()),
    };
    tokio::spawn(run(target, config.control_channel.clone(), handle))
}

async fn run(target: Target, channel: String, handle: ControlFn) {
    let mut backoff = Backoff::new();
    loop {
        let lost = match listen(&target, &channel, &handle, &mut backoff).await {
            Ok(()) => "connection closed".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(url = %target.log_url, %channel, reason = %lost, "redis: control channel lost; reconnecting");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn listen(
    target: &Target,
    channel: &str,
    handle: &ControlFn,
    backoff: &mut Backoff,
) -> Result<(), RedisError> {
    let mut conn = connect_data(&target.url).await?;
    let mut pubsub = connect_pubsub(&target.url, channel).await?;
    backoff.reset();
    tracing::info!(url = %target.log_url, %channel, "redis: listening for operator commands (unauthenticated: restrict access to Redis)");
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        let answer = match ControlCommand::parse(msg.get_payload_bytes()) {
            Ok(command) => {
                let name = command.name();
                tracing::warn!(command = name, "redis: operator command received");
                json!({"type": "control_answer", "command": name, "answer": handle(command).await})
            }
            Err(error) => {
                tracing::warn!(%error, "redis: unreadable operator command ignored");
                json!({"type": "control_answer", "command": null, "error": error})
            }
        };
        if let Err(e) = publish(&mut conn, &target.event_channel, answer.to_string()).await {
            tracing::warn!(error = %e, "redis: could not publish a control answer");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_strictly() {
        assert_eq!(
            ControlCommand::parse(
                br#"{"command":"emergency_stop","flatten":true,"reason":"r","by":"a"}"#
            ),
            Ok(ControlCommand::EmergencyStop {
                flatten: true,
                reason: Some("r".into()),
                by: Some("a".into())
            })
        );
        assert_eq!(
            ControlCommand::parse(br#"{"command":"resume","reason":"ok"}"#),
            Ok(ControlCommand::Resume {
                reason: Some("ok".into()),
                by: None
            })
        );
        assert!(ControlCommand::parse(br#"{"command":"emergency_stop","flaten":true}"#).is_err());
        assert!(ControlCommand::parse(br#"{"command":"shutdown"}"#).is_err());
    }
}
