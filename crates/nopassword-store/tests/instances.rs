//! Two app instances sharing one Redis (or one cluster) and one `secret_key` accept each
//! other's codes, a code still logs in only once across them, and a user's failure count
//! holds its cap across them.

mod common;

use std::{sync::Arc, time::Duration};

use nopassword_core::{
    CodeStore, NoPassword, Outbox, Settings,
    service::{CodeAttempt, LinkAction, LinkLogin, LoginRequest},
    user::{MemoryDirectory, User},
};
use nopassword_store::{RedisSettings, RedisStore};
use tokio::sync::Barrier;

const RACE_ROUNDS: usize = 20;
const RACERS_PER_INSTANCE: usize = 8;

/// One app instance: its own connection, its own outbox, the shared settings.
async fn instance(urls: &str, namespace: &str) -> (NoPassword<User>, Outbox) {
    let settings = Settings {
        namespace: namespace.to_owned(),
        secret_key: Some("shared-secret-key-of-both-instances-0123".into()),
        // Every race round sends alice a fresh code.
        max_sends_per_user_per_hour: 1_000,
        ..Settings::default()
    };
    let store = RedisStore::from_settings(
        &settings,
        &RedisSettings {
            redis_url: Some(urls.into()),
        },
    )
    .await
    .expect("connect");
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

/// What a code request hands the client and the user: the typed code, the link secret, and
/// the flow token the client keeps.
struct Sent {
    code: String,
    link: String,
    flow: String,
}

async fn send(service: &NoPassword<User>, outbox: &Outbox, username: &str) -> Sent {
    let started = service
        .request_login(LoginRequest {
            username,
            host: Some("localhost"),
            ..Default::default()
        })
        .await
        .expect("request a login");
    let message = outbox.latest_for(username).expect("a code went out");
    let link = message
        .url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("a link secret")
        .to_owned();
    Sent {
        code: message.code.expose().to_owned(),
        link,
        flow: started.flow.expose(),
    }
}

fn attempt<'a>(username: &'a str, code: &'a str, flow: &'a str) -> CodeAttempt<'a> {
    CodeAttempt {
        username: Some(username),
        code,
        client: None,
        flow: Some(flow),
    }
}

/// Types the code in its flow: who logged in, if anyone.
async fn login(service: &NoPassword<User>, username: &str, sent: &Sent) -> Option<String> {
    service
        .authenticate(attempt(username, &sent.code, &sent.flow))
        .await
        .expect("authenticate")
        .map(|login| login.user.username)
}

/// Posts the link from its flow's browser: whether it logged in.
async fn login_with_link(service: &NoPassword<User>, username: &str, sent: &Sent) -> bool {
    matches!(
        service
            .login_with_link(attempt(username, &sent.link, &sent.flow))
            .await
            .expect("login with link"),
        LinkLogin::LoggedIn(_)
    )
}

async fn instances_share_codes(urls: &str) {
    let namespace = common::unique_namespace("two");
    let (a, outbox_a) = instance(urls, &namespace).await;
    let (b, outbox_b) = instance(urls, &namespace).await;

    let sent = send(&a, &outbox_a, "alice").await;
    assert_eq!(
        b.open_link(attempt("alice", &sent.link, &sent.flow))
            .await
            .expect("open link"),
        LinkAction::Submit,
        "B sees A's code and its flow"
    );
    assert_eq!(
        login(&b, "alice", &sent).await.as_deref(),
        Some("alice"),
        "B accepts A's code"
    );
    assert_eq!(
        login(&a, "alice", &sent).await,
        None,
        "and then A refuses it: used"
    );

    let sent = send(&b, &outbox_b, "bob").await;
    assert_eq!(
        login(&a, "bob", &sent).await.as_deref(),
        Some("bob"),
        "A accepts B's code"
    );
    assert_eq!(
        login(&b, "bob", &sent).await,
        None,
        "and then B refuses it: used"
    );

    // Both instances race for one link: exactly one request logs in.
    let (a, b) = (Arc::new(a), Arc::new(b));
    for round in 0..RACE_ROUNDS {
        let sent = Arc::new(send(&a, &outbox_a, "alice").await);
        let barrier = Arc::new(Barrier::new(2 * RACERS_PER_INSTANCE));
        let racers: Vec<_> = (0..2 * RACERS_PER_INSTANCE)
            .map(|i| {
                let service = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let (sent, barrier) = (Arc::clone(&sent), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    login_with_link(&service, "alice", &sent).await
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.expect("racer"));
        }
        assert_eq!(winners, 1, "round {round}: {winners} logins with one link");
    }
}

/// Two stores (two instances' connections) count one user's concurrent failures: every one
/// below the cap counts, none passes it (docs/HTTP.md, Login flows).
async fn instances_share_a_capped_failure_count(urls: &str) {
    const CALLS: u32 = 64;
    let namespace = common::unique_namespace("cap");
    let stores = [
        RedisStore::connect(urls, &namespace)
            .await
            .expect("connect"),
        RedisStore::connect(urls, &namespace)
            .await
            .expect("connect"),
    ];
    let window = Duration::from_secs(60);
    for cap in [CALLS + 36, CALLS - 14] {
        let user = Arc::new(format!("user-{cap}"));
        let barrier = Arc::new(Barrier::new(CALLS as usize));
        let calls: Vec<_> = (0..CALLS as usize)
            .map(|i| {
                let store = stores[i % 2].clone();
                let (user, barrier) = (Arc::clone(&user), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .incr_user_failures(&user, window, cap)
                        .await
                        .expect("incr")
                })
            })
            .collect();
        let mut counts = Vec::new();
        let mut refused = 0;
        for call in calls {
            match call.await.expect("call") {
                Some(count) => counts.push(count),
                None => refused += 1,
            }
        }
        counts.sort_unstable();
        let counted = CALLS.min(cap);
        assert_eq!(counts, (1..=counted).collect::<Vec<_>>(), "cap {cap}");
        assert_eq!(refused, CALLS - counted, "cap {cap}");
        for store in &stores {
            assert_eq!(
                store.user_failures(&user).await.expect("read"),
                counted,
                "cap {cap}"
            );
        }
        assert_eq!(
            stores[1]
                .incr_user_failures(&user, window, counted)
                .await
                .expect("incr"),
            None,
            "a count at its cap stays there"
        );
        stores[0].clear_user_failures(&user).await.expect("clear");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_redis_share_a_capped_failure_count() {
    instances_share_a_capped_failure_count(&common::redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_cluster_share_a_capped_failure_count() {
    instances_share_a_capped_failure_count(&common::cluster_urls()).await;
}
