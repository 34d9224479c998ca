//! Two instances of a demo on one Redis and one `secret_key`, as behind a load balancer: a
//! code sent by one logs in on the other, once, within its flow; a session started on one is a
//! login on both, and a logout on one ends it on both. On one Redis server and on a Redis
//! Cluster.
//!
//! `cargo xtask test` starts both and exports `NOPASSWORD_TEST_REDIS_URL` and
//! `NOPASSWORD_TEST_REDIS_CLUSTER_URLS`; without them the scenarios fail naming them.

use nopassword_core::{Settings, forms::messages, secret::SecretString};
use nopassword_sqlx::DatabaseSettings;
use nopassword_store::RedisSettings;

use crate::DemoSettings;
use reqwest::{Client, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use super::{Site, block_on, service_env, settings};

/// Declares the two-instance `#[test]`s against the [`Site`] `$site`: on one Redis server
/// (`two_instances_on_one_redis`) and on a Redis Cluster (`two_instances_on_a_redis_cluster`).
/// Put it in the demo's `tests/redis.rs`.
#[macro_export]
macro_rules! two_instance_tests {
    ($site:ty) => {
        #[test]
        fn two_instances_on_one_redis() {
            $crate::e2e::two_instances::on_one_redis::<$site>();
        }

        #[test]
        fn two_instances_on_a_redis_cluster() {
            $crate::e2e::two_instances::on_a_redis_cluster::<$site>();
        }
    };
}

/// The scenario on the one Redis server `cargo xtask test` started.
pub fn on_one_redis<S: Site>() {
    let url = service_env("NOPASSWORD_TEST_REDIS_URL", "a Redis server");
    block_on(share_codes_and_sessions::<S>(url, "node"));
}

/// The scenario on the Redis Cluster `cargo xtask test` started.
pub fn on_a_redis_cluster<S: Site>() {
    let urls = service_env("NOPASSWORD_TEST_REDIS_CLUSTER_URLS", "a Redis Cluster");
    block_on(share_codes_and_sessions::<S>(urls, "cluster"));
}

/// Declares the two-instance `#[test]` against the [`Site`] `$site` on PostgreSQL
/// (`two_instances_on_postgres`): codes, users and sessions in one database. Put it in the
/// demo's `tests/postgres.rs`.
#[macro_export]
macro_rules! two_instance_postgres_tests {
    ($site:ty) => {
        #[test]
        fn two_instances_on_postgres() {
            $crate::e2e::two_instances::on_postgres::<$site>();
        }
    };
}

/// The scenario on the PostgreSQL server `cargo xtask test` started, with `database_url`
/// alone: codes, users (the demo's own table, seeded from its users) and sessions there.
pub fn on_postgres<S: Site>() {
    let url = service_env("NOPASSWORD_TEST_DATABASE_URL", "a PostgreSQL server");
    let settings = DemoSettings {
        core: Settings {
            namespace: format!("{}-test-pg-{}", S::NAME, std::process::id()),
            ..settings()
        },
        database: DatabaseSettings {
            database_url: Some(SecretString::new(url)),
        },
        ..DemoSettings::default()
    };
    block_on(share_codes_and_sessions_with::<S>(settings));
}

/// Settings for an instance on `redis_url`, in a namespace of this demo, run and test alone,
/// so suites sharing a Redis never see each other's keys.
pub(crate) fn on_redis<S: Site>(redis_url: String, label: &str) -> DemoSettings {
    DemoSettings {
        core: Settings {
            namespace: format!("{}-test-{label}-{}", S::NAME, std::process::id()),
            ..settings()
        },
        redis: RedisSettings {
            redis_url: Some(SecretString::new(redis_url)),
        },
        ..DemoSettings::default()
    }
}

/// The session cookies a reply sets, as a `Cookie` header value.
fn cookies(reply: &reqwest::Response) -> String {
    let pairs: Vec<&str> = reply
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .collect();
    assert!(!pairs.is_empty(), "the login set no session cookie");
    pairs.join("; ")
}

async fn json_of(reply: reqwest::Response) -> Value {
    reply.json().await.expect("a JSON body")
}

/// Two instances A and B on `redis_url`: a code sent by A logs in on B, once, and B's session
/// is a login on A until a logout on A.
async fn share_codes_and_sessions<S: Site>(redis_url: String, label: &str) {
    share_codes_and_sessions_with::<S>(on_redis::<S>(redis_url, label)).await;
}

/// Two instances A and B with `settings`: a code sent by A logs in on B, once, and B's
/// session is a login on A until a logout on A.
async fn share_codes_and_sessions_with<S: Site>(settings: DemoSettings) {
    let a = S::start(settings.clone()).await;
    let b = S::start(settings).await;
    // No cookie jar: cookies do not tell ports apart, so each request carries its cookie
    // explicitly.
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client");

    let reply = client
        .post(a.mounted("/api/login/"))
        .json(&json!({ "username": "alice" }))
        .send()
        .await
        .expect("request a code on A");
    assert_eq!(reply.status(), StatusCode::OK);
    let answer = json_of(reply).await;
    assert_eq!(answer["detail"], messages::CODE_SENT);
    let flow = answer["flow"].as_str().expect("a flow token").to_owned();
    let code = a.message_for("alice").await.code.expose().to_owned();
    assert!(b.outbox().latest_for("alice").is_none(), "B sent nothing");

    // Without its flow even the right code is refused...
    let reply = client
        .post(b.mounted("/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code }))
        .send()
        .await
        .expect("log in on B without the flow");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    // ...and B accepts A's code in A's flow (it travels with the code in Redis)...
    let reply = client
        .post(b.mounted("/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code, "flow": flow }))
        .send()
        .await
        .expect("log in on B");
    assert_eq!(reply.status(), StatusCode::OK);
    let cookie = cookies(&reply);
    assert_eq!(json_of(reply).await, json!({ "next": "/" }));

    // ...once: A refuses it now.
    let reply = client
        .post(a.mounted("/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code, "flow": flow }))
        .send()
        .await
        .expect("replay on A");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    // The session started on B is a login on A, and on B.
    for site in [&a, &b] {
        let reply = client
            .get(site.url("/whoami"))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .expect("whoami");
        assert_eq!(reply.status(), StatusCode::OK, "{}", site.url("/whoami"));
        assert_eq!(json_of(reply).await, json!({ "username": "alice" }));
    }

    // Logging out on A ends it on B too.
    let reply = client
        .post(a.mounted("/api/logout/"))
        .header(header::COOKIE, &cookie)
        .json(&json!({}))
        .send()
        .await
        .expect("log out on A");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        json_of(reply).await,
        json!({ "detail": messages::LOGGED_OUT, "code": "logged_out" })
    );
    let reply = client
        .get(b.url("/whoami"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("whoami on B");
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}
