//! With `redis_url`, two demo instances sharing one Redis and one `secret_key` accept each
//! other's codes, and a login on one is a login on the other (sessions live in Redis too).
//! Run by `cargo xtask test`, which starts a redis-server and a 3-node cluster.

use std::net::SocketAddr;

use axum_demo::{Demo, DemoSettings, demo_users};
use nopassword_core::{SecretString, Settings};
use serde_json::{Value, json};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run this suite with `cargo xtask test`, which starts Redis")
    })
}

async fn start(settings: DemoSettings) -> (String, Demo) {
    let demo = Demo::connect(settings, demo_users())
        .await
        .expect("demo on Redis");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = demo.app.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    (format!("http://{addr}"), demo)
}

async fn two_instances_share_codes_and_sessions(redis_url: String) {
    let mut settings = DemoSettings::from(Settings {
        secret_key: Some("shared-secret-key-for-two-demo-instances".into()),
        // Unique per run, so runs sharing a Redis never see each other's keys.
        namespace: format!("demo-test-{}", std::process::id()),
        ..Settings::default()
    });
    settings.redis.redis_url = Some(SecretString::new(redis_url));
    let (a, demo_a) = start(settings.clone()).await;
    let (b, _demo_b) = start(settings).await;
    let client = reqwest::Client::new();

    let reply = client
        .post(format!("{a}/accounts/api/login/"))
        .json(&json!({ "username": "alice" }))
        .send()
        .await
        .expect("request a code on A");
    assert_eq!(reply.status(), 200);
    let answer: Value = reply.json().await.expect("json");
    let flow = answer["flow"].as_str().expect("a flow token").to_owned();
    // Delivery runs in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let code = loop {
        if let Some(message) = demo_a.outbox.latest_for("alice") {
            break message.code.expose().to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "A sent no code");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    // Without its flow, even the right code is refused (SPEC section 8)...
    let reply = client
        .post(format!("{b}/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code }))
        .send()
        .await
        .expect("log in on B without the flow");
    assert_eq!(reply.status(), 400);

    // ...and B accepts A's code in A's flow (the flow travels with the code in Redis)...
    let reply = client
        .post(format!("{b}/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code, "flow": flow }))
        .send()
        .await
        .expect("log in on B");
    assert_eq!(reply.status(), 200);
    let cookie = reply
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let body: Value = reply.json().await.expect("json");
    assert_eq!(body, json!({ "next": "/" }));

    // ...once: A refuses it now.
    let reply = client
        .post(format!("{a}/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code, "flow": flow }))
        .send()
        .await
        .expect("replay on A");
    assert_eq!(reply.status(), 400);

    // The session started on B is valid on A.
    let whoami: Value = client
        .get(format!("{a}/whoami"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("whoami on A")
        .json()
        .await
        .expect("json");
    assert_eq!(whoami, json!({ "username": "alice" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_one_redis() {
    two_instances_share_codes_and_sessions(env("NOPASSWORD_TEST_REDIS_URL")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster() {
    two_instances_share_codes_and_sessions(env("NOPASSWORD_TEST_REDIS_CLUSTER_URLS")).await;
}
