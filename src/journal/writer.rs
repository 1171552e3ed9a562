//! The journal actor: owns the store and writes everything sent to it, in order, in batches.
//!
//! A flush writes everything queued so far in one transaction; whatever arrives while it runs
//! waits for the next one (group commit), so batches grow with load and the journal keeps up
//! without a timer. `Record` is fire-and-forget; `RecordDurable` answers once its entry is
//! committed (or the commit failed — then the caller must not act as if it were recorded, e.g.
//! must not send the order). A failed batch's ordinary entries are retried, never dropped.

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, ResponseFuture, WrapFuture,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

use super::{Entry, JournalError, Store};

/// Wait before retrying a batch the database refused.
const RETRY_DELAY: Duration = Duration::from_millis(200);

/// Appends an entry; returns at once.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Record(pub Entry);

/// Appends an entry and answers once it is committed.
#[derive(Message)]
#[rtype(result = "Result<(), JournalError>")]
pub struct RecordDurable(pub Entry);

/// Answers once everything sent before it is committed (shutdown, tests).
#[derive(Message)]
#[rtype(result = "Result<(), JournalError>")]
pub struct Flush;

/// Commits `entry` and answers once it is on disk; with no journal (benchmarks, tests started
/// without one) there is nothing to wait for. The one way every order intent is recorded
/// before the order leaves (orders, order lists, the emergency stop's flatten orders).
pub async fn commit(
    journal: Option<&actix::Addr<JournalWriter>>,
    entry: Entry,
) -> Result<(), JournalError> {
    match journal {
        Some(journal) => journal
            .send(RecordDurable(entry))
            .await
            .unwrap_or(Err(JournalError::Unavailable)),
        None => Ok(()),
    }
}

/// Counters for `/v1/status` and the benchmark.
#[derive(Debug, Default)]
pub struct JournalStats {
    pub written: AtomicU64,
    pub batches: AtomicU64,
    pub failed_batches: AtomicU64,
    pub largest_batch: AtomicU64,
}

/// One queued item: an entry, a caller waiting for its commit, or both.
struct Pending {
    entry: Option<Entry>,
    done: Option<oneshot::Sender<Result<(), JournalError>>>,
}

pub struct JournalWriter {
    store: Store,
    /// Entries (and barriers) not yet handed to a flush, in arrival order.
    queue: Vec<Pending>,
    /// Whether a flush is running: at most one at a time, so rows keep arrival order.
    flushing: bool,
    stats: Arc<JournalStats>,
}

impl JournalWriter {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            queue: Vec::new(),
            flushing: false,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> Arc<JournalStats> {
        self.stats.clone()
    }

    fn enqueue(&mut self, pending: Pending, ctx: &mut Context<Self>) {
        self.queue.push(pending);
        if !self.flushing {
            self.flush(ctx);
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.queue.is_empty() {
            return;
        }
        self.flushing = true;
        let batch = std::mem::take(&mut self.queue);
        let entries: Vec<Entry> = batch.iter().filter_map(|p| p.entry.clone()).collect();
        let store = self.store.clone();
        let write = async move {
            let result = store.append(&entries).await;
            (result, entries.len())
        };
        ctx.spawn(write.into_actor(self).map(move |(result, n), act, ctx| {
            act.flushing = false;
            match result {
                Ok(()) => {
                    act.stats.written.fetch_add(n as u64, Ordering::Relaxed);
                    act.stats.batches.fetch_add(1, Ordering::Relaxed);
                    act.stats
                        .largest_batch
                        .fetch_max(n as u64, Ordering::Relaxed);
                    for p in batch {
                        if let Some(done) = p.done {
                            let _ = done.send(Ok(()));
                        }
                    }
                    act.flush(ctx);
                }
                Err(e) => {
                    act.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, entries = n, "journal write failed; retrying");
                    // Durable callers learn now (they must not act); ordinary entries go back
                    // to the front of the queue and are retried.
                    let mut retry = Vec::with_capacity(batch.len() + act.queue.len());
                    for p in batch {
                        match p.done {
                            Some(done) => {
                                let _ = done.send(Err(e.clone()));
                            }
                            None => retry.push(p),
                        }
                    }
                    retry.append(&mut act.queue);
                    act.queue = retry;
                    act.flushing = true;
                    ctx.run_later(RETRY_DELAY, |act, ctx| {
                        act.flushing = false;
                        act.flush(ctx);
                    });
                }
            }
        }));
    }

    fn wait(
        &mut self,
        entry: Option<Entry>,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<(), JournalError>> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(
            Pending {
                entry,
                done: Some(tx),
            },
            ctx,
        );
        Box::pin(async move { rx.await.unwrap_or(Err(JournalError::Unavailable)) })
    }
}

impl Actor for JournalWriter {
    type Context = Context<Self>;
}

impl Handler<Record> for JournalWriter {
    type Result = ();

    fn handle(&mut self, msg: Record, ctx: &mut Context<Self>) {
        self.enqueue(
            Pending {
                entry: Some(msg.0),
                done: None,
            },
            ctx,
        );
    }
}

impl Handler<RecordDurable> for JournalWriter {
    type Result = ResponseFuture<Result<(), JournalError>>;

    fn handle(&mut self, msg: RecordDurable, ctx: &mut Context<Self>) -> Self::Result {
        self.wait(Some(msg.0), ctx)
    }
}

impl Handler<Flush> for JournalWriter {
    type Result = ResponseFuture<Result<(), JournalError>>;

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        if self.queue.is_empty() && !self.flushing {
            return Box::pin(async { Ok(()) });
        }
        self.wait(None, ctx)
    }
}
