//! Where the journal lives. `Store::open` takes either a PostgreSQL URL (`postgres://...`) or a
//! SQLite file path; both run the embedded, versioned migrations (`migrations/{sqlite,postgres}`)
//! and refuse UPDATE and DELETE on journal rows with triggers.
//!
//! SQLite runs in WAL mode with `synchronous = FULL`: a commit is on disk when it returns, which
//! is what makes an order intent durable before the order is sent.

use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, SqlSafeStr};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use super::{Entry, EntryKind, JournalError, StoredEntry};

/// Rows per INSERT statement (well under both databases' bind-parameter limits).
const ROWS_PER_STATEMENT: usize = 500;

/// The journal's database. Cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

fn migrator(sqlite: bool) -> Migrator {
    let sql = if sqlite {
        include_str!("../../migrations/sqlite/0001_journal.sql")
    } else {
        include_str!("../../migrations/postgres/0001_journal.sql")
    };
    Migrator::with_migrations(vec![Migration::new(
        1,
        "journal".into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )])
}

impl Store {
    /// Opens (creating if needed) and migrates the journal at `target`: a `postgres://` or
    /// `postgresql://` URL, or else a SQLite file path (its directory is created).
    pub async fn open(target: &str) -> Result<Self, JournalError> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(target)?;
            Self::open_postgres(options).await
        } else {
            Self::open_sqlite(Path::new(target)).await
        }
    }

    /// A SQLite journal in the file at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| JournalError::Storage(format!("{}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        migrator(true).run(&pool).await?;
        Ok(Store::Sqlite(pool))
    }

    /// A PostgreSQL journal. `options` may set `search_path` (tests use a schema each).
    pub async fn open_postgres(options: PgConnectOptions) -> Result<Self, JournalError> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        migrator(false).run(&pool).await?;
        Ok(Store::Postgres(pool))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Appends `entries` in order, in one transaction: all of them or none.
    pub async fn append(&self, entries: &[Entry]) -> Result<(), JournalError> {
        if entries.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for chunk in entries.chunks(ROWS_PER_STATEMENT) {
                    let mut q = QueryBuilder::new(
                        "INSERT INTO journal (ts, kind, client_order_id, symbol, actor, payload) ",
                    );
                    q.push_values(chunk, |mut row, e| {
                        row.push_bind(e.ts)
                            .push_bind(e.kind.as_str())
                            .push_bind(e.client_order_id.as_deref())
                            .push_bind(e.symbol.as_deref())
                            .push_bind(e.actor.as_deref())
                            .push_bind(e.payload.to_string());
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for chunk in entries.chunks(ROWS_PER_STATEMENT) {
                    let mut q = QueryBuilder::new(
                        "INSERT INTO journal (ts, kind, client_order_id, symbol, actor, payload) ",
                    );
                    q.push_values(chunk, |mut row, e| {
                        row.push_bind(e.ts)
                            .push_bind(e.kind.as_str())
                            .push_bind(e.client_order_id.as_deref())
                            .push_bind(e.symbol.as_deref())
                            .push_bind(e.actor.as_deref())
                            .push_bind(e.payload.to_string())
                            .push_unseparated("::jsonb");
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Up to `limit` entries with `seq > after`, oldest first (recovery reads it all in pages).
    pub async fn read_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, JournalError> {
        const COLUMNS: &str = "seq, ts, kind, client_order_id, symbol, actor";
        match self {
            Store::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS}, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(decode_sqlite).collect()
            }
            Store::Postgres(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS}, payload::text AS payload FROM journal \
                     WHERE seq > $1 ORDER BY seq LIMIT $2"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(decode_pg).collect()
            }
        }
    }

    /// Every entry about one order, oldest first.
    pub async fn for_order(&self, client_order_id: &str) -> Result<Vec<StoredEntry>, JournalError> {
        match self {
            Store::Sqlite(pool) => {
                let rows = sqlx::query(
                    "SELECT seq, ts, kind, client_order_id, symbol, actor, payload FROM journal \
                     WHERE client_order_id = ? ORDER BY seq",
                )
                .bind(client_order_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(decode_sqlite).collect()
            }
            Store::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT seq, ts, kind, client_order_id, symbol, actor, payload::text AS payload \
                     FROM journal WHERE client_order_id = $1 ORDER BY seq",
                )
                .bind(client_order_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(decode_pg).collect()
            }
        }
    }

    /// How many entries the journal holds.
    pub async fn count(&self) -> Result<i64, JournalError> {
        let n = match self {
            Store::Sqlite(pool) => sqlx::query("SELECT COUNT(*) FROM journal")
                .fetch_one(pool)
                .await?
                .try_get::<i64, _>(0)?,
            Store::Postgres(pool) => sqlx::query("SELECT COUNT(*) FROM journal")
                .fetch_one(pool)
                .await?
                .try_get::<i64, _>(0)?,
        };
        Ok(n)
    }
}

/// Builds a stored entry from a row's parts, naming the row in any error.
fn assemble(
    seq: i64,
    ts: DateTime<Utc>,
    kind: &str,
    client_order_id: Option<String>,
    symbol: Option<String>,
    actor: Option<String>,
    payload: &str,
) -> Result<StoredEntry, JournalError> {
    let corrupt = |message: String| JournalError::Corrupt { seq, message };
    let kind = EntryKind::parse(kind).ok_or_else(|| corrupt(format!("unknown kind {kind:?}")))?;
    let payload = serde_json::from_str(payload).map_err(|e| corrupt(format!("payload: {e}")))?;
    Ok(StoredEntry {
        seq,
        entry: Entry {
            ts,
            kind,
            client_order_id,
            symbol,
            actor,
            payload,
        },
    })
}

fn decode_sqlite(row: &sqlx::sqlite::SqliteRow) -> Result<StoredEntry, JournalError> {
    let kind: String = row.try_get("kind")?;
    let payload: String = row.try_get("payload")?;
    assemble(
        row.try_get("seq")?,
        row.try_get("ts")?,
        &kind,
        row.try_get("client_order_id")?,
        row.try_get("symbol")?,
        row.try_get("actor")?,
        &payload,
    )
}

fn decode_pg(row: &sqlx::postgres::PgRow) -> Result<StoredEntry, JournalError> {
    let kind: String = row.try_get("kind")?;
    let payload: String = row.try_get("payload")?;
    assemble(
        row.try_get("seq")?,
        row.try_get("ts")?,
        &kind,
        row.try_get("client_order_id")?,
        row.try_get("symbol")?,
        row.try_get("actor")?,
        &payload,
    )
}
