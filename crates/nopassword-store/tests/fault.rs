//! Outages: with Redis dead or hung, calls fail fast with a `StoreError`; once it is back the
//! same store works again.

mod common;

use std::{
    future::Future,
    process::Command,
    time::{Duration, Instant},
};

use nopassword_core::{CodeStore, StoreError, hashing::CodeKey, store::CodeRecord};
use nopassword_store::RedisStore;

/// Well under the 2 s a request may wait: the command timeout is 500 ms.
const FAST: Duration = Duration::from_millis(1_200);

fn record() -> CodeRecord {
    CodeRecord {
        user_id: "1".into(),
        verifier: vec![9; 16],
        code_check: vec![10; 16],
        flow: vec![11; 16],
        next: Some("/inbox".into()),
        created_at: 1,
        expires_at: 2,
        device: None,
        approved: false,
    }
}

fn key(n: u8) -> CodeKey {
    CodeKey::from_bytes([n; 16])
}

/// Runs `call`, asserts it failed with a store error within [`FAST`], returns the error.
async fn fails_fast<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> StoreError {
    let started = Instant::now();
    let result = call.await;
    let took = started.elapsed();
    assert!(took < FAST, "{what} took {took:?} while Redis was down");
    match result {
        Err(error @ (StoreError::Unavailable(_) | StoreError::Timeout(_))) => error,
        other => panic!("{what} must fail with Unavailable or Timeout, got {other:?}"),
    }
}

async fn every_call_fails_fast(store: &RedisStore) -> Vec<StoreError> {
    let long = Duration::from_secs(900);
    vec![
        fails_fast("put", store.put(&key(2), &record(), long)).await,
        fails_fast("get", store.get(&key(1))).await,
        fails_fast("take", store.take(&key(1))).await,
        fails_fast("incr_code_failures", store.incr_code_failures(&key(1))).await,
        fails_fast("incr_user_failures", store.incr_user_failures("1", long, 5)).await,
        fails_fast("user_failures", store.user_failures("1")).await,
        fails_fast("clear_user_failures", store.clear_user_failures("1")).await,
        fails_fast("hit", store.hit("ip:x", long)).await,
        fails_fast("ping", store.ping()).await,
        fails_fast("health", store.health()).await,
    ]
}

/// Polls until a put/take round trip works, within `within`; returns how many tries failed.
async fn recovers(store: &RedisStore, within: Duration) -> usize {
    let started = Instant::now();
    let mut failed = 0;
    loop {
        let attempt = async {
            store
                .put(&key(3), &record(), Duration::from_secs(60))
                .await?;
            store.take(&key(3)).await
        };
        match attempt.await {
            Ok(Some(taken)) => {
                assert_eq!(taken, record());
                return failed;
            }
            Ok(None) => panic!("a record put a moment ago must be there"),
            Err(error) => {
                failed += 1;
                assert!(
                    started.elapsed() < within,
                    "the store did not recover within {within:?}: {error}"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_fails_fast_and_the_store_recovers_after_a_restart() {
    let mut server = common::OwnRedis::start();
    let store = RedisStore::connect(&server.url(), "fault")
        .await
        .expect("connect");
    store
        .put(&key(1), &record(), Duration::from_secs(900))
        .await
        .expect("put while up");
    assert!(store.get(&key(1)).await.expect("get while up").is_some());

    server.kill();
    let errors = every_call_fails_fast(&store).await;
    // A second round: the store keeps failing fast, it does not wedge on a reconnection.
    every_call_fails_fast(&store).await;
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, StoreError::Unavailable(_))),
        "a refused connection is reported as Unavailable: {errors:?}"
    );
    let shown = errors[0].to_string();
    assert!(
        shown.contains("unavailable") || shown.contains("within"),
        "{shown}"
    );

    server.restart();
    // A refused connection means the request was never sent, so the store retries it once on
    // a fresh connection: the very first call after the restart succeeds.
    let failed = recovers(&store, Duration::from_secs(5)).await;
    assert_eq!(failed, 0, "calls failed after Redis was back");
    // The restarted server has no persistence: the old code is gone, the store says so.
    assert!(
        store
            .get(&key(1))
            .await
            .expect("get after restart")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_times_out_and_the_store_recovers_when_it_resumes() {
    let server = common::OwnRedis::start();
    let store = RedisStore::connect(&server.url(), "fault")
        .await
        .expect("connect");
    store.ping().await.expect("ping while up");
    let pid = server.pid();

    // SIGSTOP: the socket stays open, nothing answers (like a Redis stuck on a long command).
    signal(pid, "STOP");
    let errors = every_call_fails_fast(&store).await;
    signal(pid, "CONT");
    assert!(
        errors.iter().all(|e| matches!(e, StoreError::Timeout(_))),
        "a silent Redis is reported as Timeout: {errors:?}"
    );
    recovers(&store, Duration::from_secs(5)).await;
}
