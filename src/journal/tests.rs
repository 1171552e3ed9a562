//! Journal tests on a temporary SQLite file and on the PostgreSQL at DATABASE_URL (default
//! postgres://postgres@127.0.0.1:5432/test), each test in a schema of its own.

use super::writer::{Flush, JournalWriter, Record, RecordDurable};
use super::*;
use actix::Actor;
use chrono::TimeZone;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn unique(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_subsec_nanos();
    format!("{tag}_{}_{nanos}_{n}", std::process::id())
}

fn temp_sqlite() -> std::path::PathBuf {
    std::env::temp_dir()
        .join(unique("redline_journal"))
        .join("journal.db")
}

/// A PostgreSQL store in a fresh schema, or `None` (after printing SKIPPED) when the server is
/// unreachable outside CI. Under CI=true an unreachable server fails the test.
async fn pg_store() -> Option<Store> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
    let schema = unique("redline_test");
    let attempt = async {
        let admin = PgConnectOptions::from_str(&url)?;
        let mut conn = sqlx::ConnectOptions::connect(&admin).await?;
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")),
        )
        .await?;
        Ok::<_, sqlx::Error>(admin.options([("search_path", schema.as_str())]))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), attempt).await {
        Ok(Ok(options)) => Some(Store::open_postgres(options).await.expect("migrate")),
        outcome => {
            let why = match outcome {
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".into(),
                Ok(Ok(_)) => unreachable!(),
            };
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "PostgreSQL not reachable ({why}); CI=true, so journal tests must not be skipped"
                );
            }
            eprintln!("SKIPPED: PostgreSQL not reachable ({why})");
            None
        }
    }
}

fn entry(i: i64, kind: EntryKind, order: Option<&str>) -> Entry {
    let ts = Utc
        .timestamp_millis_opt(1_700_000_000_000 + i)
        .single()
        .expect("valid ts");
    let mut e = Entry::new(
        ts,
        kind,
        &json!({"i": i, "qty": "0.00100000", "note": "héllo"}),
    )
    .symbol("BTCUSDT")
    .by("engine");
    if let Some(id) = order {
        e = e.order(id);
    }
    e
}

async fn append_read_and_refuse_changes(store: &Store) {
    let entries: Vec<Entry> = (0..1200)
        .map(|i| {
            let kind = EntryKind::ALL[i as usize % EntryKind::ALL.len()];
            entry(i, kind, (i % 100 == 0).then_some("rl-abc"))
        })
        .collect();
    store.append(&entries).await.expect("append");
    assert_eq!(store.count().await.unwrap(), 1200);
    // Read back in pages, in order, exactly as written (timestamps, Decimal strings, UTF-8).
    let mut got = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_after(after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        got.extend(page);
    }
    assert_eq!(got.len(), 1200);
    assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
    for (stored, original) in got.iter().zip(&entries) {
        assert_eq!(&stored.entry, original);
    }
    let for_order = store.for_order("rl-abc").await.unwrap();
    assert_eq!(for_order.len(), 12);
    // Audit rows can be neither changed nor removed.
    let errors: Vec<String> = match store {
        Store::Sqlite(pool) => vec![
            sqlx::query("UPDATE journal SET kind = 'x'")
                .execute(pool)
                .await
                .map(|_| ()),
            sqlx::query("DELETE FROM journal")
                .execute(pool)
                .await
                .map(|_| ()),
        ],
        Store::Postgres(pool) => vec![
            sqlx::query("UPDATE journal SET kind = 'x'")
                .execute(pool)
                .await
                .map(|_| ()),
            sqlx::query("DELETE FROM journal")
                .execute(pool)
                .await
                .map(|_| ()),
            sqlx::query("TRUNCATE journal")
                .execute(pool)
                .await
                .map(|_| ()),
        ],
    }
    .into_iter()
    .map(|r| r.expect_err("append-only").to_string())
    .collect();
    for err in errors {
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(store.count().await.unwrap(), 1200);
}

#[actix_rt::test]
async fn sqlite_appends_reads_back_and_refuses_changes() {
    let path = temp_sqlite();
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    append_read_and_refuse_changes(&store).await;
    // Reopening runs the migrations again harmlessly and keeps every row.
    drop(store);
    let again = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 1200);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[actix_rt::test]
async fn postgres_appends_reads_back_and_refuses_changes() {
    let Some(store) = pg_store().await else {
        return;
    };
    assert_eq!(store.backend(), "postgres");
    append_read_and_refuse_changes(&store).await;
    if let Store::Postgres(pool) = &store {
        // The scratch schema goes; the test database keeps nothing of this run.
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(pool)
            .await
            .unwrap();
    }
}

#[actix_rt::test]
async fn writer_keeps_arrival_order_and_answers_durable_writes_after_commit() {
    let path = temp_sqlite();
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let writer = JournalWriter::new(store.clone()).start();
    for i in 0..500 {
        writer.do_send(Record(entry(i, EntryKind::Signal, None)));
    }
    // The durable write answers only once it (and everything before it) is committed.
    writer
        .send(RecordDurable(entry(
            500,
            EntryKind::OrderIntent,
            Some("rl-x"),
        )))
        .await
        .unwrap()
        .unwrap();
    let committed = store.count().await.unwrap();
    assert!(committed >= 501, "committed {committed}");
    for i in 501..1000 {
        writer.do_send(Record(entry(i, EntryKind::Fill, None)));
    }
    writer.send(Flush).await.unwrap().unwrap();
    let all = store.read_after(0, 10_000).await.unwrap();
    assert_eq!(all.len(), 1000);
    for (i, stored) in all.iter().enumerate() {
        assert_eq!(stored.entry.payload["i"], json!(i), "row {i} out of order");
    }
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[actix_rt::test]
async fn a_durable_write_that_cannot_commit_is_reported_not_hidden() {
    let path = temp_sqlite();
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    // Break the table under the writer: every insert now fails.
    if let Store::Sqlite(pool) = &store {
        sqlx::query("DROP TRIGGER journal_no_delete")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("ALTER TABLE journal RENAME TO journal_gone")
            .execute(pool)
            .await
            .unwrap();
    }
    let writer = JournalWriter::new(store).start();
    let answer = writer
        .send(RecordDurable(entry(
            1,
            EntryKind::OrderIntent,
            Some("rl-y"),
        )))
        .await
        .unwrap();
    assert!(
        matches!(answer, Err(JournalError::Storage(_))),
        "{answer:?}"
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

mod recovery_from_events {
    use super::*;
    use crate::domain::{
        ClientOrderId, Fill, Order, OrderRequest, OrderStatus, Price, Qty, Side, Symbol,
    };
    use crate::events::EngineEvent;
    use crate::exchange::filters::Instruments;
    use crate::journal::events::entry_for;
    use crate::journal::recovery::Recovered;
    use std::str::FromStr;
    use std::sync::Arc;

    fn fill(id: &str, trade_id: u64, qty: &str) -> Fill {
        Fill {
            trade_id,
            symbol: Symbol::new("BTCUSDT").unwrap(),
            client_order_id: ClientOrderId::new(id).unwrap(),
            side: Side::Buy,
            quantity: Qty::from_str(qty).unwrap(),
            price: Price::from_str("60000").unwrap(),
            commission: Decimal::ZERO,
            commission_asset: Arc::from("BNB"),
            is_maker: false,
            ts: Utc::now(),
        }
    }

    fn order(id: &str, status: OrderStatus) -> Order {
        let request = OrderRequest::market(
            ClientOrderId::new(id).unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
            Side::Buy,
            Qty::from_str("0.02").unwrap(),
        );
        let mut o = Order::new(&request, None, None, Utc::now());
        o.status = status;
        o
    }

    use rust_decimal::Decimal;

    #[actix_rt::test]
    async fn fills_count_once_and_positions_follow_the_fills_not_the_snapshots() {
        let path = temp_sqlite();
        let store = Store::open(path.to_str().unwrap()).await.unwrap();
        let events = [
            // An adopted order's fill can be journaled before the order's own record.
            EngineEvent::FillApplied {
                fill: fill("ext-1", 7, "0.01"),
            },
            EngineEvent::OrderUpdated {
                order: order("ext-1", OrderStatus::PartiallyFilled),
            },
            // The same fill journaled twice counts once.
            EngineEvent::FillApplied {
                fill: fill("ext-1", 7, "0.01"),
            },
            EngineEvent::OrderUpdated {
                order: order("rl-a", OrderStatus::PendingNew),
            },
            EngineEvent::FillApplied {
                fill: fill("rl-a", 8, "0.02"),
            },
            // No position snapshot follows the last fill (the crash came first).
        ];
        let entries: Vec<Entry> = events.iter().map(entry_for).collect();
        store.append(&entries).await.unwrap();

        let r = Recovered::load(&store, Utc::now()).await.unwrap();
        assert_eq!(
            r.orders[&ClientOrderId::new("ext-1").unwrap()].applied_trade_ids,
            vec![7]
        );
        let pending = &r.orders[&ClientOrderId::new("rl-a").unwrap()];
        assert_eq!(pending.applied_trade_ids, vec![8]);
        assert_eq!(
            pending.status,
            OrderStatus::Unknown,
            "sent or not: resolved by query"
        );
        let instruments =
            Instruments::from_exchange_info_json(include_str!("../../config/exchange_info.json"))
                .unwrap();
        let positions = r.rebuild_positions(&instruments);
        assert_eq!(positions.len(), 1);
        assert_eq!(positions[0].quantity, Decimal::from_str("0.03").unwrap());
        assert_eq!(positions[0].fill_count, 2);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[actix_rt::test]
    async fn the_risk_day_and_paused_strategies_come_back() {
        let path = temp_sqlite();
        let store = Store::open(path.to_str().unwrap()).await.unwrap();
        let now = Utc::now();
        let events = [
            EngineEvent::RiskDayStarted {
                day: now.date_naive(),
                start_equity: Decimal::from_str("100000.5").unwrap(),
                ts: now,
            },
            EngineEvent::StrategyPaused {
                strategy: "a".into(),
                losses: 3,
                ts: now,
            },
            EngineEvent::StrategyPaused {
                strategy: "b".into(),
                losses: 3,
                ts: now,
            },
            EngineEvent::StrategyResumed {
                strategy: "b".into(),
                by: "ops".into(),
                ts: now,
            },
            EngineEvent::FillApplied {
                fill: fill("rl-x", 1, "0.01"),
            },
            EngineEvent::FillApplied {
                fill: fill("rl-x", 2, "0.01"),
            },
            EngineEvent::FillApplied {
                fill: fill("rl-y", 3, "0.01"),
            },
        ];
        let entries: Vec<Entry> = events.iter().map(entry_for).collect();
        store.append(&entries).await.unwrap();
        let r = Recovered::load(&store, now).await.unwrap();
        assert_eq!(
            r.risk_day,
            Some((now.date_naive(), Decimal::from_str("100000.5").unwrap()))
        );
        assert_eq!(r.paused_strategies.keys().collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(r.trades_on(now.date_naive()), 2, "two orders filled today");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
