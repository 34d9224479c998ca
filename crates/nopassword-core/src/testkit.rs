//! A conformance suite that any [`CodeStore`] runs with one call (feature `testkit`).
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nopassword_core::{ManualClock, MemoryStore, testkit::{run_conformance, TimeControl}};
//!
//! let clock = ManualClock::new();
//! let store = Arc::new(MemoryStore::with_clock(clock.clone()));
//! run_conformance(store, TimeControl::Manual(clock)).await;
//! # });
//! ```

use std::{collections::HashSet, sync::Arc, time::Duration};

use tokio::sync::Barrier;

use crate::{CodeKey, CodeRecord, CodeRng, CodeStore, ManualClock, SystemRng};

/// How the suite makes time pass for expiry checks.
#[derive(Debug, Clone)]
pub enum TimeControl {
    /// The store measures time on this clock; the suite advances it.
    Manual(ManualClock),
    /// The store uses real time (Redis TTLs); the suite sleeps past short TTLs.
    Real,
}

impl TimeControl {
    async fn pass(&self, by: Duration) {
        match self {
            Self::Manual(clock) => clock.advance(by),
            Self::Real => tokio::time::sleep(by).await,
        }
    }
}

/// How many rounds the concurrent-take check runs.
pub const TAKE_ROUNDS: usize = 1_000;
/// How many tasks race to take one code in each round.
pub const TAKERS: usize = 64;

/// Runs every check; panics with a message naming the first that fails. Keys and user ids are
/// random, so the suite can share a store with other tests. Run it on a multi-threaded Tokio
/// runtime so that the concurrent checks really race.
pub async fn run_conformance(store: Arc<dyn CodeStore>, time: TimeControl) {
    put_get_take(&*store).await;
    get_does_not_consume(&*store).await;
    put_replaces(&*store).await;
    expiry(&*store, &time).await;
    code_failures(&*store).await;
    user_failures(&*store, &time).await;
    rate_counters(&*store, &time).await;
    capped_user_failures(&*store).await;
    concurrent_hits(&store).await;
    concurrent_user_failures(&store).await;
    concurrent_takes(&store).await;
}

fn random_key() -> CodeKey {
    let mut key = [0u8; 16];
    SystemRng.fill_bytes(&mut key);
    CodeKey::from_bytes(key)
}

fn random_name(prefix: &str) -> String {
    format!("{prefix}-{}", random_key().to_hex())
}

fn record(user_id: &str) -> CodeRecord {
    CodeRecord {
        user_id: user_id.to_owned(),
        verifier: vec![0xab; 16],
        code_check: vec![0xcd; 16],
        flow: vec![0xef; 16],
        next: Some("/after?x=1".into()),
        created_at: 1_767_225_600,
        expires_at: 1_767_226_500,
    }
}

const LONG: Duration = Duration::from_secs(900);

async fn put_get_take(store: &dyn CodeStore) {
    let key = random_key();
    let rec = record(&random_name("user"));
    store.put(&key, &rec, LONG).await.expect("put");
    let stored = store
        .get(&key)
        .await
        .expect("get")
        .expect("put then get finds the record");
    assert_eq!(stored.record, rec, "get returns the record as stored");
    assert_eq!(stored.failures, 0, "a new code has no failures");
    assert_eq!(
        store.take(&key).await.expect("take"),
        Some(rec),
        "take returns the record"
    );
    assert_eq!(
        store.take(&key).await.expect("take"),
        None,
        "a second take finds nothing"
    );
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "get after take finds nothing"
    );
    assert!(
        store.get(&random_key()).await.expect("get").is_none(),
        "unknown keys are absent"
    );
}

async fn get_does_not_consume(store: &dyn CodeStore) {
    let key = random_key();
    let rec = record(&random_name("user"));
    store.put(&key, &rec, LONG).await.expect("put");
    for _ in 0..3 {
        assert!(
            store.get(&key).await.expect("get").is_some(),
            "get must not consume"
        );
    }
    assert!(
        store.take(&key).await.expect("take").is_some(),
        "take after gets succeeds"
    );
}

async fn put_replaces(store: &dyn CodeStore) {
    let key = random_key();
    store.put(&key, &record("a"), LONG).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    store.put(&key, &record("b"), LONG).await.expect("put");
    let stored = store.get(&key).await.expect("get").expect("present");
    assert_eq!(stored.record.user_id, "b", "put replaces the record");
    assert_eq!(stored.failures, 0, "put starts a fresh failure count");
    store.take(&key).await.expect("take");
}

async fn expiry(store: &dyn CodeStore, time: &TimeControl) {
    let short = Duration::from_secs(1);
    let key = random_key();
    store.put(&key, &record("u"), short).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    assert!(
        store.get(&key).await.expect("get").is_some(),
        "live before its TTL"
    );
    time.pass(Duration::from_millis(1_600)).await;
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "get after the TTL finds nothing"
    );
    assert!(
        store.take(&key).await.expect("take").is_none(),
        "take after the TTL finds nothing"
    );
    assert_eq!(
        store.incr_code_failures(&key).await.expect("incr"),
        None,
        "an expired code has no failure counter to increment"
    );
}

async fn code_failures(store: &dyn CodeStore) {
    let key = random_key();
    assert_eq!(
        store.incr_code_failures(&key).await.expect("incr"),
        None,
        "no code, no count"
    );
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "counting must not create a code"
    );
    store.put(&key, &record("u"), LONG).await.expect("put");
    for expected in 1..=3 {
        assert_eq!(
            store.incr_code_failures(&key).await.expect("incr"),
            Some(expected)
        );
    }
    assert_eq!(
        store
            .get(&key)
            .await
            .expect("get")
            .expect("present")
            .failures,
        3
    );
    store.take(&key).await.expect("take");
    store.put(&key, &record("u"), LONG).await.expect("put");
    assert_eq!(
        store
            .get(&key)
            .await
            .expect("get")
            .expect("present")
            .failures,
        0,
        "the count dies with the code"
    );
    store.take(&key).await.expect("take");
}

async fn user_failures(store: &dyn CodeStore, time: &TimeControl) {
    let user = random_name("user");
    let other = random_name("user");
    assert_eq!(store.user_failures(&user).await.expect("read"), 0);
    for expected in 1..=3 {
        assert_eq!(
            store
                .incr_user_failures(&user, LONG, 100)
                .await
                .expect("incr"),
            Some(expected)
        );
    }
    assert_eq!(store.user_failures(&user).await.expect("read"), 3);
    assert_eq!(
        store.user_failures(&other).await.expect("read"),
        0,
        "counts are per user"
    );
    store.clear_user_failures(&user).await.expect("clear");
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        0,
        "clear resets"
    );
    store
        .incr_user_failures(&user, Duration::from_secs(1), 100)
        .await
        .expect("incr");
    time.pass(Duration::from_millis(1_600)).await;
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        0,
        "failures expire with their window"
    );
}

async fn capped_user_failures(store: &dyn CodeStore) {
    let user = random_name("user");
    for expected in 1..=3 {
        assert_eq!(
            store
                .incr_user_failures(&user, LONG, 3)
                .await
                .expect("incr"),
            Some(expected)
        );
    }
    for _ in 0..3 {
        assert_eq!(
            store
                .incr_user_failures(&user, LONG, 3)
                .await
                .expect("incr"),
            None,
            "a count at its cap is not incremented"
        );
    }
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        3,
        "the count never passes its cap"
    );
    store.clear_user_failures(&user).await.expect("clear");
}

async fn rate_counters(store: &dyn CodeStore, time: &TimeControl) {
    let bucket = random_name("bucket");
    let other = random_name("bucket");
    let window = Duration::from_secs(1);
    for expected in 1..=3 {
        assert_eq!(store.hit(&bucket, window).await.expect("hit"), expected);
    }
    assert_eq!(
        store.hit(&other, window).await.expect("hit"),
        1,
        "buckets are independent"
    );
    time.pass(Duration::from_millis(1_600)).await;
    assert_eq!(
        store.hit(&bucket, window).await.expect("hit"),
        1,
        "a new window starts at 1"
    );
}

async fn concurrent_hits(store: &Arc<dyn CodeStore>) {
    let bucket = Arc::new(random_name("bucket"));
    let barrier = Arc::new(Barrier::new(TAKERS));
    let tasks: Vec<_> = (0..TAKERS)
        .map(|_| {
            let (store, bucket, barrier) =
                (Arc::clone(store), Arc::clone(&bucket), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                store.hit(&bucket, LONG).await.expect("hit")
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for task in tasks {
        seen.insert(task.await.expect("task"));
    }
    let expected: HashSet<u32> = (1..=u32::try_from(TAKERS).unwrap_or(u32::MAX)).collect();
    assert_eq!(
        seen, expected,
        "concurrent hits must each see a distinct count"
    );
}

async fn concurrent_user_failures(store: &Arc<dyn CodeStore>) {
    let takers = u32::try_from(TAKERS).unwrap_or(u32::MAX);
    // Below the cap every concurrent failure counts; at the cap none passes it.
    for cap in [takers + 36, takers - 14] {
        let user = Arc::new(random_name("user"));
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|_| {
                let (store, user, barrier) =
                    (Arc::clone(store), Arc::clone(&user), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .incr_user_failures(&user, LONG, cap)
                        .await
                        .expect("incr")
                })
            })
            .collect();
        let mut seen = HashSet::new();
        let mut refused = 0;
        for task in tasks {
            match task.await.expect("task") {
                Some(count) => assert!(seen.insert(count), "count {count} seen twice"),
                None => refused += 1,
            }
        }
        let counted = takers.min(cap);
        assert_eq!(
            seen,
            (1..=counted).collect::<HashSet<u32>>(),
            "{TAKERS} concurrent failures under cap {cap} must count 1..={counted}"
        );
        assert_eq!(refused, TAKERS - seen.len(), "the rest are refused");
        assert_eq!(
            store.user_failures(&user).await.expect("read"),
            counted,
            "the count moved by exactly the failures counted"
        );
        store.clear_user_failures(&user).await.expect("clear");
    }
}

async fn concurrent_takes(store: &Arc<dyn CodeStore>) {
    let rec = record(&random_name("user"));
    for round in 0..TAKE_ROUNDS {
        let key = random_key();
        store.put(&key, &rec, LONG).await.expect("put");
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|_| {
                let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take(&key).await.expect("take")
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            if let Some(taken) = task.await.expect("task") {
                assert_eq!(taken, rec, "the winner gets the record");
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} of {TAKERS} concurrent takes won"
        );
    }
}
