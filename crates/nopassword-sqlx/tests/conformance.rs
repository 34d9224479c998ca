//! `PgStore` passes the store suite of `nopassword-conformance` against the PostgreSQL server
//! `cargo xtask test` starts: one test per check, each with tables of its own.

mod common;

/// Real time, as in production.
mod real_time {
    use std::sync::Arc;

    use nopassword_conformance::{store::Subject, store_suite};

    use super::common;

    store_suite!(async || Subject::real_time(Arc::new(common::store("conf").await)));
}

/// The store's clock injected: expiry measured on a manual clock, and once the check is over
/// everything it left behind is expired and swept.
mod manual_clock {
    use std::{sync::Arc, time::Duration};

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_core::clock::ManualClock;
    use nopassword_sqlx::PgStore;

    use super::common;

    store_suite!(async || {
        let clock = ManualClock::new();
        let store = PgStore::builder()
            .prefix(format!("{}_", common::unique("confm")))
            .sweep_interval(None)
            .clock(clock.clone())
            .connect(&common::database_url())
            .await
            .expect("connect to NOPASSWORD_TEST_DATABASE_URL");
        let after = (store.clone(), clock.clone());
        Subject::manual_clock(Arc::new(store), clock).after(move || {
            let (store, clock) = after;
            clock.advance(Duration::from_secs(24 * 3600));
            // `after` runs outside the runtime's tasks: count on a runtime of its own.
            let rows = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(async {
                        store.sweep().await.expect("sweep");
                        let (codes, counters) = store.tables();
                        let mut rows = 0i64;
                        for table in [codes, counters] {
                            let sql = format!("SELECT count(*) FROM {table}");
                            rows += sqlx_count(&store, sql).await;
                        }
                        rows
                    })
            })
            .join()
            .expect("the sweep thread");
            assert_eq!(
                rows, 0,
                "everything the check left behind expires and is swept"
            );
        })
    });

    async fn sqlx_count(store: &PgStore, sql: String) -> i64 {
        nopassword_sqlx::sqlx::query_scalar(nopassword_sqlx::sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .expect("count rows")
    }
}
