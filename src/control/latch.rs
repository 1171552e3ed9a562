//! The emergency-stop latch: one flag every order path reads without a message (so it blocks
//! new orders the instant it is set, whatever is queued in any mailbox), and a record of who
//! stopped trading, when and why, kept in a [`LatchStore`] so the stop survives a restart.
//!
//! Until the journal is wired into the engine, the store is a small JSON file
//! (`<storage.data_dir>/emergency-stop.json`) written atomically: temporary file, fsync,
//! rename, fsync of the directory. The trait is the seam where the journal will take over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Who stopped trading, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRecord {
    pub reason: String,
    /// The `X-Redline-Operator` header, else the door it came through: `api`, `cli`, `redis`.
    pub by: String,
    pub at: DateTime<Utc>,
    pub flatten: bool,
}

/// Where a latched stop is kept across restarts.
pub trait LatchStore: Send + Sync {
    /// The stop in force, if any.
    fn load(&self) -> io::Result<Option<StopRecord>>;
    /// Durably records the stop; returns only once it would survive a crash.
    fn save(&self, record: &StopRecord) -> io::Result<()>;
    /// Removes the stop (idempotent).
    fn clear(&self) -> io::Result<()>;
}

/// `emergency-stop.json` in a data directory.
#[derive(Debug, Clone)]
pub struct FileLatchStore {
    path: PathBuf,
}

/// The file's name inside `storage.data_dir`.
pub const LATCH_FILE: &str = "emergency-stop.json";

impl FileLatchStore {
    pub fn in_dir(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(LATCH_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Makes a rename or removal in `dir` durable (no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

impl LatchStore for FileLatchStore {
    fn load(&self) -> io::Result<Option<StopRecord>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save(&self, record: &StopRecord) -> io::Result<()> {
        let dir = self.dir();
        std::fs::create_dir_all(dir)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(record).map_err(io::Error::other)?)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(dir)
    }

    fn clear(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => sync_dir(self.dir()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Keeps the stop in memory only (benchmarks, unit tests): it does not survive a restart.
#[derive(Debug, Default)]
pub struct MemoryLatchStore(Mutex<Option<StopRecord>>);

impl LatchStore for MemoryLatchStore {
    fn load(&self) -> io::Result<Option<StopRecord>> {
        Ok(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn save(&self, record: &StopRecord) -> io::Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(record.clone());
        Ok(())
    }

    fn clear(&self) -> io::Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }
}

/// The latch itself, shared by the engine, the risk gate and the exchange gateway.
pub struct EmergencyLatch {
    /// Read on every order path; set before anything else when a stop comes in.
    engaged: AtomicBool,
    /// Wakes whatever waits for the stop (orders waiting for the gateway's limiter).
    engaged_signal: tokio::sync::Notify,
    record: Mutex<Option<StopRecord>>,
    store: Box<dyn LatchStore>,
    /// Serialises the cancel-and-flatten sweeps of concurrent stops on this engine.
    pub(super) sweep: tokio::sync::Mutex<()>,
    /// Flatten orders whose fills the position may not show yet: symbol → (order id, the
    /// position's fill count when it was sent). A later stop does not flatten that symbol
    /// again until the position has moved past that count, so it never sells twice.
    pub(super) pending_flattens:
        Mutex<Vec<(crate::domain::Symbol, crate::domain::ClientOrderId, u64)>>,
}

impl std::fmt::Debug for EmergencyLatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmergencyLatch")
            .field("engaged", &self.is_engaged())
            .finish_non_exhaustive()
    }
}

impl EmergencyLatch {
    /// Loads the stop in force from `store`. A stop that cannot be read still latches: an
    /// unreadable file is not proof that nobody stopped trading.
    pub fn load(store: Box<dyn LatchStore>) -> Self {
        let record = match store.load() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "emergency-stop record unreadable; starting halted");
                Some(StopRecord {
                    reason: format!("the emergency-stop record is unreadable ({e})"),
                    by: "engine".into(),
                    at: Utc::now(),
                    flatten: false,
                })
            }
        };
        if let Some(r) = &record {
            tracing::warn!(reason = %r.reason, by = %r.by, at = %r.at, "emergency stop in force from before the restart: trading halted until POST /v1/resume");
        }
        Self {
            engaged: AtomicBool::new(record.is_some()),
            engaged_signal: tokio::sync::Notify::new(),
            record: Mutex::new(record),
            store,
            sweep: tokio::sync::Mutex::new(()),
            pending_flattens: Mutex::new(Vec::new()),
        }
    }

    /// A latch that is not engaged and not kept across restarts.
    pub fn in_memory() -> Self {
        Self::load(Box::new(MemoryLatchStore::default()))
    }

    pub fn is_engaged(&self) -> bool {
        self.engaged.load(Ordering::SeqCst)
    }

    /// Completes once the latch is engaged (at once if it is).
    pub async fn engaged(&self) {
        loop {
            // Created before the check, so an engage between the two is not missed.
            let signal = self.engaged_signal.notified();
            if self.is_engaged() {
                return;
            }
            signal.await;
        }
    }

    pub fn record(&self) -> Option<StopRecord> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StopRecord>> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Engages the latch now, then records it durably. Returns the stop in force (the first
    /// one, if the latch was already engaged, which a second stop does not overwrite) and
    /// whether it was engaged already. A failed save leaves the latch engaged in memory and
    /// is returned for the caller to report.
    pub fn engage(&self, record: StopRecord) -> (StopRecord, bool, io::Result<()>) {
        let already = self.engaged.swap(true, Ordering::SeqCst);
        self.engaged_signal.notify_waiters();
        let mut current = self.lock();
        match &*current {
            Some(first) if already => (first.clone(), true, Ok(())),
            _ => {
                let saved = self.store.save(&record);
                *current = Some(record.clone());
                (record, already, saved)
            }
        }
    }

    /// Lifts the latch: forgets the durable record first, so a failure leaves it engaged.
    /// Returns the stop that was in force.
    pub fn release(&self) -> io::Result<Option<StopRecord>> {
        let mut current = self.lock();
        self.store.clear()?;
        self.engaged.store(false, Ordering::SeqCst);
        Ok(current.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(reason: &str) -> StopRecord {
        StopRecord {
            reason: reason.into(),
            by: "test".into(),
            at: Utc::now(),
            flatten: true,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("redline-latch-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_stop_survives_a_reload_and_only_release_lifts_it() {
        let dir = temp_dir("reload");
        let latch = EmergencyLatch::load(Box::new(FileLatchStore::in_dir(&dir)));
        assert!(!latch.is_engaged());
        let (held, already, saved) = latch.engage(record("first"));
        assert!(saved.is_ok() && !already && held.reason == "first");
        let (held, already, _) = latch.engage(record("second"));
        assert!(already);
        assert_eq!(held.reason, "first", "a second stop keeps the first record");

        let reloaded = EmergencyLatch::load(Box::new(FileLatchStore::in_dir(&dir)));
        assert!(reloaded.is_engaged());
        assert_eq!(reloaded.record().unwrap().reason, "first");

        assert_eq!(reloaded.release().unwrap().unwrap().reason, "first");
        assert!(!reloaded.is_engaged());
        let again = EmergencyLatch::load(Box::new(FileLatchStore::in_dir(&dir)));
        assert!(!again.is_engaged());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unreadable_record_starts_halted() {
        let dir = temp_dir("corrupt");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(LATCH_FILE), b"{not json").unwrap();
        let latch = EmergencyLatch::load(Box::new(FileLatchStore::in_dir(&dir)));
        assert!(latch.is_engaged());
        assert!(latch.record().unwrap().reason.contains("unreadable"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
