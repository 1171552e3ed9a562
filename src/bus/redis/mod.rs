//! Redis pub/sub bridge.
//!
//! Two independent tasks, both on the current tokio runtime:
//!
//! - **Subscriber**: SUBSCRIBEs to [`RedisConfig::signal_channel`], hands each raw payload to the
//!   engine through a [`SubmitFn`] (one at a time, in arrival order), and PUBLISHes the decision
//!   JSON it gets back to [`RedisConfig::event_channel`].
//! - **Publisher**: follows the [`EventBus`] and PUBLISHes every [`EngineEvent`] as JSON to
//!   [`RedisConfig::event_channel`].
//!
//! - **Control** ([`control`], started by the engine): operator commands (emergency stop,
//!   resume) on [`RedisConfig::control_channel`], on a connection of their own.
//!
//! A Redis outage never stops the engine: connection errors are logged (with the URL's
//! credentials stripped) and retried with exponential backoff; while the publisher is
//! disconnected, bus events are drained and counted as dropped rather than buffered. Redis
//! pub/sub is fire-and-forget, so signals published while the subscriber is disconnected are
//! lost (that is Redis's semantics, not something the bridge can recover).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::redis::aio::{MultiplexedConnection, PubSub};
use ::redis::{AsyncCommands, AsyncConnectionConfig, Client, RedisError};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;

use crate::config::RedisConfig;
use crate::events::{EngineEvent, EventBus};
use crate::exchange::BoxFuture;

/// First delay before retrying a failed or lost connection.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest delay between retries; the delay doubles up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long establishing a connection (TCP + handshake, or SUBSCRIBE) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a single command (PUBLISH) may wait for its reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Handles the engine gives the bridge: how to submit a raw signal payload and get the decision
/// back as JSON.
pub type SubmitFn = Arc<dyn Fn(Vec<u8>) -> BoxFuture<serde_json::Value> + Send + Sync>;

/// Bridge counters, for `/v1/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RedisStats {
    /// Both the signal subscriber and the event publisher currently hold a live connection.
    pub connected: bool,
    /// Retries scheduled after a failed connect or a lost connection (both directions).
    pub reconnects: u64,
    /// Signal payloads received on the signal channel and handed to the engine.
    pub signals_received: u64,
    /// Events and signal decisions PUBLISHed to the event channel.
    pub events_published: u64,
    /// Events and signal decisions not published (Redis down, publish failed, or the bus
    /// subscriber lagged).
    pub events_dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    subscriber_connected: AtomicBool,
    publisher_connected: AtomicBool,
    reconnects: AtomicU64,
    signals_received: AtomicU64,
    events_published: AtomicU64,
    events_dropped: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> RedisStats {
        RedisStats {
            connected: self.subscriber_connected.load(Ordering::Relaxed)
                && self.publisher_connected.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            signals_received: self.signals_received.load(Ordering::Relaxed),
            events_published: self.events_published.load(Ordering::Relaxed),
            events_dropped: self.events_dropped.load(Ordering::Relaxed),
        }
    }
}

/// The running bridge. Dropping it (or calling [`RedisBridge::abort`]) stops both tasks and
/// closes their connections.
#[derive(Debug)]
pub struct RedisBridge {
    subscriber: JoinHandle<()>,
    publisher: JoinHandle<()>,
    /// The operator-command listener ([`control`]), when the engine started one.
    control: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl RedisBridge {
    /// Current counters.
    pub fn stats(&self) -> RedisStats {
        self.counters.snapshot()
    }

    /// Adds the control-channel listener, stopped with the rest.
    pub fn with_control(mut self, listener: JoinHandle<()>) -> Self {
        self.control = Some(listener);
        self
    }

    /// Stops every task now.
    pub fn abort(&self) {
        self.subscriber.abort();
        self.publisher.abort();
        if let Some(control) = &self.control {
            control.abort();
        }
        self.counters
            .subscriber_connected
            .store(false, Ordering::Relaxed);
        self.counters
            .publisher_connected
            .store(false, Ordering::Relaxed);
    }
}

impl Drop for RedisBridge {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Starts the subscriber and the publisher on the current tokio runtime (an actix `System`'s
/// runtime works) and returns at once; connecting happens in the background.
///
/// Subscribes to `events` before returning, so no event published after this call is missed
/// (it is either published to Redis or counted as dropped).
///
/// # Panics
/// Like `tokio::spawn`, if called outside a tokio runtime.
pub fn spawn_redis_bridge(config: RedisConfig, submit: SubmitFn, events: EventBus) -> RedisBridge {
    let counters = Arc::new(Counters::default());
    let target = Target {
        url: Arc::from(config.url.as_str()),
        log_url: Arc::from(redact_url(&config.url).as_str()),
        event_channel: Arc::from(config.event_channel.as_str()),
    };
    let rx = events.subscribe();
    let subscriber = tokio::spawn(run_subscriber(
        target.clone(),
        config.signal_channel,
        submit,
        counters.clone(),
    ));
    let publisher = tokio::spawn(run_publisher(target, rx, counters.clone()));
    RedisBridge {
        subscriber,
        publisher,
        control: None,
        counters,
    }
}

/// Where to connect and publish; `log_url` is the only form of the URL that may be logged.
#[derive(Clone)]
struct Target {
    url: Arc<str>,
    log_url: Arc<str>,
    event_channel: Arc<str>,
}

/// Exponential backoff: `INITIAL_BACKOFF`, doubling, capped at `MAX_BACKOFF`.
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            next: INITIAL_BACKOFF,
        }
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        delay
    }

    fn reset(&mut self) {
        self.next = INITIAL_BACKOFF;
    }
}

fn timed_out(what: &str) -> RedisError {
    RedisError::from(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{what} timed out"),
    ))
}

/// Errors after which the connection cannot be trusted and must be replaced.
fn is_connection_error(e: &RedisError) -> bool {
    e.is_unrecoverable_error() || e.is_io_error() || e.is_connection_dropped() || e.is_timeout()
}

async fn connect_data(url: &str) -> Result<MultiplexedConnection, RedisError> {
    let client = Client::open(url)?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

async fn connect_pubsub(url: &str, channel: &str) -> Result<PubSub, RedisError> {
    let client = Client::open(url)?;
    let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| timed_out("pub/sub connect"))??;
    tokio::time::timeout(CONNECT_TIMEOUT, pubsub.subscribe(channel))
        .await
        .map_err(|_| timed_out("SUBSCRIBE"))??;
    Ok(pubsub)
}

async fn publish(
    conn: &mut MultiplexedConnection,
    channel: &str,
    payload: String,
) -> Result<(), RedisError> {
    let _receivers: usize = conn.publish(channel, payload).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Subscriber: signals in, decisions out.

async fn run_subscriber(
    target: Target,
    signal_channel: String,
    submit: SubmitFn,
    counters: Arc<Counters>,
) {
    let mut backoff = Backoff::new();
    loop {
        let connected = async {
            let conn = connect_data(&target.url).await?;
            let pubsub = connect_pubsub(&target.url, &signal_channel).await?;
            Ok::<_, RedisError>((conn, pubsub))
        }
        .await;
        match connected {
            Ok((mut conn, mut pubsub)) => {
                backoff.reset();
                counters.subscriber_connected.store(true, Ordering::Relaxed);
                tracing::info!(
                    url = %target.log_url,
                    channel = %signal_channel,
                    "redis: subscribed to signals",
                );
                let lost = serve_signals(&target, &mut pubsub, &mut conn, &submit, &counters).await;
                counters
                    .subscriber_connected
                    .store(false, Ordering::Relaxed);
                tracing::warn!(
                    url = %target.log_url,
                    channel = %signal_channel,
                    reason = %lost,
                    "redis: signal subscription lost; reconnecting",
                );
            }
            Err(e) => {
                tracing::warn!(
                    url = %target.log_url,
                    channel = %signal_channel,
                    error = %e,
                    "redis: signal subscriber cannot connect; retrying",
                );
            }
        }
        Counters::add(&counters.reconnects, 1);
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Handles signals until the connection is lost; returns why.
async fn serve_signals(
    target: &Target,
    pubsub: &mut PubSub,
    conn: &mut MultiplexedConnection,
    submit: &SubmitFn,
    counters: &Counters,
) -> String {
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        Counters::add(&counters.signals_received, 1);
        let decision = submit(msg.get_payload_bytes().to_vec()).await;
        if decision.is_null() {
            // The engine publishes the decision on the event bus itself.
            continue;
        }
        let json = match serde_json::to_string(&decision) {
            Ok(json) => json,
            Err(e) => {
                Counters::add(&counters.events_dropped, 1);
                tracing::warn!(
                    error = %e,
                    "redis: cannot serialize signal decision; not published",
                );
                continue;
            }
        };
        match publish(conn, &target.event_channel, json).await {
            Ok(()) => Counters::add(&counters.events_published, 1),
            Err(e) => {
                Counters::add(&counters.events_dropped, 1);
                if is_connection_error(&e) {
                    return format!("publishing a signal decision failed: {e}");
                }
                tracing::warn!(
                    url = %target.log_url,
                    channel = %target.event_channel,
                    error = %e,
                    "redis: publishing a signal decision failed",
                );
            }
        }
    }
    "connection closed".to_owned()
}

// ---------------------------------------------------------------------------------------------
// Publisher: engine events out.

type EventRx = broadcast::Receiver<Arc<EngineEvent>>;

async fn run_publisher(target: Target, mut rx: EventRx, counters: Arc<Counters>) {
    let mut backoff = Backoff::new();
    loop {
        let Some(connected) = drain_while(&mut rx, &counters, connect_data(&target.url)).await
        else {
            return;
        };
        match connected {
            Ok(mut conn) => {
                backoff.reset();
                counters.publisher_connected.store(true, Ordering::Relaxed);
                tracing::info!(
                    url = %target.log_url,
                    channel = %target.event_channel,
                    "redis: publishing engine events",
                );
                let lost = forward_events(&target, &mut rx, &mut conn, &counters).await;
                counters.publisher_connected.store(false, Ordering::Relaxed);
                match lost {
                    Some(e) => {
                        tracing::warn!(
                            url = %target.log_url,
                            channel = %target.event_channel,
                            error = %e,
                            "redis: event publisher lost its connection; reconnecting",
                        );
                    }
                    None => return,
                }
            }
            Err(e) => {
                tracing::warn!(
                    url = %target.log_url,
                    channel = %target.event_channel,
                    error = %e,
                    "redis: event publisher cannot connect; retrying",
                );
            }
        }
        Counters::add(&counters.reconnects, 1);
        let delay = tokio::time::sleep(backoff.next_delay());
        if drain_while(&mut rx, &counters, delay).await.is_none() {
            return;
        }
    }
}

/// Publishes bus events until the connection fails (returns the error) or the bus is closed
/// (returns `None`).
async fn forward_events(
    target: &Target,
    rx: &mut EventRx,
    conn: &mut MultiplexedConnection,
    counters: &Counters,
) -> Option<RedisError> {
    loop {
        let event = match rx.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(n)) => {
                Counters::add(&counters.events_dropped, n);
                tracing::warn!(
                    dropped = n,
                    "redis: event publisher fell behind the bus; events dropped"
                );
                continue;
            }
            Err(RecvError::Closed) => return None,
        };
        let json = match serde_json::to_string(&*event) {
            Ok(json) => json,
            Err(e) => {
                Counters::add(&counters.events_dropped, 1);
                tracing::warn!(error = %e, "redis: cannot serialize engine event; not published");
                continue;
            }
        };
        match publish(conn, &target.event_channel, json).await {
            Ok(()) => Counters::add(&counters.events_published, 1),
            Err(e) => {
                Counters::add(&counters.events_dropped, 1);
                if is_connection_error(&e) {
                    return Some(e);
                }
                tracing::warn!(
                    url = %target.log_url,
                    channel = %target.event_channel,
                    error = %e,
                    "redis: publishing an engine event failed",
                );
            }
        }
    }
}

/// Runs `fut` while discarding (and counting as dropped) every bus event that arrives meanwhile,
/// so nothing piles up while Redis is unavailable. `None` if the bus closed first.
async fn drain_while<F: Future>(
    rx: &mut EventRx,
    counters: &Counters,
    fut: F,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            received = rx.recv() => match received {
                Ok(_) => Counters::add(&counters.events_dropped, 1),
                Err(RecvError::Lagged(n)) => Counters::add(&counters.events_dropped, n),
                Err(RecvError::Closed) => return None,
            },
        }
    }
}

/// The URL without credentials, for logs: drops the userinfo (`user:password@`) and the query
/// string (unix-socket URLs may carry `pass=` there).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparseable redis url>".to_owned();
    };
    let before_query = rest.split(['?', '#']).next().unwrap_or_default();
    // The last '@' ends the userinfo, even if an unencoded password contains '/' or '@'.
    let host_and_path = before_query
        .rsplit_once('@')
        .map_or(before_query, |(_, after)| after);
    format!("{scheme}://{host_and_path}")
}

pub mod control;

pub use control::{ControlCommand, ControlFn, spawn_control_listener};

#[cfg(test)]
mod tests;
