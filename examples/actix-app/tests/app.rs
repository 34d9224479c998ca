//! The example app, in-process (`actix_web::test`): both ways of logging in (the app's own
//! password form; nopassword's link and typed code, codes read from the outbox) reach the page
//! behind the guard, and logging out locks it again. `/readyz` answers outside the guard, and
//! `/metrics` counts each way of logging in.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use actix_app::{
    DEMO_PASSWORD, ExampleApp, METRICS_CONTENT_TYPE, PASSWORD_LOGINS, SESSION_COOKIE, demo_users,
};
use actix_web::{
    App,
    body::MessageBody,
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{
            ACCEPT, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, ORIGIN, SET_COOKIE,
            VARY,
        },
    },
    rt::System,
    test::{self, TestRequest},
};
use nopassword_core::{Outbox, Settings, sender::OutboxMessage};
use serde_json::json;

/// Held by each test, so that the counting test's before/after deltas are its own under
/// `cargo test` too (one process runs this file's tests in parallel there; nextest gives each
/// test a process of its own).
static LOGINS: Mutex<()> = Mutex::new(());

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

/// The cookies a browser keeps (one path: the tests never need two of a name).
#[derive(Debug, Default, Clone)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn absorb(&mut self, headers: &HeaderMap) {
        for header in headers.get_all(SET_COOKIE) {
            let text = header.to_str().expect("ascii cookie");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.to_ascii_lowercase().contains("max-age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a response said.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: actix_web::http::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).expect("the field") + marker.len();
        let len = self.body[start..].find('"').expect("closing quote");
        self.body[start..start + len].replace("&amp;", "&")
    }

    fn csrf_token(&self) -> String {
        self.field("csrfmiddlewaretoken")
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

async fn answer<B: MessageBody>(response: ServiceResponse<B>, jar: &mut Jar) -> Answer {
    jar.absorb(response.headers());
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

/// Sends a request with the jar's cookies and keeps the cookies the answer sets.
macro_rules! send {
    ($app:expr, $req:expr, $jar:expr) => {{
        let jar: &mut Jar = $jar;
        let req: TestRequest = $req;
        let req = if jar.0.is_empty() {
            req
        } else {
            req.insert_header((COOKIE, jar.header()))
        };
        let response = test::call_service(&$app, req.to_request()).await;
        answer(response, jar).await
    }};
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

fn form(uri: &str, fields: &[(&str, &str)]) -> TestRequest {
    let body = serde_urlencoded::to_string(fields).expect("encodes");
    TestRequest::post()
        .uri(uri)
        .insert_header((CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(body)
}

/// The latest message for `username`: delivery runs in the background (the default), so it
/// may take a moment.
async fn message_for(outbox: &Outbox, username: &str) -> OutboxMessage {
    for _ in 0..400 {
        if let Some(message) = outbox.latest_for(username) {
            return message;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("no message for {username}");
}

fn example() -> ExampleApp {
    let settings = Settings {
        secret_key: Some("example-test-secret-0123456789abcdef-0123".into()),
        ..Settings::default()
    };
    ExampleApp::new(settings, demo_users(), true).expect("the example starts")
}

/// The app as `main` assembles it.
macro_rules! app {
    ($example:expr) => {{
        let example: &ExampleApp = &$example;
        test::init_service(
            App::new()
                .configure(|cfg| example.configure(cfg))
                .wrap(example.identity_middleware())
                .wrap(example.session_middleware()),
        )
        .await
    }};
}

/// The account page's answer.
macro_rules! account {
    ($app:expr, $jar:expr) => {{ send!($app, get("/account"), $jar) }};
}

/// The page behind the guard sends anonymous browsers to nopassword's login page.
macro_rules! assert_locked {
    ($app:expr, $jar:expr) => {{
        let locked = account!($app, $jar);
        assert_eq!(locked.status, StatusCode::FOUND, "{}", locked.body);
        assert_eq!(locked.location(), "/accounts/login/?next=/account");
        assert_eq!(locked.header(CACHE_CONTROL), Some("no-store"));
        assert_eq!(locked.header(VARY), Some("accept, content-type"));
    }};
}

async fn the_password_form_reaches_the_account_page() {
    let example = example();
    let app = app!(example);
    let mut jar = Jar::default();
    assert_locked!(app, &mut jar);

    let wrong = send!(
        app,
        form(
            "/login",
            &[
                ("username", "alice"),
                ("password", "hunter2"),
                ("next", "/account")
            ]
        ),
        &mut jar
    );
    assert_eq!(wrong.status, StatusCode::OK);
    assert!(
        wrong.body.contains("Wrong username or password."),
        "{}",
        wrong.body
    );
    let unknown = send!(
        app,
        form(
            "/login",
            &[("username", "mallory"), ("password", DEMO_PASSWORD)]
        ),
        &mut jar
    );
    assert!(
        unknown.body.contains("Wrong username or password."),
        "{}",
        unknown.body
    );
    assert!(jar.get(SESSION_COOKIE).is_none());
    assert_locked!(app, &mut jar);

    let done = send!(
        app,
        form(
            "/login",
            &[
                ("username", "alice"),
                ("password", DEMO_PASSWORD),
                ("next", "/account")
            ]
        ),
        &mut jar
    );
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/account");
    let cookie = done
        .set_cookie(SESSION_COOKIE)
        .expect("the app's session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
    let page = account!(app, &mut jar);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Account of alice"), "{}", page.body);

    // The app's logout ends it.
    let out = send!(app, TestRequest::post().uri("/logout"), &mut jar);
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_locked!(app, &mut jar);
    assert!(example.sessions.is_empty());
}

async fn a_login_link_reaches_the_account_page() {
    let example = example();
    let app = app!(example);
    let mut jar = Jar::default();
    // From the guard's redirect, as a browser follows it.
    let locked = account!(app, &mut jar);
    let form_page = send!(app, get(locked.location()), &mut jar);
    assert_eq!(form_page.field("next"), "/account");
    let token = form_page.csrf_token();
    let sent = send!(
        app,
        form(
            "/accounts/login/",
            &[
                ("username", "alice"),
                ("next", "/account"),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut jar
    );
    assert_eq!(sent.status, StatusCode::OK);
    assert!(
        example.sessions.is_empty(),
        "asking for a link starts no session"
    );
    let url = message_for(&example.outbox, "alice").await.url;
    let path = &url[url.find("/accounts/").expect("a mounted link")..];
    let submit = send!(app, get(path), &mut jar);
    assert_eq!(submit.status, StatusCode::OK);
    let token = submit.csrf_token();
    let done = send!(
        app,
        form(path, &[("csrfmiddlewaretoken", &token)]),
        &mut jar
    );
    assert_eq!(done.status, StatusCode::FOUND);
    assert_eq!(done.location(), "/account");
    assert!(done.set_cookie(SESSION_COOKIE).is_some());
    let page = account!(app, &mut jar);
    assert!(page.body.contains("Account of alice"), "{}", page.body);

    // nopassword's logout ends the app's login too.
    let confirm = send!(app, get("/accounts/logout/"), &mut jar);
    let token = confirm.csrf_token();
    let out = send!(
        app,
        form("/accounts/logout/", &[("csrfmiddlewaretoken", &token)]),
        &mut jar
    );
    assert_eq!(out.status, StatusCode::FOUND);
    assert_locked!(app, &mut jar);
}

async fn a_typed_code_reaches_the_account_page() {
    let example = example();
    let app = app!(example);
    let mut jar = Jar::default();
    let page = send!(app, get("/accounts/login/?next=/account"), &mut jar);
    let token = page.csrf_token();
    send!(
        app,
        form(
            "/accounts/login/",
            &[
                ("username", "bob"),
                ("next", "/account"),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut jar
    );
    let code = message_for(&example.outbox, "bob")
        .await
        .code
        .expose()
        .to_owned();
    let code_page = send!(app, get("/accounts/login/code/"), &mut jar);
    let token = code_page.csrf_token();
    let done = send!(
        app,
        form(
            "/accounts/login/code/",
            &[
                ("username", "bob"),
                ("code", &code),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut jar
    );
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    assert_eq!(done.location(), "/account");
    let page = account!(app, &mut jar);
    assert!(page.body.contains("Account of bob"), "{}", page.body);
    // The extractor-guarded page too.
    let settings = send!(app, get("/settings"), &mut jar);
    assert!(
        settings.body.contains("Settings of bob"),
        "{}",
        settings.body
    );
}

async fn json_clients_and_cross_site_posts_are_refused() {
    let example = example();
    let app = app!(example);
    let mut jar = Jar::default();
    let api = send!(
        app,
        get("/account").insert_header((ACCEPT, "application/json")),
        &mut jar
    );
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.json(),
        json!({ "detail": "Authentication credentials were not provided.", "code": "unauthenticated" })
    );
    assert_eq!(api.header(CACHE_CONTROL), Some("no-store"));
    assert_eq!(api.header(VARY), Some("accept, content-type"));
    let settings = send!(app, get("/settings?tab=mail"), &mut jar);
    assert_eq!(
        settings.location(),
        "/accounts/login/?next=/settings%3Ftab%3Dmail"
    );

    // Login CSRF through the app's own form: another site's POST is refused.
    let forged = send!(
        app,
        form(
            "/login",
            &[("username", "alice"), ("password", DEMO_PASSWORD)]
        )
        .insert_header(("host", "localhost:8080"))
        .insert_header((ORIGIN, "https://evil.example")),
        &mut jar
    );
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(jar.get(SESSION_COOKIE).is_none());
    let same_site = send!(
        app,
        form(
            "/login",
            &[("username", "alice"), ("password", DEMO_PASSWORD)]
        )
        .insert_header(("host", "localhost:8080"))
        .insert_header((ORIGIN, "http://localhost:8080")),
        &mut jar
    );
    assert_eq!(same_site.status, StatusCode::SEE_OTHER);
    assert_eq!(same_site.location(), "/");
}

async fn readyz_answers_outside_the_guard() {
    let example = example();
    let app = app!(example);
    let ready = send!(app, get("/readyz"), &mut Jar::default());
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(
        ready.json(),
        json!({"status": "ready", "checks": {"store": "ok", "sender:outbox": "ok"}})
    );
}

/// The `/metrics` page, checked to be Prometheus's text format.
macro_rules! metrics {
    ($app:expr) => {{
        let page = send!($app, get("/metrics"), &mut Jar::default());
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.header(CONTENT_TYPE), Some(METRICS_CONTENT_TYPE));
        page.body
    }};
}

async fn metrics_count_each_way_of_logging_in() {
    let example = example();
    let app = app!(example);
    let before = metrics!(app);

    let mut by_password = Jar::default();
    let done = send!(
        app,
        form(
            "/login",
            &[("username", "alice"), ("password", DEMO_PASSWORD)]
        ),
        &mut by_password
    );
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let mut by_link = Jar::default();
    let page = send!(app, get("/accounts/login/"), &mut by_link);
    let token = page.csrf_token();
    let sent = send!(
        app,
        form(
            "/accounts/login/",
            &[("username", "alice"), ("csrfmiddlewaretoken", &token)]
        ),
        &mut by_link
    );
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let url = message_for(&example.outbox, "alice").await.url;
    let path = &url[url.find("/accounts/").expect("a mounted link")..];
    let submit = send!(app, get(path), &mut by_link);
    let token = submit.csrf_token();
    let done = send!(
        app,
        form(path, &[("csrfmiddlewaretoken", &token)]),
        &mut by_link
    );
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);

    let mut by_code = Jar::default();
    let page = send!(app, get("/accounts/login/"), &mut by_code);
    let token = page.csrf_token();
    send!(
        app,
        form(
            "/accounts/login/",
            &[("username", "bob"), ("csrfmiddlewaretoken", &token)]
        ),
        &mut by_code
    );
    let code = message_for(&example.outbox, "bob")
        .await
        .code
        .expose()
        .to_owned();
    let code_page = send!(app, get("/accounts/login/code/"), &mut by_code);
    let token = code_page.csrf_token();
    let done = send!(
        app,
        form(
            "/accounts/login/code/",
            &[
                ("username", "bob"),
                ("code", &code),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut by_code
    );
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);

    for jar in [&mut by_password, &mut by_link, &mut by_code] {
        assert_eq!(account!(app, jar).status, StatusCode::OK);
    }
    let after = metrics!(app);
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

/// actix-web's `test` macro needs its `macros` feature; each case runs on an actix System.
macro_rules! on_actix {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let _counting = super::LOGINS.lock().unwrap_or_else(PoisonError::into_inner);
                System::new().block_on(super::$case());
            }
        )*
    };
}

mod cases {
    use super::{PoisonError, System};

    on_actix!(
        the_password_form_reaches_the_account_page,
        a_login_link_reaches_the_account_page,
        a_typed_code_reaches_the_account_page,
        json_clients_and_cross_site_posts_are_refused,
        readyz_answers_outside_the_guard,
        metrics_count_each_way_of_logging_in,
    );
}
