//! Nothing in Redis reveals a code, a link secret, a flow, an e-mail address or a phone number:
//! after a real login flow, every key and value of the namespace is dumped and searched.

mod common;

use std::net::IpAddr;

use nopassword_core::{
    NoPassword, Outbox, Settings,
    service::{CodeAttempt, LoginRequest},
    user::{MemoryDirectory, User},
};
use nopassword_store::{RedisSettings, RedisStore};

const EMAIL: &str = "alice.liddell@wonderland.example";
const PHONE: &str = "+15555550123";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The link secret: the last path segment of a login link.
fn link_secret(url: &str) -> String {
    let secret = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    assert!(secret.len() >= 16, "a link secret in {url}");
    secret.to_owned()
}

/// The raw flow id: the first 16 bytes a flow token spells in hex.
fn flow_id(token: &str) -> Vec<u8> {
    (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).expect("hex flow token"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_no_code_email_or_phone() {
    let namespace = common::unique_namespace("rest");
    let settings = Settings {
        namespace: namespace.clone(),
        secret_key: Some("at-rest-test-secret-key-0123456789abcdef".into()),
        ..Settings::default()
    };
    let store = RedisStore::from_settings(
        &settings,
        &RedisSettings {
            redis_url: Some(common::redis_url().into()),
        },
    )
    .await
    .expect("connect");
    let outbox = Outbox::new(10).quiet();
    let users = MemoryDirectory::new([
        User::new("u-1001", "alice")
            .with_email(EMAIL)
            .with_phone(PHONE),
        User::new("u-1002", "bob").with_phone("+15555550199"),
    ]);
    let service = NoPassword::builder(settings, users)
        .store(store)
        .sender(outbox.clone())
        .build()
        .expect("service");
    let client: IpAddr = "198.51.100.23".parse().expect("ip");

    let mut flows = Vec::new();
    for username in ["alice", "bob"] {
        let started = service
            .request_login(LoginRequest {
                username,
                next: Some("/inbox"),
                host: Some("localhost"),
                client: Some(client),
                ..Default::default()
            })
            .await
            .expect("request a login");
        flows.push(started.flow.expose());
    }
    let (alice_flow, bob_flow) = (&flows[0], &flows[1]);
    let alice = outbox.latest_for("alice").expect("alice's code");
    let bob = outbox.latest_for("bob").expect("bob's code");
    let (alice_code, bob_code) = (alice.code, bob.code);
    let alice_link = link_secret(&alice.url);
    let bob_link = link_secret(&bob.url);
    // Failures leave counters behind: bob types alice's code in his own flow, alice mistypes
    // hers in hers (each a per-code and a per-user counter).
    let stolen = CodeAttempt {
        username: Some("bob"),
        code: alice_code.expose(),
        client: Some(client),
        flow: Some(bob_flow),
    };
    assert!(service.authenticate(stolen).await.expect("auth").is_none());
    let mistyped = CodeAttempt {
        username: Some("alice"),
        code: "zzzzzzzzzzzzzzzzzzzz",
        client: Some(client),
        flow: Some(alice_flow),
    };
    assert!(
        service
            .authenticate(mistyped)
            .await
            .expect("auth")
            .is_none()
    );

    let mut conn = common::raw(&common::redis_url()).await;
    let keys = common::keys_of(&mut conn, &namespace).await;
    let mut kinds: Vec<String> = Vec::new();
    let alice_flow_id = flow_id(alice_flow);
    let bob_flow_id = flow_id(bob_flow);
    let secrets: [(&str, &[u8]); 12] = [
        ("alice's code", alice_code.expose().as_bytes()),
        ("bob's code", bob_code.expose().as_bytes()),
        ("alice's link secret", alice_link.as_bytes()),
        ("bob's link secret", bob_link.as_bytes()),
        ("alice's flow token", alice_flow.as_bytes()),
        ("bob's flow token", bob_flow.as_bytes()),
        ("alice's flow id", &alice_flow_id),
        ("bob's flow id", &bob_flow_id),
        ("alice's e-mail", EMAIL.as_bytes()),
        ("alice's e-mail's local part", b"alice.liddell"),
        ("alice's phone", PHONE.as_bytes()),
        ("alice's phone digits", b"15555550123"),
    ];
    for key in &keys {
        let dump: Option<Vec<u8>> = redis::cmd("DUMP")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("DUMP");
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("GET: every key is a string");
        let (dump, value) = (dump.unwrap_or_default(), value.unwrap_or_default());
        for (what, secret) in secrets {
            for (part, bytes) in [("key", key), ("value", &value), ("DUMP", &dump)] {
                assert!(
                    !contains(bytes, secret),
                    "{what} found in the {part} of {}",
                    String::from_utf8_lossy(key)
                );
            }
        }
        // Usernames only ever appear keyed-hashed (rate buckets) or not at all.
        assert!(
            !contains(key, b"alice") && !contains(key, b"bob"),
            "{key:?}"
        );
        let name = String::from_utf8_lossy(key).into_owned();
        kinds.push(name.replace(&namespace, "ns").chars().take(6).collect());
    }
    kinds.sort();
    kinds.dedup();
    // The dump covered every kind of key: codes, a code's failure counter, user failure
    // counters and rate buckets.
    assert_eq!(
        kinds,
        ["ns:f:u", "ns:r:i", "ns:r:s", "{ns:c:"],
        "keys seen: {keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.ends_with(b"}:f")),
        "a code failure counter was dumped too: {keys:?}"
    );
}
