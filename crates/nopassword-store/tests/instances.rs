//! Two app instances sharing one Redis (or one cluster) and one `secret_key` accept each
//! other's codes, and a code still logs in only once across them.

mod common;

use std::sync::Arc;

use nopassword_core::{
    CodeAttempt, LoginRequest, MemoryDirectory, NoPassword, Outbox, Settings, User,
};
use nopassword_store::RedisStore;
use tokio::sync::Barrier;

const RACE_ROUNDS: usize = 20;
const RACERS_PER_INSTANCE: usize = 8;

/// One app instance: its own connection, its own outbox, the shared settings.
async fn instance(urls: &str, namespace: &str) -> (NoPassword<User>, Outbox) {
    let settings = Settings {
        namespace: namespace.to_owned(),
        secret_key: Some("shared-secret-key-of-both-instances-0123".into()),
        redis_url: Some(urls.into()),
        // Every race round sends alice a fresh code.
        max_sends_per_user_per_hour: 1_000,
        ..Settings::default()
    };
    let store = RedisStore::from_settings(&settings).await.expect("connect");
    let outbox = Outbox::new(100).quiet();
    let users = MemoryDirectory::new([
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob").with_email("bob@example.com"),
    ]);
    let service = NoPassword::builder(settings, users)
        .store(store)
        .sender(outbox.clone())
        .build()
        .expect("service");
    (service, outbox)
}

async fn send(service: &NoPassword<User>, outbox: &Outbox, username: &str) -> String {
    service
        .request_login(LoginRequest {
            username,
            host: Some("localhost"),
            ..Default::default()
        })
        .await
        .expect("request a login");
    outbox
        .latest_for(username)
        .expect("a code went out")
        .code
        .expose()
        .to_owned()
}

async fn login(service: &NoPassword<User>, username: &str, code: &str) -> Option<String> {
    service
        .authenticate(CodeAttempt {
            username: Some(username),
            code,
            client: None,
        })
        .await
        .expect("authenticate")
        .map(|login| login.user.username)
}

async fn instances_share_codes(urls: &str) {
    let namespace = common::unique_namespace("two");
    let (a, outbox_a) = instance(urls, &namespace).await;
    let (b, outbox_b) = instance(urls, &namespace).await;

    let code = send(&a, &outbox_a, "alice").await;
    assert!(
        b.check(CodeAttempt {
            username: Some("alice"),
            code: &code,
            client: None
        })
        .await
        .expect("check"),
        "B sees A's code"
    );
    assert_eq!(
        login(&b, "alice", &code).await.as_deref(),
        Some("alice"),
        "B accepts A's code"
    );
    assert_eq!(
        login(&a, "alice", &code).await,
        None,
        "and then A refuses it: used"
    );

    let code = send(&b, &outbox_b, "bob").await;
    assert_eq!(
        login(&a, "bob", &code).await.as_deref(),
        Some("bob"),
        "A accepts B's code"
    );
    assert_eq!(
        login(&b, "bob", &code).await,
        None,
        "and then B refuses it: used"
    );

    // Both instances race for one code: exactly one request logs in.
    let (a, b) = (Arc::new(a), Arc::new(b));
    for round in 0..RACE_ROUNDS {
        let code = Arc::new(send(&a, &outbox_a, "alice").await);
        let barrier = Arc::new(Barrier::new(2 * RACERS_PER_INSTANCE));
        let racers: Vec<_> = (0..2 * RACERS_PER_INSTANCE)
            .map(|i| {
                let service = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let (code, barrier) = (Arc::clone(&code), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    login(&service, "alice", &code).await.is_some()
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.expect("racer"));
        }
        assert_eq!(winners, 1, "round {round}: {winners} logins with one code");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_redis_accept_each_others_codes() {
    instances_share_codes(&common::redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_cluster_accept_each_others_codes() {
    instances_share_codes(&common::cluster_urls()).await;
}
