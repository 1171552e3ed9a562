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
    counters: Arc<Counters>,
}

impl RedisBridge {
    /// Current counters.
    pub fn stats(&self) -> RedisStats {
        self.counters.snapshot()
    }

    /// Stops both tasks now.
    pub fn abort(&self) {
        self.subscriber.abort();
        self.publisher.abort();
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use std::sync::Mutex;
    use std::time::Instant;

    const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
    const WAIT: Duration = Duration::from_secs(10);

    /// The test Redis, or `None` (after printing `SKIPPED`) when it is unreachable outside CI.
    async fn redis_url_or_skip() -> Option<String> {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned());
        let reachable = async {
            let mut conn = connect_data(&url).await?;
            ::redis::cmd("PING").query_async::<String>(&mut conn).await
        };
        match tokio::time::timeout(Duration::from_secs(3), reachable).await {
            Ok(Ok(_)) => Some(url),
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!(
                        "redis not reachable at {} ({why}); CI=true, so Redis tests must not be skipped",
                        redact_url(&url)
                    );
                }
                eprintln!(
                    "SKIPPED: redis not reachable at {} ({why})",
                    redact_url(&url)
                );
                None
            }
        }
    }

    fn unique_channel(tag: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("redline-test:{}:{n}:{tag}", std::process::id())
    }

    fn config(url: &str, signal_channel: &str, event_channel: &str) -> RedisConfig {
        RedisConfig {
            url: url.to_owned(),
            signal_channel: signal_channel.to_owned(),
            event_channel: event_channel.to_owned(),
        }
    }

    /// A SubmitFn that records payloads and echoes them back. Earlier payloads take longer,
    /// so concurrent handling would reorder the decisions.
    fn recording_submit() -> (SubmitFn, Arc<Mutex<Vec<Vec<u8>>>>) {
        let seen = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let recorder = seen.clone();
        let submit: SubmitFn = Arc::new(move |payload: Vec<u8>| {
            let recorder = recorder.clone();
            Box::pin(async move {
                let delay = {
                    let mut seen = recorder.lock().unwrap();
                    seen.push(payload.clone());
                    Duration::from_millis(60u64.saturating_sub(20 * seen.len() as u64))
                };
                tokio::time::sleep(delay).await;
                serde_json::json!({
                    "status": "submitted",
                    "echo": String::from_utf8_lossy(&payload),
                })
            })
        });
        (submit, seen)
    }

    fn unused_submit() -> SubmitFn {
        Arc::new(|_| Box::pin(async { serde_json::json!({"status": "unused"}) }))
    }

    async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn listen(url: &str, channel: &str) -> PubSub {
        connect_pubsub(url, channel).await.unwrap()
    }

    async fn next_json(pubsub: &mut PubSub) -> serde_json::Value {
        let msg = tokio::time::timeout(WAIT, pubsub.on_message().next())
            .await
            .expect("no message on the event channel in time")
            .expect("event channel subscription closed");
        serde_json::from_slice(msg.get_payload_bytes()).unwrap()
    }

    async fn subscriber_count(url: &str, channel: &str) -> i64 {
        let mut conn = connect_data(url).await.unwrap();
        let (_, n): (String, i64) = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut conn)
            .await
            .unwrap();
        n
    }

    #[actix_rt::test]
    async fn signals_reach_submit_in_order_and_decisions_are_published() {
        let Some(url) = redis_url_or_skip().await else {
            return;
        };
        let (signals, events) = (unique_channel("signals"), unique_channel("events"));
        let mut follower = listen(&url, &events).await;
        let (submit, seen) = recording_submit();
        // Kept alive: a closed bus ends the publisher, and `connected` covers both directions.
        let bus = EventBus::new();
        let bridge = spawn_redis_bridge(config(&url, &signals, &events), submit, bus.clone());
        wait_until("the bridge to connect", || bridge.stats().connected).await;

        let mut conn = connect_data(&url).await.unwrap();
        let payloads = [r#"{"signal_id":"a"}"#, r#"{"signal_id":"b"}"#, "not json"];
        for payload in payloads {
            let receivers: usize = conn.publish(&signals, payload).await.unwrap();
            assert_eq!(receivers, 1, "the bridge should be the only subscriber");
        }
        for payload in payloads {
            let decision = next_json(&mut follower).await;
            assert_eq!(decision["status"], "submitted");
            assert_eq!(decision["echo"], payload);
        }
        let seen: Vec<Vec<u8>> = seen.lock().unwrap().clone();
        let expected: Vec<Vec<u8>> = payloads.iter().map(|p| p.as_bytes().to_vec()).collect();
        assert_eq!(seen, expected);
        let stats = bridge.stats();
        assert_eq!(stats.signals_received, 3);
        assert_eq!(stats.events_published, 3);
        assert_eq!(stats.events_dropped, 0);

        drop(bridge);
        let deadline = Instant::now() + WAIT;
        while subscriber_count(&url, &signals).await != 0 {
            assert!(
                Instant::now() < deadline,
                "dropping the bridge left its subscription open"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[actix_rt::test]
    async fn bus_events_are_published_as_json_with_their_type() {
        let Some(url) = redis_url_or_skip().await else {
            return;
        };
        let (signals, events) = (unique_channel("signals"), unique_channel("events"));
        let mut follower = listen(&url, &events).await;
        let bus = EventBus::new();
        let bridge = spawn_redis_bridge(
            config(&url, &signals, &events),
            unused_submit(),
            bus.clone(),
        );
        wait_until("the bridge to connect", || bridge.stats().connected).await;

        bus.publish(EngineEvent::BreakerChanged {
            state: "open",
            ts: Utc::now(),
        });
        let event = next_json(&mut follower).await;
        assert_eq!(event["type"], "breaker_changed");
        assert_eq!(event["state"], "open");
        wait_until("the publish to be counted", || {
            bridge.stats().events_published == 1
        })
        .await;
        assert_eq!(bridge.stats().events_dropped, 0);
    }

    #[actix_rt::test]
    async fn unreachable_redis_never_blocks_the_engine() {
        let bus = EventBus::new();
        let started = Instant::now();
        let bridge = spawn_redis_bridge(
            config("redis://user:secret@127.0.0.1:1", "signals", "events"),
            unused_submit(),
            bus.clone(),
        );
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "spawn must not wait for Redis"
        );

        wait_until("a first retry", || bridge.stats().reconnects > 0).await;
        let first = bridge.stats().reconnects;
        wait_until("more retries", || bridge.stats().reconnects > first).await;
        assert!(!bridge.stats().connected);

        const EVENTS: u64 = 10_000;
        let started = Instant::now();
        for i in 0..EVENTS {
            bus.publish(EngineEvent::ActorRestarted {
                actor: "test",
                restarts: i,
                ts: Utc::now(),
            });
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "publishing must not block"
        );
        wait_until("every event to be counted as dropped", || {
            bridge.stats().events_dropped == EVENTS
        })
        .await;
        let stats = bridge.stats();
        assert!(!stats.connected);
        assert_eq!(stats.events_published, 0);
        assert_eq!(stats.signals_received, 0);
    }

    /// A TCP proxy in front of Redis whose connections the test can cut, to simulate an outage
    /// without touching the shared server.
    struct CuttableProxy {
        addr: std::net::SocketAddr,
        accepting: Arc<AtomicBool>,
        streams: Arc<Mutex<Vec<std::net::TcpStream>>>,
    }

    impl CuttableProxy {
        fn start(upstream: (String, u16)) -> Self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let proxy = Self {
                addr: listener.local_addr().unwrap(),
                accepting: Arc::new(AtomicBool::new(true)),
                streams: Arc::default(),
            };
            let (accepting, streams) = (proxy.accepting.clone(), proxy.streams.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if !accepting.load(Ordering::SeqCst) {
                        continue; // dropped: the connection closes at once
                    }
                    let Ok(server) =
                        std::net::TcpStream::connect((upstream.0.as_str(), upstream.1))
                    else {
                        continue;
                    };
                    let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    };
                    let mut all = streams.lock().unwrap();
                    all.push(client.try_clone().unwrap());
                    all.push(server.try_clone().unwrap());
                    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                    pipe(server, client);
                }
            });
            proxy
        }

        /// Closes every proxied connection.
        fn cut(&self) {
            for stream in self.streams.lock().unwrap().drain(..) {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
    }

    /// `url` rewritten to go through a new proxy, or `None` if it is not a plain `host:port` URL.
    fn proxied(url: &str) -> Option<(CuttableProxy, String)> {
        let client = Client::open(url).ok()?;
        let ::redis::ConnectionAddr::Tcp(host, port) = client.get_connection_info().addr().clone()
        else {
            return None;
        };
        let authority = format!("{host}:{port}");
        if !url.contains(&authority) {
            return None;
        }
        let proxy = CuttableProxy::start((host, port));
        let url = url.replacen(&authority, &proxy.addr.to_string(), 1);
        Some((proxy, url))
    }

    #[actix_rt::test]
    async fn the_bridge_reconnects_after_losing_redis() {
        let Some(url) = redis_url_or_skip().await else {
            return;
        };
        let Some((proxy, proxied_url)) = proxied(&url) else {
            eprintln!(
                "SKIPPED: the reconnect test needs a redis://host:port URL, got {}",
                redact_url(&url)
            );
            return;
        };
        let (signals, events) = (unique_channel("signals"), unique_channel("events"));
        let mut follower = listen(&url, &events).await;
        let (submit, _seen) = recording_submit();
        let bus = EventBus::new();
        let bridge =
            spawn_redis_bridge(config(&proxied_url, &signals, &events), submit, bus.clone());
        wait_until("the bridge to connect", || bridge.stats().connected).await;
        assert_eq!(bridge.stats().reconnects, 0);

        // Outage: existing connections cut, new ones refused for a while.
        proxy.accepting.store(false, Ordering::SeqCst);
        proxy.cut();
        wait_until("the bridge to notice", || !bridge.stats().connected).await;
        wait_until("several retries", || bridge.stats().reconnects >= 4).await;
        bus.publish(EngineEvent::BreakerChanged {
            state: "open",
            ts: Utc::now(),
        });
        wait_until("the outage event to be dropped", || {
            bridge.stats().events_dropped >= 1
        })
        .await;

        // Recovery.
        proxy.accepting.store(true, Ordering::SeqCst);
        wait_until("the bridge to reconnect", || bridge.stats().connected).await;
        let mut conn = connect_data(&url).await.unwrap();
        let receivers: usize = conn.publish(&signals, "after").await.unwrap();
        assert_eq!(receivers, 1);
        let decision = next_json(&mut follower).await;
        assert_eq!(decision["echo"], "after");
        bus.publish(EngineEvent::BreakerChanged {
            state: "closed",
            ts: Utc::now(),
        });
        let event = next_json(&mut follower).await;
        assert_eq!(event["type"], "breaker_changed");
        assert_eq!(event["state"], "closed");
        proxy.cut();
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays[0], INITIAL_BACKOFF);
        assert_eq!(delays[1], INITIAL_BACKOFF * 2);
        assert_eq!(delays[2], INITIAL_BACKOFF * 4);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(delays[9], MAX_BACKOFF);
        backoff.reset();
        assert_eq!(backoff.next_delay(), INITIAL_BACKOFF);
    }

    #[test]
    fn redacted_urls_carry_no_credentials() {
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            redact_url("redis://:hunter2@cache:6379/0"),
            "redis://cache:6379/0"
        );
        assert_eq!(
            redact_url("rediss://user:p%40ss@cache/1"),
            "rediss://cache/1"
        );
        assert_eq!(
            redact_url("redis://u:pa/ss@w@cache:6379"),
            "redis://cache:6379"
        );
        assert_eq!(
            redact_url("redis+unix:///tmp/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///tmp/redis.sock"
        );
        assert_eq!(redact_url("hunter2"), "<unparseable redis url>");
    }

    #[test]
    fn stats_serialize_for_status() {
        let stats = Counters::default().snapshot();
        let json = serde_json::to_value(stats).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "connected": false,
                "reconnects": 0,
                "signals_received": 0,
                "events_published": 0,
                "events_dropped": 0,
            })
        );
    }
}
