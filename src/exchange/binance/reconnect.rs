//! Keeping a WebSocket to Binance up: connecting with a timeout, reading with an idle timeout
//! (Binance pings every 20 s, so silence means a dead connection), reconnecting before the
//! 24-hour cut-off, and jittered exponential backoff between attempts.

use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// First delay before reconnecting.
pub const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest delay between attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Binance closes connections at 24 h; we reconnect on our own terms a little before.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(23 * 3600 + 50 * 60);
/// No frame at all (Binance pings every 20 s) for this long means the connection is dead.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(65);

/// Exponential backoff, doubling from [`BACKOFF_START`] to [`BACKOFF_MAX`], each delay moved by
/// up to ±20 % so that many clients do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: BACKOFF_START,
        }
    }
}

impl Backoff {
    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        jitter(base, clock_nanos())
    }

    /// After a connection that worked: start again from the shortest delay.
    pub fn reset(&mut self) {
        self.next = BACKOFF_START;
    }
}

/// `base` scaled by a factor in [0.8, 1.2] drawn from `seed`. No rand crate: the low bits of
/// the clock's nanoseconds are random enough to spread reconnects.
pub fn jitter(base: Duration, seed: u32) -> Duration {
    let permille = 800 + u64::from(seed % 401);
    let ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(ms.saturating_mul(permille) / 1000)
}

fn clock_nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Opens a WebSocket, giving up after `timeout`.
pub async fn open(url: &str, timeout: Duration) -> Result<Socket, String> {
    super::rest::ensure_tls();
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async(url)).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(e)) => Err(format!("connect: {e}")),
        Err(_) => Err(format!("connect: no answer within {timeout:?}")),
    }
}

/// What reading a socket gave.
pub enum Read {
    Text(String),
    /// The socket is closed, failed, or went silent; the reason.
    Gone(String),
    /// Ping, pong, binary: nothing for the caller (pings are answered here).
    Nothing,
}

/// Reads one frame. Answers pings at once (tungstenite queues the pong; flushing sends it).
pub async fn read(socket: &mut Socket) -> Read {
    match tokio::time::timeout(IDLE_TIMEOUT, socket.next()).await {
        Err(_) => Read::Gone(format!("no frame for {IDLE_TIMEOUT:?}")),
        Ok(None) => Read::Gone("closed".into()),
        Ok(Some(Err(e))) => Read::Gone(format!("read: {e}")),
        Ok(Some(Ok(Message::Text(text)))) => Read::Text(text.as_str().to_owned()),
        Ok(Some(Ok(Message::Ping(_)))) => {
            if let Err(e) = socket.flush().await {
                return Read::Gone(format!("pong: {e}"));
            }
            Read::Nothing
        }
        Ok(Some(Ok(Message::Close(frame)))) => {
            Read::Gone(format!("closed by the server: {frame:?}"))
        }
        Ok(Some(Ok(_))) => Read::Nothing,
    }
}

/// Waits out `delay` unless the adapter shuts down first; `false` if it did.
pub async fn pause(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => !*shutdown.borrow(),
        _ = stopped(shutdown) => false,
    }
}

/// Resolves once the adapter is shut down (flag set or every handle dropped).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_within_twenty_percent() {
        let mut b = Backoff::default();
        let mut expected = BACKOFF_START;
        for _ in 0..12 {
            let d = b.next_delay();
            assert!(
                d >= expected * 8 / 10 && d <= expected * 12 / 10,
                "{d:?} vs {expected:?}"
            );
            expected = (expected * 2).min(BACKOFF_MAX);
        }
        b.reset();
        assert!(b.next_delay() <= BACKOFF_START * 12 / 10);
    }

    #[test]
    fn jitter_spans_plus_minus_twenty_percent() {
        let base = Duration::from_secs(10);
        assert_eq!(jitter(base, 0), Duration::from_secs(8));
        assert_eq!(jitter(base, 400), Duration::from_secs(12));
        assert_eq!(jitter(base, 200), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn pause_ends_early_on_shutdown() {
        let (tx, mut rx) = watch::channel(false);
        assert!(pause(Duration::from_millis(1), &mut rx).await);
        tx.send_replace(true);
        assert!(!pause(Duration::from_secs(3600), &mut rx).await);
        let (tx, mut rx) = watch::channel(false);
        drop(tx);
        assert!(!pause(Duration::from_secs(3600), &mut rx).await);
    }
}
