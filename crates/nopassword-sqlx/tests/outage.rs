//! A PostgreSQL outage: the store answers errors (503 in the adapters) within its command
//! timeout while the server is killed, and works again once it is back. The server is a
//! private one, killed with SIGKILL mid-test.

mod common;

use std::time::{Duration, Instant};

use nopassword_core::{
    CodeRng, CodeStore, StoreError,
    hashing::{CodeKey, SystemRng},
    store::CodeRecord,
};
use nopassword_sqlx::PgStore;

fn key() -> CodeKey {
    let mut bytes = [0u8; 16];
    SystemRng.fill_bytes(&mut bytes);
    CodeKey::from_bytes(bytes)
}

fn record() -> CodeRecord {
    CodeRecord {
        user_id: "u".into(),
        verifier: vec![1; 16],
        code_check: vec![2; 16],
        flow: vec![3; 16],
        next: None,
        created_at: 1_767_225_600,
        expires_at: 1_767_226_500,
        device: None,
        approved: false,
    }
}

const TIMEOUT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_is_an_error_within_the_timeout_and_recovery_follows_its_restart() {
    let mut server = common::PrivateServer::start();
    let store = PgStore::builder()
        .command_timeout(TIMEOUT)
        .max_connections(4)
        .connect(&server.url())
        .await
        .expect("connect to the private server");
    // Fill the pool with connections that the kill will leave stale.
    let survivor = key();
    store.put(&survivor, &record(), LONG).await.expect("put");
    for _ in 0..8 {
        let key = key();
        store.put(&key, &record(), LONG).await.expect("put");
        assert!(store.take(&key).await.expect("take").is_some());
    }

    server.kill();
    for round in 0..6 {
        let started = Instant::now();
        let outcome = store.put(&key(), &record(), LONG).await;
        let took = started.elapsed();
        assert!(
            matches!(
                outcome,
                Err(StoreError::Unavailable(_) | StoreError::Timeout(_))
            ),
            "round {round}: {outcome:?}"
        );
        assert!(
            took < TIMEOUT + Duration::from_millis(200),
            "round {round}: the error took {took:?}"
        );
        assert!(
            store.health().await.is_err(),
            "round {round}: health while down"
        );
    }

    server.restart();
    let started = Instant::now();
    while store.health().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the store did not recover within 10 s of the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Once it answers, no stale connection fails a call, and what was stored is still there.
    for _ in 0..20 {
        let key = key();
        store
            .put(&key, &record(), LONG)
            .await
            .expect("put after recovery");
        assert!(
            store
                .take(&key)
                .await
                .expect("take after recovery")
                .is_some()
        );
    }
    assert!(
        store.take(&survivor).await.expect("take").is_some(),
        "a code stored before the crash is still there after it"
    );
}

/// A crash and a quick restart between two requests (a failover, say): the pool is full of
/// connections the old server closed, and still every call after it succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_requests_fails_no_request() {
    let mut server = common::PrivateServer::start();
    let store = PgStore::builder()
        .command_timeout(TIMEOUT)
        .max_connections(4)
        .connect(&server.url())
        .await
        .expect("connect to the private server");
    let fill: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let key = key();
                store.put(&key, &record(), LONG).await.expect("put");
                tokio::time::sleep(Duration::from_millis(100)).await;
                store.take(&key).await.expect("take")
            })
        })
        .collect();
    for task in fill {
        assert!(task.await.expect("task").is_some());
    }
    server.kill();
    server.restart();
    for round in 0..8 {
        let key = key();
        store
            .put(&key, &record(), LONG)
            .await
            .unwrap_or_else(|error| panic!("round {round}: put after a restart: {error}"));
        assert!(store.take(&key).await.expect("take").is_some());
    }
}

/// The whole service on a killed PostgreSQL (codes in a `PgStore`, users in a `PgDirectory`):
/// a login request is an outage the adapters answer with 503 (`Error::is_unavailable`, never an
/// internal error), within the timeout, and it works again after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_on_a_killed_database_is_unavailable_then_recovers() {
    use nopassword_core::{NoPassword, Outbox, Settings, service::LoginRequest};
    use nopassword_sqlx::{PgDirectory, sqlx};

    let mut server = common::PrivateServer::start();
    let store = PgStore::builder()
        .command_timeout(TIMEOUT)
        .connect(&server.url())
        .await
        .expect("connect to the private server");
    for statement in [
        "CREATE TABLE users (id bigint PRIMARY KEY, username text, email text, active boolean)",
        "INSERT INTO users VALUES (1, 'alice', 'alice@example.com', true)",
    ] {
        sqlx::query(statement)
            .execute(store.pool())
            .await
            .expect("the app's table");
    }
    let users = PgDirectory::builder("users")
        .no_phone()
        .timeout(TIMEOUT)
        .build(store.pool().clone())
        .expect("valid names");
    let outbox = Outbox::new(10).quiet();
    let settings = Settings {
        secret_key: Some("a test key of at least thirty-two bytes".into()),
        ..Settings::default()
    };
    let service = NoPassword::builder(settings, users)
        .store(store)
        .sender(outbox.clone())
        .deliver_inline()
        .build()
        .expect("service");
    let request = || LoginRequest {
        username: "alice",
        next: None,
        host: None,
        secure: false,
        client: None,
        flow: None,
        ..LoginRequest::default()
    };
    service
        .request_login(request())
        .await
        .expect("a code for alice");
    assert!(outbox.latest_for("alice").is_some());

    server.kill();
    for round in 0..3 {
        let started = Instant::now();
        let error = service
            .request_login(request())
            .await
            .expect_err("the database is down");
        assert!(
            error.is_unavailable(),
            "round {round}: {error:?} is not a 503"
        );
        assert!(
            started.elapsed() < TIMEOUT * 3 + Duration::from_millis(300),
            "round {round}: took {:?}",
            started.elapsed()
        );
    }

    server.restart();
    service
        .request_login(request())
        .await
        .expect("a code again once the database is back");
}
