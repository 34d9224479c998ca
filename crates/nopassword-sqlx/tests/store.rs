//! `PgStore` beyond the shared suite: attacks on single use and expiry, the sweep's bound,
//! what a row holds, and identifiers.

mod common;

use std::{sync::Arc, time::Duration};

use nopassword_core::{CodeStore, clock::ManualClock};
use nopassword_sqlx::{PgStore, PgStoreError, SWEEP_BATCH, SWEEP_BATCHES, sqlx};
use tokio::sync::Barrier;

use common::{key, record};

async fn rows(store: &PgStore, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .expect("count")
}

async fn manual(tag: &str, clock: &ManualClock) -> PgStore {
    PgStore::builder()
        .prefix(format!("{}_", common::unique(tag)))
        .sweep_interval(None)
        .clock(clock.clone())
        .connect(&common::database_url())
        .await
        .expect("connect")
}

/// Two app instances (two pools on the same tables) race 64 takes of each code: exactly one
/// wins, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takes_across_instances_have_one_winner() {
    let prefix = format!("{}_", common::unique("race"));
    let mut instances = Vec::new();
    for _ in 0..2 {
        instances.push(
            PgStore::builder()
                .prefix(prefix.clone())
                .sweep_interval(None)
                .connect(&common::database_url())
                .await
                .expect("connect"),
        );
    }
    for round in 0..100 {
        let key = key();
        instances[0]
            .put(&key, &record("u"), Duration::from_secs(60))
            .await
            .expect("put");
        let barrier = Arc::new(Barrier::new(64));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let store = instances[i % 2].clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take(&key).await.expect("take")
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task").is_some());
        }
        assert_eq!(winners, 1, "round {round}: {winners} winners");
    }
}

/// An expired row that the sweep has not deleted yet is never read, taken or counted on.
#[tokio::test]
async fn expired_rows_are_never_read() {
    let clock = ManualClock::new();
    let store = manual("exp", &clock).await;
    let key = key();
    store
        .put(&key, &record("u"), Duration::from_secs(10))
        .await
        .expect("put");
    clock.advance(Duration::from_millis(10_001));
    assert_eq!(
        rows(&store, store.tables().0).await,
        1,
        "the row is still there"
    );
    assert!(store.get(&key).await.expect("get").is_none());
    assert_eq!(store.incr_code_failures(&key).await.expect("incr"), None);
    assert!(store.take(&key).await.expect("take").is_none());
    assert_eq!(store.sweep().await.expect("sweep"), 1);
    assert_eq!(rows(&store, store.tables().0).await, 0);
}

/// One sweep deletes at most `SWEEP_BATCHES * SWEEP_BATCH` rows per table; the next one goes
/// on where it stopped, and live rows are never swept.
#[tokio::test]
async fn the_sweep_is_bounded_and_spares_live_rows() {
    let clock = ManualClock::new();
    let store = manual("sweep", &clock).await;
    let bound = SWEEP_BATCH * i64::from(SWEEP_BATCHES);
    let codes = store.tables().0.to_owned();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {codes} (key, record, expires_at) \
         SELECT decode(lpad(to_hex(n), 32, '0'), 'hex'), '\\x00', 0 FROM generate_series(1, $1) AS n"
    )))
    .bind(bound + 500)
    .execute(store.pool())
    .await
    .expect("expired rows");
    let live = key();
    store
        .put(&live, &record("live"), Duration::from_secs(60))
        .await
        .expect("put");
    assert_eq!(
        store.sweep().await.expect("sweep"),
        u64::try_from(bound).expect("bound")
    );
    assert_eq!(store.sweep().await.expect("sweep"), 500);
    assert_eq!(store.sweep().await.expect("sweep"), 0);
    assert_eq!(rows(&store, &codes).await, 1);
    assert!(store.take(&live).await.expect("take").is_some());
}

/// With the background sweep on, expired codes and counters leave the tables by themselves:
/// their size follows the live codes, not the codes ever issued.
#[tokio::test]
async fn the_background_sweep_keeps_the_tables_flat() {
    let clock = ManualClock::new();
    let store = PgStore::builder()
        .prefix(format!("{}_", common::unique("flat")))
        .sweep_interval(Some(Duration::from_millis(50)))
        .clock(clock.clone())
        .connect(&common::database_url())
        .await
        .expect("connect");
    for round in 0..3 {
        for _ in 0..200 {
            store
                .put(&key(), &record("u"), Duration::from_secs(5))
                .await
                .expect("put");
            store
                .hit(&format!("bucket-{round}"), Duration::from_secs(5))
                .await
                .expect("hit");
        }
        clock.advance(Duration::from_secs(6));
        let (codes, counters) = store.tables();
        let mut left = i64::MAX;
        for _ in 0..100 {
            left = rows(&store, codes).await + rows(&store, counters).await;
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(left, 0, "round {round}: expired rows were not swept");
    }
}

/// A row holds the key, the encoded record (keyed hashes only) and counters: nothing else.
#[tokio::test]
async fn a_row_holds_only_the_key_and_the_record() {
    let store = common::store("row").await;
    let key = key();
    let rec = record("user-7");
    store
        .put(&key, &rec, Duration::from_secs(60))
        .await
        .expect("put");
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(
        store
            .tables()
            .0
            .trim_start_matches("\"public\".\"")
            .trim_end_matches('"'),
    )
    .fetch_all(store.pool())
    .await
    .expect("columns");
    assert_eq!(columns, ["key", "record", "failures", "expires_at"]);
    let (stored_key, stored): (Vec<u8>, Vec<u8>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT key, record FROM {}",
        store.tables().0
    )))
    .fetch_one(store.pool())
    .await
    .expect("row");
    assert_eq!(stored_key, key.as_bytes());
    assert_eq!(stored, rec.encode());
}

/// Names that could break out of the SQL are refused before anything is sent; unusual but
/// valid names (upper case, `$`) are quoted and work.
#[tokio::test]
async fn identifiers_are_checked_and_quoted() {
    let url = common::database_url();
    for schema in ["public; DROP TABLE x", "a\"b", "a.b", "", "x--"] {
        let error = PgStore::builder()
            .schema(schema)
            .connect(&url)
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                PgStoreError::InvalidIdentifier { what: "schema", .. }
            ),
            "{schema:?}: {error}"
        );
    }
    for prefix in ["np\"; DROP TABLE x; --", "n p", "np'"] {
        let error = PgStore::builder()
            .prefix(prefix)
            .connect(&url)
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                PgStoreError::InvalidIdentifier {
                    what: "table prefix",
                    ..
                }
            ),
            "{prefix:?}: {error}"
        );
    }
    let schema = format!("Odd${}", common::unique("s"));
    let store = PgStore::builder()
        .schema(&schema)
        .prefix("Np_")
        .sweep_interval(None)
        .connect(&url)
        .await
        .expect("a quoted, mixed-case schema works");
    let key = key();
    store
        .put(&key, &record("u"), Duration::from_secs(60))
        .await
        .expect("put");
    assert!(store.take(&key).await.expect("take").is_some());
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
         WHERE table_schema = $1 AND table_name = 'Np_codes')",
    )
    .bind(&schema)
    .fetch_one(store.pool())
    .await
    .expect("query");
    assert!(exists, "the names are used exactly as written");
}

/// Building twice on the same tables (a second instance, a restart) runs no migration twice.
#[tokio::test]
async fn migrations_run_once_per_schema_and_prefix() {
    let prefix = format!("{}_", common::unique("mig"));
    for _ in 0..3 {
        PgStore::builder()
            .prefix(prefix.clone())
            .sweep_interval(None)
            .connect(&common::database_url())
            .await
            .expect("connect");
    }
    let store = PgStore::builder()
        .prefix(prefix.clone())
        .connect(&common::database_url())
        .await
        .expect("connect");
    let applied: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"public\".\"{prefix}migrations\""
    )))
    .fetch_one(store.pool())
    .await
    .expect("the store's own migrations table");
    assert_eq!(applied, 1);
}

/// `from_settings` needs a URL, and takes its table prefix from `namespace`.
#[tokio::test]
async fn settings_name_the_url_and_the_prefix() {
    use nopassword_core::Settings;
    use nopassword_sqlx::DatabaseSettings;

    let error = PgStore::from_settings(&Settings::default(), &DatabaseSettings::default())
        .await
        .expect_err("no URL");
    assert!(matches!(error, PgStoreError::MissingUrl));
    let settings = Settings {
        namespace: format!("shop-{}", common::unique("ns")),
        ..Settings::default()
    };
    let database = DatabaseSettings {
        database_url: Some(common::database_url().into()),
    };
    let store = PgStore::from_settings(&settings, &database)
        .await
        .expect("connect");
    assert!(
        store.tables().0.starts_with("\"public\".\"shop_t"),
        "{:?}",
        store.tables()
    );
}
