//! The store checks, one function each; [`store_suite!`](crate::store_suite) makes a
//! `#[test]` of every one. Keys, user ids and bucket names are random, so checks can share a
//! server (or a store) with other tests.

use std::{collections::HashSet, sync::Arc, time::Duration};

use nopassword_core::{
    CodeRng,
    hashing::{CodeKey, SystemRng},
    store::CodeRecord,
};
use tokio::sync::Barrier;

use super::Subject;

/// How many rounds [`concurrent_takes`] runs.
pub const TAKE_ROUNDS: usize = 1_000;
/// How many tasks race in each concurrent check.
pub const TAKERS: usize = 64;

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
        device: None,
        approved: false,
    }
}

const LONG: Duration = Duration::from_secs(900);

/// A stored record reads back as stored, with no failures; `take` returns it once; unknown keys are absent.
pub async fn put_get_take(subject: &Subject) {
    let store = &subject.store;
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

/// `get` leaves the record in place, however often it is called.
pub async fn get_does_not_consume(subject: &Subject) {
    let store = &subject.store;
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

/// `put` on a live key replaces its record and starts a fresh failure count.
pub async fn put_replaces(subject: &Subject) {
    let store = &subject.store;
    let key = random_key();
    store.put(&key, &record("a"), LONG).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    store.put(&key, &record("b"), LONG).await.expect("put");
    let stored = store.get(&key).await.expect("get").expect("present");
    assert_eq!(stored.record.user_id, "b", "put replaces the record");
    assert_eq!(stored.failures, 0, "put starts a fresh failure count");
    store.take(&key).await.expect("take");
}

/// After its TTL a code is gone for `get`, `take` and `incr_code_failures`.
pub async fn expiry(subject: &Subject) {
    let store = &subject.store;
    let short = Duration::from_secs(1);
    let key = random_key();
    store.put(&key, &record("u"), short).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    assert!(
        store.get(&key).await.expect("get").is_some(),
        "live before its TTL"
    );
    subject.time.pass(Duration::from_millis(1_600)).await;
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

/// A code's failure count starts at 0, counts up, never creates a code, and dies with it.
pub async fn code_failures(subject: &Subject) {
    let store = &subject.store;
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

/// User failure counts go up per user, clear to 0, and expire with their window.
pub async fn user_failures(subject: &Subject) {
    let store = &subject.store;
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
    subject.time.pass(Duration::from_millis(1_600)).await;
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        0,
        "failures expire with their window"
    );
}

/// A user's failure count stops at its cap: increments at the cap are refused.
pub async fn capped_user_failures(subject: &Subject) {
    let store = &subject.store;
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

/// Rate buckets count hits independently and start again at 1 in a new window.
pub async fn rate_counters(subject: &Subject) {
    let store = &subject.store;
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
    subject.time.pass(Duration::from_millis(1_600)).await;
    assert_eq!(
        store.hit(&bucket, window).await.expect("hit"),
        1,
        "a new window starts at 1"
    );
}

/// [`TAKERS`] concurrent hits on one bucket each see a distinct count.
pub async fn concurrent_hits(subject: &Subject) {
    let store = &subject.store;
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

/// [`TAKERS`] concurrent user failures count exactly, under a cap above and below their number.
pub async fn concurrent_user_failures(subject: &Subject) {
    let store = &subject.store;
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

/// Of [`TAKERS`] concurrent takes of one code, exactly one wins, for [`TAKE_ROUNDS`] rounds.
pub async fn concurrent_takes(subject: &Subject) {
    let store = &subject.store;
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

/// A store that serves calls is healthy: [`health`](nopassword_core::CodeStore::health)
/// answers `Ok` within a second, before and after use.
pub async fn healthy_while_serving(subject: &Subject) {
    let store = &subject.store;
    let within = Duration::from_secs(1);
    let health = tokio::time::timeout(within, store.health()).await;
    assert!(
        matches!(health, Ok(Ok(()))),
        "a fresh store is healthy within {within:?}: {health:?}"
    );
    let key = random_key();
    store
        .put(&key, &record(&random_name("user")), LONG)
        .await
        .expect("put");
    store.take(&key).await.expect("take");
    let health = tokio::time::timeout(within, store.health()).await;
    assert!(
        matches!(health, Ok(Ok(()))),
        "a store in use is healthy: {health:?}"
    );
}

/// `hit_and_get` counts the bucket and reads every key in order (absent keys as `None`, a
/// code's failures with it); without a bucket it only reads. `hits` counts every bucket.
pub async fn combined_reads_and_hits(subject: &Subject) {
    let store = &subject.store;
    let (present, absent) = (random_key(), random_key());
    let rec = record(&random_name("user"));
    store.put(&present, &rec, LONG).await.expect("put");
    store.incr_code_failures(&present).await.expect("incr");
    let bucket = random_name("bucket");
    let minute = Duration::from_secs(60);
    store.hit(&bucket, minute).await.expect("hit");
    let (hits, codes) = store
        .hit_and_get(Some((&bucket, minute)), &[absent, present])
        .await
        .expect("hit_and_get");
    assert_eq!(hits, Some(2), "hit_and_get counts the bucket");
    assert_eq!(codes.len(), 2, "one answer per key");
    assert!(codes[0].is_none(), "an absent key reads as None");
    let stored = codes[1].as_ref().expect("the stored code is read");
    assert_eq!(
        (&stored.record, stored.failures),
        (&rec, 1),
        "the record with its failures"
    );
    let (hits, codes) = store
        .hit_and_get(None, &[present])
        .await
        .expect("hit_and_get");
    assert_eq!(hits, None, "no bucket, no count");
    assert!(codes[0].is_some(), "reading does not consume");
    // A flow whose codes are all gone: the hit still counts, and is reported.
    let (hits, codes) = store
        .hit_and_get(Some((&bucket, minute)), &[absent])
        .await
        .expect("hit_and_get with no live code");
    assert_eq!(hits, Some(3), "the hit counts when no code is live");
    assert_eq!(codes.len(), 1, "one answer per key");
    assert!(codes[0].is_none(), "an absent key reads as None");
    let other = random_name("bucket");
    assert_eq!(
        store
            .hits(&[(&bucket, minute), (&other, minute)])
            .await
            .expect("hits"),
        vec![4, 1],
        "hits counts each bucket in order"
    );
}

/// `put_counted` stores within the limit and leaves nothing over it; the count goes on.
pub async fn put_counted_limits(subject: &Subject) {
    let store = &subject.store;
    let bucket = random_name("send");
    let hour = Duration::from_secs(3600);
    let rec = record(&random_name("user"));
    let (first, second) = (random_key(), random_key());
    assert_eq!(
        store
            .put_counted(&first, &rec, LONG, (&bucket, hour), 1)
            .await
            .expect("put_counted"),
        1
    );
    assert!(
        store.get(&first).await.expect("get").is_some(),
        "within the limit the code is stored"
    );
    assert_eq!(
        store
            .put_counted(&second, &rec, LONG, (&bucket, hour), 1)
            .await
            .expect("put_counted"),
        2
    );
    assert!(
        store.get(&second).await.expect("get").is_none(),
        "over the limit no code stays"
    );
    // Over the limit, not even a code the key already held (a repeat of a call whose reply
    // was lost): the count returned and the store agree.
    assert_eq!(
        store
            .put_counted(&first, &rec, LONG, (&bucket, hour), 1)
            .await
            .expect("put_counted"),
        3
    );
    assert!(
        store.get(&first).await.expect("get").is_none(),
        "over the limit the key holds no code, even one stored before"
    );
}

/// `count_user_try`: wrong tries count up to the cap, a right one resets the count, and at
/// the cap even a right one is refused and resets nothing.
pub async fn user_tries(subject: &Subject) {
    let store = &subject.store;
    let user = random_name("user");
    assert_eq!(
        store
            .count_user_try(&user, LONG, 3, false)
            .await
            .expect("count"),
        Some(1)
    );
    assert_eq!(
        store
            .count_user_try(&user, LONG, 3, false)
            .await
            .expect("count"),
        Some(2)
    );
    assert_eq!(
        store
            .count_user_try(&user, LONG, 3, true)
            .await
            .expect("count"),
        Some(0),
        "a right try resets"
    );
    assert_eq!(store.user_failures(&user).await.expect("read"), 0);
    for expected in 1..=3 {
        assert_eq!(
            store
                .count_user_try(&user, LONG, 3, false)
                .await
                .expect("count"),
            Some(expected)
        );
    }
    assert_eq!(
        store
            .count_user_try(&user, LONG, 3, true)
            .await
            .expect("count"),
        None,
        "locked out: a right try is refused"
    );
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        3,
        "and resets nothing"
    );
}

/// `use_code`: wrong tries count and the last allowed one withdraws; a right try within the
/// attempts takes the record once; a try past them withdraws even a right one; a gone code
/// counts nothing.
pub async fn code_uses(subject: &Subject) {
    use nopassword_core::store::CodeUse;
    let store = &subject.store;
    let rec = record(&random_name("user"));
    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    assert_eq!(
        store.use_code(&key, 3, false).await.expect("use"),
        CodeUse::Refused { tries: 1 }
    );
    assert_eq!(
        store.get(&key).await.expect("get").map(|s| s.failures),
        Some(1),
        "a refused try is counted on the code"
    );
    assert_eq!(
        store.use_code(&key, 3, false).await.expect("use"),
        CodeUse::Refused { tries: 2 }
    );
    assert_eq!(
        store.use_code(&key, 3, true).await.expect("use"),
        CodeUse::Taken(rec.clone()),
        "a right try at the last attempt takes the code"
    );
    assert_eq!(
        store.use_code(&key, 3, true).await.expect("use"),
        CodeUse::Gone,
        "single use"
    );
    assert!(store.get(&key).await.expect("get").is_none());

    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    for tries in 1..3 {
        assert_eq!(
            store.use_code(&key, 3, false).await.expect("use"),
            CodeUse::Refused { tries }
        );
    }
    assert_eq!(
        store.use_code(&key, 3, false).await.expect("use"),
        CodeUse::Withdrawn { tries: 3 },
        "the last wrong try withdraws"
    );
    assert!(store.get(&key).await.expect("get").is_none());

    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    assert_eq!(
        store.use_code(&key, 1, true).await.expect("use"),
        CodeUse::Withdrawn { tries: 2 },
        "past its attempts even a right try withdraws"
    );
    assert!(store.get(&key).await.expect("get").is_none());
}

/// Of [`TAKERS`] concurrent right tries at one code exactly one takes it, and no count passes
/// the attempts; `take_and_reset` takes once and resets the user's count.
pub async fn concurrent_code_uses(subject: &Subject) {
    use nopassword_core::store::CodeUse;
    let store = &subject.store;
    let rec = record(&random_name("user"));
    for round in 0..TAKE_ROUNDS / 10 {
        let key = random_key();
        store.put(&key, &rec, LONG).await.expect("put");
        // Even rounds: right tries only, attempts to spare (exactly one wins). Odd rounds:
        // wrong tries race with right ones past a limit of 5 (at most one wins).
        let mixed = round % 2 == 1;
        let max = if mixed { 5 } else { 100 };
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|i| {
                let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .use_code(&key, max, !mixed || i % 2 == 0)
                        .await
                        .expect("use")
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            match task.await.expect("task") {
                CodeUse::Taken(taken) => {
                    assert_eq!(taken, rec, "the winner gets the record");
                    winners += 1;
                }
                CodeUse::Refused { tries } | CodeUse::Withdrawn { tries } => {
                    assert!(tries <= 64, "tries counted: {tries}");
                }
                CodeUse::Gone => {}
            }
        }
        assert!(
            winners == 1 || (mixed && winners == 0),
            "round {round}: {winners} of {TAKERS} concurrent tries took the code"
        );
        assert!(
            store.get(&key).await.expect("get").is_none(),
            "round {round}: the code is gone after the race"
        );
    }
    let user = random_name("user");
    store
        .incr_user_failures(&user, LONG, 100)
        .await
        .expect("incr");
    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    assert_eq!(
        store.take_and_reset(&key, &user).await.expect("take"),
        Some(rec)
    );
    assert_eq!(store.user_failures(&user).await.expect("read"), 0);
    assert_eq!(store.take_and_reset(&key, &user).await.expect("take"), None);
}

/// `record` with its `next` and `device` set or not, so the record's flags byte takes every
/// combination beside the approved bit (0x01 next, 0x04 device).
fn records_of_every_shape(user_id: &str) -> Vec<CodeRecord> {
    let mut shapes = Vec::new();
    for next in [None, Some("/after?x=1".to_owned())] {
        for device in [None, Some("Firefox, Linux".to_owned())] {
            shapes.push(CodeRecord {
                next: next.clone(),
                device,
                ..record(user_id)
            });
        }
    }
    shapes
}

fn approved(rec: &CodeRecord) -> CodeRecord {
    CodeRecord {
        approved: true,
        ..rec.clone()
    }
}

/// `approve` replaces a present, unapproved, untried code by its approved record and returns
/// the one it replaced; `get` and `hit_and_get` (the poll) then read the approved record,
/// which `take` and `take_and_reset` take once. A second approval, an approval of an unknown
/// key, of a record stored approved, or of a code tried and refused before (a counted failure,
/// a wrong `use_code`) returns `None` and changes nothing.
pub async fn approvals(subject: &Subject) {
    use nopassword_core::store::CodeUse;
    let store = &subject.store;
    for rec in records_of_every_shape(&random_name("user")) {
        let key = random_key();
        let yes = approved(&rec);
        store.put(&key, &rec, LONG).await.expect("put");
        assert_eq!(
            store.approve(&key, &yes, LONG).await.expect("approve"),
            Some(rec.clone()),
            "an unapproved, untried code is approved, and the replaced record returned ({rec:?})"
        );
        let stored = store.get(&key).await.expect("get").expect("still there");
        assert_eq!(
            (&stored.record, stored.failures),
            (&yes, 0),
            "get reads the approved record"
        );
        let (_, polled) = store.hit_and_get(None, &[key]).await.expect("poll");
        assert_eq!(
            polled[0].as_ref().map(|s| &s.record),
            Some(&yes),
            "hit_and_get (the poll) reads the approved record"
        );
        assert_eq!(
            store.approve(&key, &yes, LONG).await.expect("approve"),
            None,
            "an approved code is not approved again"
        );
        assert_eq!(
            store.get(&key).await.expect("get").map(|s| s.record),
            Some(yes.clone()),
            "a refused approval changes nothing"
        );
        assert_eq!(
            store.take(&key).await.expect("take"),
            Some(yes),
            "take takes the approved record"
        );
        assert_eq!(store.take(&key).await.expect("take"), None, "once");
        assert_eq!(
            store
                .approve(&key, &approved(&rec), LONG)
                .await
                .expect("approve"),
            None,
            "a taken code is not approved"
        );
        assert!(
            store.get(&key).await.expect("get").is_none(),
            "a refused approval creates nothing"
        );
    }

    let rec = record(&random_name("user"));
    let yes = approved(&rec);
    let unknown = random_key();
    assert_eq!(
        store.approve(&unknown, &yes, LONG).await.expect("approve"),
        None,
        "an unknown code is not approved"
    );
    assert!(
        store.get(&unknown).await.expect("get").is_none(),
        "approving an unknown code creates nothing"
    );

    // Stored approved already: approve refuses (the record's approved flag, not only a
    // previous approve call, counts).
    let key = random_key();
    store.put(&key, &yes, LONG).await.expect("put");
    assert_eq!(
        store.approve(&key, &yes, LONG).await.expect("approve"),
        None,
        "a record stored approved is not approved again"
    );
    assert_eq!(
        store.get(&key).await.expect("get").map(|s| s.record),
        Some(yes.clone())
    );
    store.take(&key).await.expect("take");

    // Tried and refused before: a counted failure, or a wrong use.
    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    assert_eq!(store.incr_code_failures(&key).await.expect("incr"), Some(1));
    assert_eq!(
        store.approve(&key, &yes, LONG).await.expect("approve"),
        None,
        "a code with a refused try is not approved"
    );
    let stored = store.get(&key).await.expect("get").expect("still there");
    assert_eq!(
        (&stored.record, stored.failures),
        (&rec, 1),
        "the refused approval left the record and its count alone"
    );
    store.take(&key).await.expect("take");
    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    assert_eq!(
        store.use_code(&key, 5, false).await.expect("use"),
        CodeUse::Refused { tries: 1 }
    );
    assert_eq!(
        store.approve(&key, &yes, LONG).await.expect("approve"),
        None,
        "a code tried with a wrong code is not approved"
    );
    assert_eq!(
        store
            .get(&key)
            .await
            .expect("get")
            .map(|s| (s.record, s.failures)),
        Some((rec.clone(), 1))
    );
    store.take(&key).await.expect("take");

    // A fresh put after a refused try starts a fresh count: approvable again.
    let key = random_key();
    store.put(&key, &rec, LONG).await.expect("put");
    store.incr_code_failures(&key).await.expect("incr");
    store.put(&key, &rec, LONG).await.expect("put");
    assert_eq!(
        store.approve(&key, &yes, LONG).await.expect("approve"),
        Some(rec.clone()),
        "put starts a fresh count"
    );

    // The end of an approved login: take_and_reset takes the approved record once.
    let user = rec.user_id.clone();
    store
        .incr_user_failures(&user, LONG, 100)
        .await
        .expect("incr");
    assert_eq!(
        store.take_and_reset(&key, &user).await.expect("take"),
        Some(yes)
    );
    assert_eq!(store.user_failures(&user).await.expect("read"), 0);
    assert_eq!(store.take_and_reset(&key, &user).await.expect("take"), None);
}

/// An approved record keeps the code's expiry: approving a code one second before it expires
/// (with `ttl`, as the service passes it, the time left) does not give it longer, and the
/// approved record is gone when the code would have been.
pub async fn approval_keeps_expiry(subject: &Subject) {
    let store = &subject.store;
    let rec = record(&random_name("user"));
    let key = random_key();
    store
        .put(&key, &rec, Duration::from_secs(2))
        .await
        .expect("put");
    subject.time.pass(Duration::from_secs(1)).await;
    assert_eq!(
        store
            .approve(&key, &approved(&rec), Duration::from_secs(1))
            .await
            .expect("approve"),
        Some(rec.clone())
    );
    assert!(
        store.get(&key).await.expect("get").is_some(),
        "approved, before the code's expiry"
    );
    // 2.4 s after the put: past the code's expiry, well before a TTL renewed at approval.
    subject.time.pass(Duration::from_millis(1_400)).await;
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "the approved record expires with the code"
    );
    assert_eq!(store.take(&key).await.expect("take"), None);
    assert_eq!(
        store
            .approve(&key, &approved(&rec), LONG)
            .await
            .expect("approve"),
        None,
        "an expired code is not approved"
    );
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "approving an expired code creates nothing"
    );
}

/// Of [`TAKERS`] concurrent approvals of one code (each with a record of its own) exactly one
/// wins, its record stays in place, and pollers reading the key all along never find it empty.
/// In odd rounds wrong tries race with the approvals: then at most one approval wins, and the
/// key is never empty either (the code survives both).
pub async fn concurrent_approvals(subject: &Subject) {
    use nopassword_core::store::CodeUse;
    let store = &subject.store;
    let rec = record(&random_name("user"));
    for round in 0..TAKE_ROUNDS / 10 {
        let key = random_key();
        store.put(&key, &rec, LONG).await.expect("put");
        let mixed = round % 2 == 1;
        let racing = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let pollers: Vec<_> = (0..2)
            .map(|_| {
                let (store, racing) = (Arc::clone(store), Arc::clone(&racing));
                tokio::spawn(async move {
                    let mut reads = 0u32;
                    loop {
                        let done = !racing.load(std::sync::atomic::Ordering::SeqCst);
                        let (_, polled) = store.hit_and_get(None, &[key]).await.expect("poll");
                        assert!(polled[0].is_some(), "a poll found the key empty mid-race");
                        reads += 1;
                        if done {
                            return reads;
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|i| {
                let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
                let mine = CodeRecord {
                    device: Some(format!("approver {i}")),
                    ..approved(&rec)
                };
                tokio::spawn(async move {
                    barrier.wait().await;
                    if mixed && i % 2 == 1 {
                        let used = store.use_code(&key, 1_000, false).await.expect("use");
                        assert!(
                            matches!(used, CodeUse::Refused { .. }),
                            "a wrong try at a live code is refused: {used:?}"
                        );
                        None
                    } else {
                        store
                            .approve(&key, &mine, LONG)
                            .await
                            .expect("approve")
                            .map(|replaced| (replaced, mine))
                    }
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            if let Some((replaced, mine)) = task.await.expect("task") {
                assert_eq!(replaced, rec, "the winner replaced the unapproved record");
                winners.push(mine);
            }
        }
        racing.store(false, std::sync::atomic::Ordering::SeqCst);
        for poller in pollers {
            assert!(poller.await.expect("poller") > 0);
        }
        let stored = store
            .get(&key)
            .await
            .expect("get")
            .expect("the code outlives the race");
        match winners.as_slice() {
            [winner] => assert_eq!(
                &stored.record, winner,
                "round {round}: the winner's approved record is in place"
            ),
            [] if mixed => {
                assert_eq!(stored.record, rec, "round {round}: no approval, no change");
                assert!(stored.failures > 0, "round {round}: a wrong try came first");
            }
            _ => panic!(
                "round {round}: {} of {TAKERS} concurrent approvals won",
                winners.len()
            ),
        }
        store.take(&key).await.expect("take");
    }
}

/// [`TAKERS`] concurrent `hits` on the same two buckets, half of them naming the buckets in
/// the other order: each bucket sees every count from 1 to [`TAKERS`] once (no hit lost, none
/// counted twice, no call failing because two calls wait for each other's bucket).
pub async fn concurrent_multi_bucket_hits(subject: &Subject) {
    let store = &subject.store;
    let (a, b) = (random_name("bucket"), random_name("bucket"));
    let buckets = Arc::new((a, b));
    let barrier = Arc::new(Barrier::new(TAKERS));
    let tasks: Vec<_> = (0..TAKERS)
        .map(|i| {
            let (store, buckets, barrier) = (
                Arc::clone(store),
                Arc::clone(&buckets),
                Arc::clone(&barrier),
            );
            tokio::spawn(async move {
                let (a, b) = (buckets.0.as_str(), buckets.1.as_str());
                barrier.wait().await;
                if i % 2 == 0 {
                    let counts = store.hits(&[(a, LONG), (b, LONG)]).await.expect("hits");
                    (counts[0], counts[1])
                } else {
                    let counts = store.hits(&[(b, LONG), (a, LONG)]).await.expect("hits");
                    (counts[1], counts[0])
                }
            })
        })
        .collect();
    let (mut seen_a, mut seen_b) = (HashSet::new(), HashSet::new());
    for task in tasks {
        let (a, b) = task.await.expect("task");
        assert!(seen_a.insert(a), "count {a} of the first bucket seen twice");
        assert!(
            seen_b.insert(b),
            "count {b} of the second bucket seen twice"
        );
    }
    let expected: HashSet<u32> = (1..=u32::try_from(TAKERS).unwrap_or(u32::MAX)).collect();
    assert_eq!(
        seen_a, expected,
        "every hit on the first bucket counted once"
    );
    assert_eq!(
        seen_b, expected,
        "every hit on the second bucket counted once"
    );
}

/// [`TAKERS`] concurrent `put_counted` of distinct codes on one send bucket with a limit of
/// 20: the counts are 1 to [`TAKERS`], each once, and exactly the codes counted within the
/// limit are stored.
pub async fn concurrent_put_counted(subject: &Subject) {
    let store = &subject.store;
    let limit = 20;
    let bucket = Arc::new(random_name("send"));
    let rec = record(&random_name("user"));
    let barrier = Arc::new(Barrier::new(TAKERS));
    let tasks: Vec<_> = (0..TAKERS)
        .map(|_| {
            let (store, bucket, barrier, rec) = (
                Arc::clone(store),
                Arc::clone(&bucket),
                Arc::clone(&barrier),
                rec.clone(),
            );
            tokio::spawn(async move {
                let key = random_key();
                barrier.wait().await;
                let count = store
                    .put_counted(&key, &rec, LONG, (&bucket, LONG), limit)
                    .await
                    .expect("put_counted");
                (key, count)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TAKERS);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let counts: HashSet<u32> = results.iter().map(|(_, count)| *count).collect();
    assert_eq!(
        counts,
        (1..=u32::try_from(TAKERS).unwrap_or(u32::MAX)).collect::<HashSet<u32>>(),
        "each concurrent put_counted sees a distinct count"
    );
    for (key, count) in &results {
        let stored = store.get(key).await.expect("get").is_some();
        assert_eq!(
            stored,
            *count <= limit,
            "the code counted {count} is stored exactly when within the limit of {limit}"
        );
    }
}

/// Of [`TAKERS`] concurrent `take_and_reset` calls on one code exactly one gets the record, for
/// [`TAKE_ROUNDS`]` / 10` rounds, and the user's failure count is reset.
pub async fn concurrent_take_and_reset(subject: &Subject) {
    let store = &subject.store;
    let user = Arc::new(random_name("user"));
    let rec = record(&user);
    for round in 0..TAKE_ROUNDS / 10 {
        store
            .incr_user_failures(&user, LONG, 100)
            .await
            .expect("incr");
        let key = random_key();
        store.put(&key, &rec, LONG).await.expect("put");
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|_| {
                let (store, user, barrier) =
                    (Arc::clone(store), Arc::clone(&user), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.take_and_reset(&key, &user).await.expect("take")
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
            "round {round}: {winners} of {TAKERS} concurrent take_and_reset calls won"
        );
        assert_eq!(
            store.user_failures(&user).await.expect("read"),
            0,
            "round {round}: the winner reset the user's failures"
        );
    }
}

/// The combined operations see expiry as the single ones do: an expired code is gone for
/// `use_code` (nothing counted) and `take_and_reset`; an expired rate window starts again at
/// 1 for `hits` and `put_counted`; an expired lockout no longer refuses a right
/// `count_user_try`.
pub async fn combined_ops_respect_expiry(subject: &Subject) {
    use nopassword_core::store::CodeUse;
    let store = &subject.store;
    let short = Duration::from_secs(1);
    let user = random_name("user");
    let rec = record(&user);
    let (used, taken) = (random_key(), random_key());
    store.put(&used, &rec, short).await.expect("put");
    store.put(&taken, &rec, short).await.expect("put");
    let (bucket, send) = (random_name("bucket"), random_name("send"));
    assert_eq!(
        store.hits(&[(&bucket, short)]).await.expect("hits"),
        vec![1]
    );
    let counted = random_key();
    assert_eq!(
        store
            .put_counted(&counted, &rec, LONG, (&send, short), 5)
            .await
            .expect("put_counted"),
        1
    );
    for expected in 1..=2 {
        assert_eq!(
            store
                .count_user_try(&user, short, 2, false)
                .await
                .expect("count"),
            Some(expected)
        );
    }
    assert_eq!(
        store
            .count_user_try(&user, short, 2, true)
            .await
            .expect("count"),
        None,
        "locked out within the window"
    );
    subject.time.pass(Duration::from_millis(1_600)).await;
    assert_eq!(
        store.use_code(&used, 5, true).await.expect("use"),
        CodeUse::Gone,
        "an expired code is gone for use_code"
    );
    assert_eq!(
        store.take_and_reset(&taken, &user).await.expect("take"),
        None,
        "an expired code is gone for take_and_reset"
    );
    assert_eq!(
        store.hits(&[(&bucket, short)]).await.expect("hits"),
        vec![1],
        "hits starts a new window"
    );
    let again = random_key();
    assert_eq!(
        store
            .put_counted(&again, &rec, LONG, (&send, short), 5)
            .await
            .expect("put_counted"),
        1,
        "put_counted starts a new window"
    );
    assert_eq!(
        store
            .count_user_try(&user, short, 2, true)
            .await
            .expect("count"),
        Some(0),
        "an expired lockout no longer refuses a right try"
    );
    assert_eq!(store.user_failures(&user).await.expect("read"), 0);
    store.take(&counted).await.expect("take");
    store.take(&again).await.expect("take");
}

/// One failure short of the cap (2 of 3), wrong and right tries race, round after round: a
/// wrong try that reaches the cap locks the user out for every try judged after it, so at
/// most one reaches it, and if one does the count stays at the cap. A right try must judge
/// the count as it is (a store that counts a right try and then clears it could clear a
/// lockout another request had just reached).
pub async fn a_failure_at_the_cap_is_never_reset(subject: &Subject) {
    let store = &subject.store;
    for round in 0..TAKE_ROUNDS / 10 {
        let user = Arc::new(random_name("user"));
        for _ in 0..2 {
            store
                .count_user_try(&user, LONG, 3, false)
                .await
                .expect("count");
        }
        let barrier = Arc::new(Barrier::new(TAKERS));
        let tasks: Vec<_> = (0..TAKERS)
            .map(|i| {
                let (store, user, barrier) =
                    (Arc::clone(store), Arc::clone(&user), Arc::clone(&barrier));
                tokio::spawn(async move {
                    let matched = i % 2 == 1;
                    barrier.wait().await;
                    let counted = store
                        .count_user_try(&user, LONG, 3, matched)
                        .await
                        .expect("count");
                    (matched, counted)
                })
            })
            .collect();
        let mut reached = 0;
        for task in tasks {
            match task.await.expect("task") {
                (false, Some(3)) => reached += 1,
                (false, Some(n)) => assert!(n < 3, "round {round}: a wrong try counted {n}"),
                (true, Some(n)) => assert_eq!(n, 0, "round {round}: a right try resets"),
                (_, None) => {}
            }
        }
        let left = store.user_failures(&user).await.expect("read");
        assert!(
            reached <= 1,
            "round {round}: {reached} wrong tries reached the cap"
        );
        if reached == 1 {
            assert_eq!(
                left, 3,
                "round {round}: a wrong try reached the cap and a right try reset it after"
            );
        }
        assert!(left <= 3, "round {round}: the count passed the cap: {left}");
    }
}
