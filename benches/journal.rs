//! Journal throughput on SQLite (a temp file, WAL, synchronous=FULL) and PostgreSQL
//! (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, in a scratch schema).
//!
//! `cargo bench --bench journal` prints, for each backend:
//! - ordinary entries: 200,000 `Record`s sent as fast as possible, then a `Flush`;
//! - durable entries: 20,000 `RecordDurable`s from 64 concurrent senders (order intents), each
//!   answered only after its commit.

use actix::{Actor, Addr};
use chrono::Utc;
use redline::journal::writer::{Flush, JournalWriter, Record, RecordDurable};
use redline::journal::{Entry, EntryKind, Store};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::Instant;

const ORDINARY: usize = 200_000;
const DURABLE: usize = 20_000;
const DURABLE_SENDERS: usize = 64;

fn entry(i: usize, kind: EntryKind) -> Entry {
    Entry::new(
        Utc::now(),
        kind,
        &json!({"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.00100000", "price": "60000.00", "i": i}),
    )
    .order(format!("rl-{i:032x}"))
    .symbol("BTCUSDT")
    .by("engine")
}

async fn run(name: &str, store: Store) {
    let writer: Addr<JournalWriter> = JournalWriter::new(store.clone()).start();
    let start = Instant::now();
    for i in 0..ORDINARY {
        writer.do_send(Record(entry(i, EntryKind::Fill)));
    }
    writer.send(Flush).await.expect("actor").expect("flush");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: ordinary entries: {ORDINARY} in {secs:.2} s = {:.0} entries/s",
        ORDINARY as f64 / secs
    );

    let start = Instant::now();
    let per_sender = DURABLE / DURABLE_SENDERS;
    let mut tasks = Vec::new();
    for s in 0..DURABLE_SENDERS {
        let writer = writer.clone();
        tasks.push(actix_rt::spawn(async move {
            for i in 0..per_sender {
                let e = entry(ORDINARY + s * per_sender + i, EntryKind::OrderIntent);
                writer
                    .send(RecordDurable(e))
                    .await
                    .expect("actor")
                    .expect("commit");
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let secs = start.elapsed().as_secs_f64();
    let n = per_sender * DURABLE_SENDERS;
    println!(
        "{name}: durable entries ({DURABLE_SENDERS} concurrent senders): {n} in {secs:.2} s = {:.0} entries/s, {:.0} µs per commit round trip",
        n as f64 / secs,
        secs * 1e6 / per_sender as f64
    );
    println!(
        "{name}: rows in journal: {}",
        store.count().await.expect("count")
    );
}

fn main() {
    actix_rt::System::new().block_on(async {
        let dir =
            std::env::temp_dir().join(format!("redline-journal-bench-{}", std::process::id()));
        let store = Store::open(dir.join("journal.db").to_str().expect("utf-8 path"))
            .await
            .expect("sqlite");
        run("sqlite", store).await;
        let _ = std::fs::remove_dir_all(&dir);

        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("redline_bench_{}", std::process::id());
        let admin = PgConnectOptions::from_str(&url).expect("DATABASE_URL");
        match sqlx::ConnectOptions::connect(&admin).await {
            Ok(mut conn) => {
                let create = format!("CREATE SCHEMA {schema}");
                sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(create))
                    .await
                    .expect("create schema");
                let store =
                    Store::open_postgres(admin.clone().options([("search_path", schema.as_str())]))
                        .await
                        .expect("postgres");
                run("postgres", store).await;
                let drop = format!("DROP SCHEMA {schema} CASCADE");
                let _ = sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(drop)).await;
            }
            Err(e) => println!("postgres: skipped ({e})"),
        }
    });
}
