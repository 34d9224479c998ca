//! Every key's Redis TTL is its validity: a code lives `login_code_timeout`, counters their
//! window.

mod common;

use std::{net::IpAddr, time::Duration};

use nopassword_core::{
    CodeStore, NoPassword, Outbox, Settings,
    hashing::CodeKey,
    service::{CodeAttempt, LoginRequest},
    store::CodeRecord,
    user::{MemoryDirectory, User},
};
use nopassword_store::{RedisSettings, RedisStore};
use redis::AsyncCommands;

fn settings(namespace: &str, timeout: u64) -> Settings {
    Settings {
        namespace: namespace.to_owned(),
        login_code_timeout: timeout,
        secret_key: Some("ttl-test-secret-key-0123456789abcdef".into()),
        ..Settings::default()
    }
}

async fn pttl(conn: &mut redis::aio::MultiplexedConnection, key: &[u8]) -> i64 {
    conn.pttl(key).await.expect("PTTL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_codes_ttl_is_login_code_timeout() {
    let namespace = common::unique_namespace("ttl");
    let timeout = 300;
    let settings = settings(&namespace, timeout);
    let store = RedisStore::from_settings(
        &settings,
        &RedisSettings {
            redis_url: Some(common::redis_url().into()),
        },
    )
    .await
    .expect("connect");
    let outbox = Outbox::new(10).quiet();
    let users = MemoryDirectory::new([User::new("7", "alice").with_email("alice@example.com")]);
    let service = NoPassword::builder(settings, users)
        .store(store)
        .sender(outbox.clone())
        .build()
        .expect("service");
    let client: IpAddr = "192.0.2.7".parse().expect("ip");
    let started = service
        .request_login(LoginRequest {
            username: "alice",
            client: Some(client),
            ..Default::default()
        })
        .await
        .expect("request a login");
    assert!(outbox.latest_for("alice").is_some(), "a code went out");

    let mut conn = common::raw(&common::redis_url()).await;
    let keys = common::keys_of(&mut conn, &namespace).await;
    let code_prefix = format!("{{{namespace}:c:");
    let codes: Vec<_> = keys
        .iter()
        .filter(|k| k.starts_with(code_prefix.as_bytes()))
        .collect();
    assert_eq!(codes.len(), 1, "one code key: {keys:?}");
    let ms = pttl(&mut conn, codes[0]).await;
    let expected = i64::try_from(timeout * 1000).expect("fits");
    assert!(
        (expected - 1000..=expected).contains(&ms),
        "the code's PTTL is {ms} ms, expected within 1 s of {expected} ms"
    );

    // The rate buckets: one hour per username as typed and per account, one minute per client
    // address.
    let rate_prefix = format!("{namespace}:r:");
    let mut windows: Vec<i64> = Vec::new();
    for key in keys
        .iter()
        .filter(|k| k.starts_with(rate_prefix.as_bytes()))
    {
        windows.push(pttl(&mut conn, key).await);
    }
    windows.sort_unstable();
    assert_eq!(
        windows.len(),
        3,
        "two send buckets (name, account) and an address bucket"
    );
    assert!(
        (59_000..=60_000).contains(&windows[0]),
        "address window {}",
        windows[0]
    );
    for send in &windows[1..] {
        assert!((3_599_000..=3_600_000).contains(send), "send window {send}");
    }

    // A wrong code in alice's flow counts a failure that lives `lockout_seconds` (the longer
    // of it and `login_code_timeout`).
    let flow = started.flow.expose();
    let wrong = CodeAttempt {
        username: Some("alice"),
        code: "00000000000000000000",
        client: None,
        flow: Some(&flow),
    };
    assert!(
        service
            .authenticate(wrong)
            .await
            .expect("authenticate")
            .is_none()
    );
    let failures_key = format!("{namespace}:f:7");
    let ms = pttl(&mut conn, failures_key.as_bytes()).await;
    assert!(
        (899_000..=900_000).contains(&ms),
        "user failure window {ms}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codes_failure_counter_dies_with_the_code() {
    let namespace = common::unique_namespace("ttl");
    let store = RedisStore::connect(&common::redis_url(), &namespace)
        .await
        .expect("connect");
    let key = CodeKey::from_bytes([0x5a; 16]);
    let record = CodeRecord {
        user_id: "1".into(),
        verifier: vec![1; 16],
        code_check: vec![2; 16],
        flow: vec![3; 16],
        next: None,
        created_at: 0,
        expires_at: 0,
        device: None,
        approved: false,
    };
    store
        .put(&key, &record, Duration::from_secs(120))
        .await
        .expect("put");
    assert_eq!(store.incr_code_failures(&key).await.expect("incr"), Some(1));
    let mut conn = common::raw(&common::redis_url()).await;
    let mut keys = common::keys_of(&mut conn, &namespace).await;
    keys.sort();
    let [record_key, counter_key] = &keys[..] else {
        panic!("a record and its counter: {keys:?}");
    };
    assert_eq!([record_key.as_slice(), b":f"].concat(), *counter_key);
    let record_ttl = pttl(&mut conn, record_key).await;
    let counter_ttl = pttl(&mut conn, counter_key).await;
    assert!(
        (119_000..=120_000).contains(&record_ttl),
        "record PTTL {record_ttl}"
    );
    assert!(
        counter_ttl > 0 && counter_ttl <= record_ttl,
        "counter PTTL {counter_ttl} must not outlive the record's {record_ttl}"
    );
    store.take(&key).await.expect("take");
    let left = common::keys_of(&mut conn, &namespace).await;
    assert!(left.is_empty(), "take removes both keys: {left:?}");
}

/// An approved record keeps the code's own TTL (`SET ... KEEPTTL`), whatever `ttl` the
/// caller passes: approval never lengthens a code's life.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_record_keeps_the_codes_ttl() {
    let namespace = common::unique_namespace("ttl");
    let store = RedisStore::connect(&common::redis_url(), &namespace)
        .await
        .expect("connect");
    let key = CodeKey::from_bytes([0x5b; 16]);
    let record = CodeRecord {
        user_id: "1".into(),
        verifier: vec![1; 16],
        code_check: vec![2; 16],
        flow: vec![3; 16],
        next: None,
        created_at: 0,
        expires_at: 0,
        device: None,
        approved: false,
    };
    store
        .put(&key, &record, Duration::from_secs(120))
        .await
        .expect("put");
    let mut conn = common::raw(&common::redis_url()).await;
    let keys = common::keys_of(&mut conn, &namespace).await;
    let [record_key] = &keys[..] else {
        panic!("one record key: {keys:?}");
    };
    let before = pttl(&mut conn, record_key).await;
    let approved = CodeRecord {
        approved: true,
        ..record.clone()
    };
    assert_eq!(
        store
            .approve(&key, &approved, Duration::from_secs(3600))
            .await
            .expect("approve"),
        Some(record)
    );
    let after = pttl(&mut conn, record_key).await;
    assert!(
        after > 0 && after <= before,
        "approval kept the PTTL ({before} ms before, {after} ms after)"
    );
    assert_eq!(
        store.get(&key).await.expect("get").map(|s| s.record),
        Some(approved)
    );
}
