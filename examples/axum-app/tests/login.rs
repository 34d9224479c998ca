//! The app over a real socket, driven like a browser (cookies kept, redirects not followed):
//! its own password login and our login codes (link and typed) both reach the members' page
//! behind the guard, and our logout ends either session. The outbox gives the codes.
//! `/readyz` answers outside the guard, and `/metrics` counts each way of logging in.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum_app::{App, DEMO_PASSWORD, METRICS_CONTENT_TYPE, PASSWORD_LOGINS};
use nopassword_core::{Outbox, Settings, sender::OutboxMessage};
use reqwest::{Client, StatusCode, header, redirect::Policy};

/// Held by every test that logs in, so that the counting test's before/after deltas are its
/// own under `cargo test` too (one process runs this file's tests in parallel there; nextest
/// gives each test a process of its own).
static LOGINS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The app on a free port; the server stops when this drops.
struct Running {
    base: String,
    outbox: Outbox,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn start() -> Running {
    let settings = Settings {
        secret_key: Some("axum-app-test-secret-0123456789abcdef".into()),
        ..Settings::default()
    };
    let outbox = Outbox::new(100).quiet();
    let app = App::build(settings, outbox.clone()).expect("the app builds");
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let server = tokio::spawn(async move {
        axum_app::serve(listener, app.router)
            .await
            .expect("the server runs");
    });
    Running {
        base,
        outbox,
        server,
    }
}

/// A page, read whole.
struct Page {
    status: StatusCode,
    headers: header::HeaderMap,
    location: Option<String>,
    body: String,
}

impl Page {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The value of the Prometheus sample `series` (`name{labels}`) on a `/metrics` page, 0 when
/// absent.
fn sample(page: &str, series: &str) -> u64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0)
}

/// A browser: its own cookies, redirects shown rather than followed.
struct Browser {
    client: Client,
    base: String,
}

impl Browser {
    fn new(running: &Running) -> Self {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");
        Self {
            client,
            base: running.base.clone(),
        }
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.expect("a body");
        Page {
            status,
            headers,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Page {
        let response = self.client.get(format!("{}{path}", self.base)).send();
        Self::read(response.await.expect("the server answers")).await
    }

    async fn get_json(&self, path: &str) -> Page {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json");
        Self::read(request.send().await.expect("the server answers")).await
    }

    /// The `/metrics` page, checked to be Prometheus's text format.
    async fn metrics(&self) -> String {
        let page = self.get("/metrics").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.header(header::CONTENT_TYPE),
            Some(METRICS_CONTENT_TYPE)
        );
        page.body
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        Self::read(request.send().await.expect("the server answers")).await
    }

    /// Asks for a login code on our login page, as a person does; this browser keeps the
    /// flow, so the link and the typed code count here.
    async fn ask_code(&self, running: &Running, username: &str, next: &str) -> OutboxMessage {
        let form = self.get(&format!("/accounts/login/?next={next}")).await;
        assert_eq!(form.status, StatusCode::OK);
        let token = input_value(&form.body, "csrfmiddlewaretoken");
        let before = running.outbox.messages().len();
        let fields = [
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", username),
            ("next", &input_value(&form.body, "next")),
        ];
        let sent = self.post("/accounts/login/", &fields).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        message_for(running, username, before).await
    }
}

/// The newest message once more than `before` were sent (delivery runs in the background).
async fn message_for(running: &Running, username: &str, before: usize) -> OutboxMessage {
    let started = Instant::now();
    while running.outbox.messages().len() <= before {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no code arrived for {username}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.outbox.latest_for(username).expect("a message")
}

/// The `value` of the `<input name="{name}">` of a page (no HTML escapes in our tokens and paths).
fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name} in {html}"));
    let start = html[..at].rfind('<').expect("a tag");
    let end = at + html[at..].find('>').expect("a tag end");
    attribute(&html[start..end], "value")
}

/// The `action` of the page's form.
fn form_action(html: &str) -> String {
    let start = html.find("<form").expect("a form");
    let end = start + html[start..].find('>').expect("a tag end");
    attribute(&html[start..end], "action")
}

fn attribute(tag: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(tag.len());
    let len = tag[start..].find('"').unwrap_or(0);
    tag[start..start + len].replace("&amp;", "&")
}

/// The path of a login link (the outbox names the host the request came to).
fn link_path(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("a login URL");
    url.path().to_owned()
}

const MEMBERS: &str = "/members/";
const GUARDED: &str = "/accounts/login/?next=%2Fmembers%2F";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_form_reaches_the_members_page_and_logout_ends_it() {
    let _counting = LOGINS.lock().await;
    let running = start().await;
    let browser = Browser::new(&running);
    let guarded = browser.get(MEMBERS).await;
    assert_eq!(guarded.status, StatusCode::FOUND);
    assert_eq!(guarded.location.as_deref(), Some(GUARDED));
    assert_eq!(guarded.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(guarded.header(header::VARY), Some("accept, content-type"));

    let form = browser.get("/login?next=/members/").await;
    assert_eq!(input_value(&form.body, "next"), MEMBERS);
    let wrong = [
        ("username", "alice"),
        ("password", "tr0ub4dor"),
        ("next", MEMBERS),
    ];
    let refused = browser.post("/login", &wrong).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(MEMBERS).await.status, StatusCode::FOUND);

    let right = [
        ("username", "alice"),
        ("password", DEMO_PASSWORD),
        ("next", MEMBERS),
    ];
    let logged_in = browser.post("/login", &right).await;
    assert_eq!(
        logged_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        logged_in.body
    );
    assert_eq!(logged_in.location.as_deref(), Some(MEMBERS));
    let page = browser.get(MEMBERS).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, alice."), "{}", page.body);

    // Our logout page ends the app's password session too.
    let logout = browser.get("/accounts/logout/").await;
    assert_eq!(logout.status, StatusCode::OK);
    let token = input_value(&logout.body, "csrfmiddlewaretoken");
    let action = form_action(&logout.body);
    let done = browser
        .post(&action, &[("csrfmiddlewaretoken", token.as_str())])
        .await;
    assert_eq!(done.status, StatusCode::FOUND);
    assert_eq!(browser.get(MEMBERS).await.status, StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_link_reaches_the_members_page() {
    let _counting = LOGINS.lock().await;
    let running = start().await;
    let browser = Browser::new(&running);
    let guarded = browser.get(MEMBERS).await;
    let location = guarded.location.expect("sent to the login page");
    let next = location.split_once("?next=").expect("a next").1;
    // bob has no password: a code is his only way in.
    let message = browser.ask_code(&running, "bob", next).await;

    // The link opens "Logging in..." in the browser that asked, which posts itself.
    let opening = browser.get(&link_path(&message.url)).await;
    assert_eq!(opening.status, StatusCode::OK);
    let token = input_value(&opening.body, "csrfmiddlewaretoken");
    let action = form_action(&opening.body);
    let logged_in = browser
        .post(&action, &[("csrfmiddlewaretoken", token.as_str())])
        .await;
    assert_eq!(logged_in.status, StatusCode::FOUND, "{}", logged_in.body);
    assert_eq!(logged_in.location.as_deref(), Some(MEMBERS));
    let page = browser.get(MEMBERS).await;
    assert!(page.body.contains("Welcome, bob."), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_code_reaches_the_members_page() {
    let _counting = LOGINS.lock().await;
    let running = start().await;
    let browser = Browser::new(&running);
    let message = browser.ask_code(&running, "alice", "%2Fmembers%2F").await;
    let form = browser.get("/accounts/login/code/").await;
    let token = input_value(&form.body, "csrfmiddlewaretoken");
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", "alice"),
        ("code", message.code.expose()),
    ];
    let logged_in = browser.post("/accounts/login/code/", &fields).await;
    assert_eq!(logged_in.status, StatusCode::FOUND, "{}", logged_in.body);
    assert_eq!(logged_in.location.as_deref(), Some(MEMBERS));
    let page = browser.get(MEMBERS).await;
    assert!(page.body.contains("Welcome, alice."), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_a_password_cannot_use_the_password_form() {
    let running = start().await;
    let browser = Browser::new(&running);
    for password in ["", "anything"] {
        let fields = [("username", "bob"), ("password", password)];
        let refused = browser.post("/login", &fields).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(browser.get(MEMBERS).await.status, StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_get_401_from_the_guard() {
    let running = start().await;
    let browser = Browser::new(&running);
    let page = browser.get_json(MEMBERS).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page.body,
        r#"{"code":"unauthenticated","detail":"Authentication credentials were not provided."}"#
    );
    assert_eq!(page.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(page.header(header::VARY), Some("accept, content-type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_form_follows_only_a_local_next() {
    let _counting = LOGINS.lock().await;
    let running = start().await;
    let browser = Browser::new(&running);
    let fields = [
        ("username", "alice"),
        ("password", DEMO_PASSWORD),
        ("next", "//evil.com/"),
    ];
    let logged_in = browser.post("/login", &fields).await;
    assert_eq!(logged_in.status, StatusCode::SEE_OTHER);
    assert_eq!(logged_in.location.as_deref(), Some("/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_outside_the_guard() {
    let running = start().await;
    let ready = Browser::new(&running).get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let body: serde_json::Value = serde_json::from_str(&ready.body).expect("a JSON body");
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "checks": {"store": "ok", "sender:outbox": "ok"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_each_way_of_logging_in() {
    let _counting = LOGINS.lock().await;
    let running = start().await;
    let before = Browser::new(&running).metrics().await;

    let by_password = Browser::new(&running);
    let right = [
        ("username", "alice"),
        ("password", DEMO_PASSWORD),
        ("next", MEMBERS),
    ];
    let done = by_password.post("/login", &right).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let by_link = Browser::new(&running);
    let message = by_link.ask_code(&running, "bob", "%2Fmembers%2F").await;
    let opening = by_link.get(&link_path(&message.url)).await;
    let token = input_value(&opening.body, "csrfmiddlewaretoken");
    let action = form_action(&opening.body);
    let done = by_link
        .post(&action, &[("csrfmiddlewaretoken", token.as_str())])
        .await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);

    let by_code = Browser::new(&running);
    let message = by_code.ask_code(&running, "alice", "%2Fmembers%2F").await;
    let form = by_code.get("/accounts/login/code/").await;
    let token = input_value(&form.body, "csrfmiddlewaretoken");
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", "alice"),
        ("code", message.code.expose()),
    ];
    let done = by_code.post("/accounts/login/code/", &fields).await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);

    for browser in [&by_password, &by_link, &by_code] {
        assert_eq!(browser.get(MEMBERS).await.status, StatusCode::OK);
    }
    let after = Browser::new(&running).metrics().await;
    for series in [
        r#"nopassword_logins_total{method="link"}"#,
        r#"nopassword_logins_total{method="code"}"#,
        PASSWORD_LOGINS,
    ] {
        assert_eq!(
            sample(&after, series),
            sample(&before, series) + 1,
            "{series} in\n{after}"
        );
    }
}
