//! The actix demo over real HTTP on a free port: the whole login through the JSON API and
//! through the HTML pages (login form, outbox link, "Logging in..." page, POST), and, with
//! Redis, two instances sharing one Redis that accept each other's codes and sessions.
//!
//! The Redis tests need `NOPASSWORD_TEST_REDIS_URL` and `NOPASSWORD_TEST_REDIS_CLUSTER_URLS`,
//! which `cargo xtask test` sets after starting Redis and a Redis Cluster; they never skip.

use std::net::TcpListener;

use actix_demo::{Demo, DemoSettings, Running, demo_users};
use nopassword_conformance::{contract::text, support::html};
use nopassword_core::{Outbox, SecretString, Settings};
use reqwest::{Client, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

const SECRET: &str = "actix-demo-site-test-secret-key-0123456789";

fn settings() -> Settings {
    Settings {
        secret_key: Some(SECRET.into()),
        ..Settings::default()
    }
}

fn free_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0 for the demo")
}

/// The demo with its built-in users and a quiet outbox, on a free port.
fn start() -> (Demo, Running) {
    let demo = Demo::build_with(settings(), demo_users(), Outbox::new(50).quiet(), None)
        .expect("the demo builds");
    let running = demo.spawn(free_listener(), 2).expect("the demo serves");
    (demo, running)
}

/// A browser: keeps cookies, does not follow redirects.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The newest message for `username`, waiting for the background delivery to reach the outbox.
async fn message_for(demo: &Demo, username: &str) -> nopassword_core::OutboxMessage {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(message) = demo.outbox.latest_for(username) {
            return message;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message for {username} reached the outbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn text_of(response: reqwest::Response) -> String {
    response.text().await.expect("the body reads")
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

async fn whoami(client: &Client, site: &Running) -> (StatusCode, Value) {
    let reply = client
        .get(site.url("/whoami"))
        .send()
        .await
        .expect("GET /whoami");
    (reply.status(), json_of(reply).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_through_the_json_api() {
    let (demo, site) = start();
    let client = browser();
    assert_eq!(
        whoami(&client, &site).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Not logged in." })
        )
    );

    let reply = client
        .post(site.url("/accounts/api/login/"))
        .json(&json!({ "username": "alice" }))
        .send()
        .await
        .expect("POST api/login/");
    assert_eq!(reply.status(), StatusCode::OK);
    let answer = json_of(reply).await;
    assert_eq!(answer["detail"], text::CODE_SENT);
    assert_eq!(
        answer["flow"].as_str().map(str::len),
        Some(64),
        "the answer carries the flow token: {answer}"
    );
    let message = message_for(&demo, "alice").await;

    // The outbox shows it, as JSON too, uncached.
    let reply = client
        .get(site.url("/outbox.json"))
        .send()
        .await
        .expect("GET /outbox.json");
    assert_eq!(reply.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.headers()["referrer-policy"], "no-referrer");
    let listed = json_of(reply).await;
    assert_eq!(listed[0]["username"], "alice");
    assert_eq!(listed[0]["code"], message.code.expose());
    assert_eq!(listed[0]["url"], message.url.as_str());

    let reply = client
        .post(site.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": message.code.expose() }))
        .send()
        .await
        .expect("POST api/login/code/");
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(
        reply.headers().contains_key(header::SET_COOKIE),
        "a session cookie"
    );
    assert_eq!(json_of(reply).await, json!({ "next": "/" }));
    assert_eq!(
        whoami(&client, &site).await,
        (StatusCode::OK, json!({ "username": "alice" }))
    );
    let home = text_of(client.get(site.url("/")).send().await.expect("GET /")).await;
    assert!(
        home.contains("Logged in as <strong id=\"username\">alice</strong>"),
        "{home}"
    );
    assert!(home.contains("href=\"/accounts/logout/\""), "{home}");

    // Single use.
    let reply = client
        .post(site.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": message.code.expose() }))
        .send()
        .await
        .expect("replay");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    let reply = client
        .post(site.url("/accounts/api/logout/"))
        .json(&json!({}))
        .send()
        .await
        .expect("POST api/logout/");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(json_of(reply).await, json!({ "detail": text::LOGGED_OUT }));
    assert_eq!(whoami(&client, &site).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_through_the_html_pages() {
    let (demo, site) = start();
    let client = browser();

    let home = text_of(client.get(site.url("/")).send().await.expect("GET /")).await;
    assert!(home.contains("Not logged in."), "{home}");
    assert!(home.contains("href=\"/accounts/login/\""), "{home}");

    // The login form, with its CSRF token.
    let form = text_of(
        client
            .get(site.url("/accounts/login/"))
            .send()
            .await
            .expect("GET login/"),
    )
    .await;
    let token = html::csrf_token(&form).expect("the login form has a CSRF token");
    let action = html::form_action(&form).expect("the login form posts");
    let reply = client
        .post(site.url(&action))
        .form(&[("username", "alice"), ("csrfmiddlewaretoken", &token)])
        .send()
        .await
        .expect("POST login/");
    assert_eq!(reply.status(), StatusCode::OK);
    let sent = text_of(reply).await;
    assert!(sent.contains(text::SENT), "{sent}");

    // The link, from the outbox page as a person would take it (once the background delivery
    // has reached it).
    message_for(&demo, "alice").await;
    let reply = client
        .get(site.url("/outbox"))
        .send()
        .await
        .expect("GET /outbox");
    assert_eq!(reply.headers()[header::CACHE_CONTROL], "no-store");
    let outbox = text_of(reply).await;
    let link = html::tags(&outbox, "a")
        .into_iter()
        .find(|a| a.attr("class") == Some("login-link"))
        .and_then(|a| a.attr("href").map(str::to_owned))
        .unwrap_or_else(|| panic!("no login link on the outbox page: {outbox}"));
    assert!(
        link.starts_with(&site.url("/accounts/login-code/alice/")),
        "{link}"
    );

    // GET shows the auto-submitting page and does not log in...
    let reply = client.get(&link).send().await.expect("GET the link");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()["referrer-policy"], "no-referrer");
    let page = text_of(reply).await;
    assert_eq!(html::title(&page).as_deref(), Some(text::LOGGING_IN));
    assert_eq!(whoami(&client, &site).await.0, StatusCode::UNAUTHORIZED);

    // ...its POST, with the page's CSRF token, does.
    let token = html::csrf_token(&page).expect("the page has a CSRF token");
    let action = html::form_action(&page).expect("the page posts");
    let reply = client
        .post(site.url(&action))
        .form(&[("csrfmiddlewaretoken", &token)])
        .send()
        .await
        .expect("POST the link");
    assert_eq!(reply.status(), StatusCode::FOUND);
    assert_eq!(reply.headers()[header::LOCATION], "/");
    assert_eq!(
        whoami(&client, &site).await,
        (StatusCode::OK, json!({ "username": "alice" }))
    );
    let home = text_of(client.get(site.url("/")).send().await.expect("GET /")).await;
    assert!(home.contains("Logged in as"), "{home}");

    // The link is used up.
    let reply = client.get(&link).send().await.expect("GET the used link");
    assert_eq!(reply.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_login_post_without_the_csrf_token() {
    let (demo, site) = start();
    let client = browser();
    let reply = client
        .post(site.url("/accounts/api/login/"))
        .json(&json!({ "username": "bob" }))
        .send()
        .await
        .expect("POST api/login/");
    assert_eq!(reply.status(), StatusCode::OK);
    let link = message_for(&demo, "bob").await.url;
    let reply = client
        .post(&link)
        .form(&[("csrfmiddlewaretoken", "forged")])
        .send()
        .await
        .expect("POST the link");
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    assert_eq!(whoami(&client, &site).await.0, StatusCode::UNAUTHORIZED);
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the actix demo's Redis tests need it; run them with \
             `cargo xtask test`, which starts Redis and a Redis Cluster and sets it"
        )
    })
}

/// Two instances on one Redis (`redis_url`) and one `secret_key`: a code sent by A logs in on
/// B, once, and B's session is a login on A.
async fn two_instances_share_codes_and_sessions(redis_url: String, label: &str) {
    let mut settings = DemoSettings::from(Settings {
        // Unique per run and test, so runs sharing a Redis never see each other's keys.
        namespace: format!("actix-demo-test-{label}-{}", std::process::id()),
        ..settings()
    });
    settings.redis.redis_url = Some(SecretString::new(redis_url));
    let demo_a = Demo::connect(settings.clone(), demo_users())
        .await
        .expect("demo A on Redis");
    let demo_b = Demo::connect(settings, demo_users())
        .await
        .expect("demo B on Redis");
    let a = demo_a.spawn(free_listener(), 1).expect("A serves");
    let b = demo_b.spawn(free_listener(), 1).expect("B serves");
    // No cookie jar: cookies do not tell ports apart, so each request carries its cookie
    // explicitly.
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client");

    let reply = client
        .post(a.url("/accounts/api/login/"))
        .json(&json!({ "username": "alice" }))
        .send()
        .await
        .expect("request a code on A");
    assert_eq!(reply.status(), StatusCode::OK);
    let flow = json_of(reply).await["flow"]
        .as_str()
        .expect("a flow token")
        .to_owned();
    let code = message_for(&demo_a, "alice").await.code.expose().to_owned();
    assert!(
        demo_b.outbox.latest_for("alice").is_none(),
        "B sent nothing"
    );

    // Without its flow even the right code is refused (SPEC section 8)...
    let reply = client
        .post(b.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code }))
        .send()
        .await
        .expect("log in on B without the flow");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    // ...and B accepts A's code in A's flow (it travels with the code in Redis)...
    let reply = client
        .post(b.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code, "flow": flow }))
        .send()
        .await
        .expect("log in on B");
    assert_eq!(reply.status(), StatusCode::OK);
    let cookie = reply
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    assert_eq!(json_of(reply).await, json!({ "next": "/" }));

    // ...once: A refuses it now.
    let reply = client
        .post(a.url("/accounts/api/login/code/"))
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
        .post(a.url("/accounts/api/logout/"))
        .header(header::COOKIE, &cookie)
        .json(&json!({}))
        .send()
        .await
        .expect("log out on A");
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = client
        .get(b.url("/whoami"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("whoami on B");
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis() {
    two_instances_share_codes_and_sessions(env("NOPASSWORD_TEST_REDIS_URL"), "node").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_a_redis_cluster() {
    two_instances_share_codes_and_sessions(env("NOPASSWORD_TEST_REDIS_CLUSTER_URLS"), "cluster")
        .await;
}
