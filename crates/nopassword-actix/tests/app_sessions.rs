//! nopassword-actix inside an app that already has sessions and logins: its own actix-session
//! `SessionMiddleware` (its cookie name, its store) and actix-identity `IdentityMiddleware`, no
//! `login_middleware`. Then the "login required" guard, as middleware and as extractor, and the
//! handlers' tracing spans. In-process (`actix_web::test`), through the public API only.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_identity::{Identity, IdentityMiddleware, config::LogoutBehavior};
use actix_session::{Session, SessionMiddleware};
use actix_web::{
    App, HttpMessage, HttpRequest, HttpResponse,
    body::MessageBody,
    cookie::Key,
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{ACCEPT, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE},
    },
    rt::System,
    test::{self, TestRequest},
    web,
};
use nopassword_actix::{
    CurrentUser, LoggedIn, LoginRequired, MaybeUser, MemorySessionStore, configure,
};
use nopassword_conformance::redirect::OPEN_REDIRECT_PAYLOADS;
use nopassword_core::{
    NoPassword, Outbox, Settings,
    forms::messages,
    redirect::safe_next,
    user::{MemoryDirectory, User},
};
use percent_encoding::percent_decode_str;
use serde_json::json;

const SECRET: &str = "test-secret-key-0123456789abcdef-0123456789";
/// The app's own session cookie: not ours, so the tests see whose settings hold.
const APP_COOKIE: &str = "app_session";

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

fn service() -> (NoPassword<User>, Outbox) {
    let settings = Settings {
        secret_key: Some(SECRET.into()),
        ..Settings::default()
    };
    let outbox = Outbox::new(50).quiet();
    let users = MemoryDirectory::new([
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob").with_email("bob@example.com"),
        User::new("3", "carol")
            .with_email("carol@example.com")
            .inactive(),
    ]);
    let service = NoPassword::builder(settings, users)
        .sender(outbox.clone())
        .deliver_inline()
        .build()
        .expect("valid settings");
    (service, outbox)
}

async fn whoami(CurrentUser(user): CurrentUser<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "username": user.username }))
}

/// actix-identity's own view of the login, as the app's existing handlers read it.
async fn identity(user: Option<Identity>) -> HttpResponse {
    let id = user.and_then(|identity| identity.id().ok());
    HttpResponse::Ok().json(json!({ "id": id }))
}

/// The app's own login (its password form, say): `Identity::login` with the user's id.
async fn app_login(req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    Identity::login(&req.extensions(), id.into_inner()).expect("identity login");
    HttpResponse::Ok().finish()
}

/// An app route that keeps something in the session (a cart, say).
async fn remember(session: Session) -> HttpResponse {
    session.insert("cart", "apples").expect("insert");
    HttpResponse::Ok().finish()
}

async fn recall(session: Session) -> HttpResponse {
    let cart = session.get::<String>("cart").expect("get");
    HttpResponse::Ok().json(json!({ "cart": cart }))
}

async fn report(req: HttpRequest, CurrentUser(user): CurrentUser<User>) -> HttpResponse {
    HttpResponse::Ok().body(format!("{} for {}", req.uri(), user.username))
}

async fn dashboard(LoggedIn(user): LoggedIn<User>) -> HttpResponse {
    HttpResponse::Ok().body(format!("dashboard of {}", user.username))
}

async fn greeting(MaybeUser(user): MaybeUser<User>) -> HttpResponse {
    HttpResponse::Ok().body(user.map_or("hello, stranger".into(), |u| u.username))
}

/// The app: its own routes, a `/reports` scope behind [`LoginRequired`], our routes, and its
/// own session and identity middleware (identity inside sessions, as actix-identity asks).
macro_rules! app {
    () => {
        app!(IdentityMiddleware::default())
    };
    ($identity:expr) => {{
        let (service, outbox) = service();
        let sessions = MemorySessionStore::default();
        let routes = configure(service.clone()).expect("templates");
        let app = test::init_service(
            App::new()
                .route("/whoami", web::get().to(whoami))
                .route("/identity", web::get().to(identity))
                .route("/app-login/{id}", web::post().to(app_login))
                .route("/remember", web::post().to(remember))
                .route("/recall", web::get().to(recall))
                .route("/dashboard", web::get().to(dashboard))
                .route("/greeting", web::get().to(greeting))
                .service(
                    web::scope("/reports")
                        .wrap(LoginRequired::new(&service))
                        .default_service(web::to(report)),
                )
                .configure(routes)
                .wrap($identity)
                .wrap(
                    SessionMiddleware::builder(sessions.clone(), Key::from(&[7; 64]))
                        .cookie_name(APP_COOKIE.into())
                        .cookie_secure(false)
                        .build(),
                ),
        )
        .await;
        (app, outbox, sessions)
    }};
}

/// Asks for a code through the login form, as a browser does.
macro_rules! ask {
    ($app:expr, $jar:expr, $username:expr) => {{
        let page = send!($app, get("/accounts/login/"), $jar);
        let token = page.csrf_token();
        let sent = send!(
            $app,
            form(
                "/accounts/login/",
                &[("username", $username), ("csrfmiddlewaretoken", &token)]
            ),
            $jar
        );
        assert_eq!(sent.status, StatusCode::OK);
    }};
}

/// Logs `$username` in through the link, in the same browser: the "Logging in..." page, then
/// its POST. Returns the POST's answer.
macro_rules! log_in_by_link {
    ($app:expr, $outbox:expr, $jar:expr, $username:expr) => {{
        ask!($app, $jar, $username);
        let url = $outbox.latest_for($username).expect("a message").url;
        let path = &url[url.find("/accounts/").expect("a mounted link")..];
        let page = send!($app, get(path), $jar);
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let token = page.csrf_token();
        send!($app, form(path, &[("csrfmiddlewaretoken", &token)]), $jar)
    }};
}

/// Who `/whoami` says is logged in, if anyone.
macro_rules! username {
    ($app:expr, $jar:expr) => {{
        let answer = send!($app, get("/whoami"), $jar);
        (answer.status == StatusCode::OK).then(|| {
            answer.json()["username"]
                .as_str()
                .expect("a name")
                .to_owned()
        })
    }};
}

async fn links_and_typed_codes_log_in_under_the_app_s_sessions() {
    let (app, outbox, sessions) = app!();
    let mut jar = Jar::default();
    let done = log_in_by_link!(app, outbox, &mut jar, "alice");
    assert_eq!(done.status, StatusCode::FOUND);
    // The app's cookie, with the app's settings; ours would be `nopassword_session`.
    let cookie = done
        .set_cookie(APP_COOKIE)
        .expect("the app's session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(done.set_cookie("nopassword_session").is_none());
    assert_eq!(sessions.len(), 1);
    assert_eq!(username!(app, &mut jar).as_deref(), Some("alice"));
    // The app's own handlers see an ordinary actix-identity login.
    let seen = send!(app, get("/identity"), &mut jar);
    assert_eq!(seen.json()["id"], "1");

    let mut phone = Jar::default();
    ask!(app, &mut phone, "bob");
    let code = outbox
        .latest_for("bob")
        .expect("a message")
        .code
        .expose()
        .to_owned();
    let page = send!(app, get("/accounts/login/code/"), &mut phone);
    let token = page.csrf_token();
    let typed = send!(
        app,
        form(
            "/accounts/login/code/",
            &[
                ("username", "bob"),
                ("code", &code),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut phone
    );
    assert_eq!(typed.status, StatusCode::FOUND, "{}", typed.body);
    assert_eq!(username!(app, &mut phone).as_deref(), Some("bob"));
}

async fn anonymous_pages_create_no_session_of_the_app() {
    let (app, _outbox, sessions) = app!();
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let confirm = send!(app, get("/accounts/logout/"), &mut jar);
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(jar.get(APP_COOKIE).is_none(), "{jar:?}");
    assert!(sessions.is_empty());
}

async fn login_renews_the_app_s_session_and_keeps_its_anonymous_state() {
    let (app, outbox, _sessions) = app!();
    let mut jar = Jar::default();
    send!(app, TestRequest::post().uri("/remember"), &mut jar);
    let before = jar
        .get(APP_COOKIE)
        .expect("an anonymous session")
        .to_owned();
    log_in_by_link!(app, outbox, &mut jar, "alice");
    let after = jar.get(APP_COOKIE).expect("a session").to_owned();
    assert_ne!(before, after, "the session id is renewed at login");
    let cart = send!(app, get("/recall"), &mut jar);
    assert_eq!(cart.json()["cart"], "apples");
    // The id held before the login is worth nothing now.
    let mut old = Jar::default();
    old.0.insert(APP_COOKIE.into(), before);
    assert_eq!(username!(app, &mut old), None);
}

async fn logout_goes_through_identity_logout() {
    // actix-identity's default: the session is purged.
    let (app, outbox, sessions) = app!();
    let mut jar = Jar::default();
    log_in_by_link!(app, outbox, &mut jar, "alice");
    let page = send!(app, get("/accounts/logout/"), &mut jar);
    let token = page.csrf_token();
    let out = send!(
        app,
        form("/accounts/logout/", &[("csrfmiddlewaretoken", &token)]),
        &mut jar
    );
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(username!(app, &mut jar), None);
    assert!(sessions.is_empty());

    // An app that keeps sessions across logouts: only the login goes.
    let (app, outbox, sessions) = app!(
        IdentityMiddleware::builder()
            .logout_behavior(LogoutBehavior::DeleteIdentityKeys)
            .build()
    );
    let mut jar = Jar::default();
    log_in_by_link!(app, outbox, &mut jar, "alice");
    send!(app, TestRequest::post().uri("/remember"), &mut jar);
    let out = send!(
        app,
        TestRequest::post()
            .uri("/accounts/api/logout/")
            .set_json(json!({})),
        &mut jar
    );
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(username!(app, &mut jar), None);
    let seen = send!(app, get("/identity"), &mut jar);
    assert_eq!(seen.json()["id"], serde_json::Value::Null);
    let cart = send!(app, get("/recall"), &mut jar);
    assert_eq!(cart.json()["cart"], "apples");
    assert_eq!(sessions.len(), 1);
}

async fn our_cookies_get_secure_on_secure_requests_under_the_app_s_sessions() {
    let (app, _outbox, _sessions) = app!();
    let mut jar = Jar::default();
    let page = send!(app, get("https://localhost/accounts/login/"), &mut jar);
    let csrf = page.set_cookie("nopassword_csrf").expect("a CSRF cookie");
    assert!(csrf.ends_with("; Secure"), "{csrf}");
    let token = page.csrf_token();
    let sent = send!(
        app,
        form(
            "https://localhost/accounts/login/",
            &[("username", "alice"), ("csrfmiddlewaretoken", &token)]
        ),
        &mut jar
    );
    let flow = sent.set_cookie("nopassword_flow").expect("a flow cookie");
    assert!(flow.ends_with("; Secure"), "{flow}");

    let mut plain = Jar::default();
    let page = send!(app, get("/accounts/login/"), &mut plain);
    let csrf = page.set_cookie("nopassword_csrf").expect("a CSRF cookie");
    assert!(!csrf.contains("Secure"), "{csrf}");
}

async fn the_app_s_own_logins_count_for_our_extractors() {
    let (app, outbox, _sessions) = app!();
    let mut jar = Jar::default();
    let done = send!(app, TestRequest::post().uri("/app-login/2"), &mut jar);
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(username!(app, &mut jar).as_deref(), Some("bob"));
    let page = send!(app, get("/dashboard"), &mut jar);
    assert_eq!(page.body, "dashboard of bob");

    // The app logs another user in over one of our logins: the app's login stands.
    let mut jar = Jar::default();
    log_in_by_link!(app, outbox, &mut jar, "alice");
    send!(app, TestRequest::post().uri("/app-login/2"), &mut jar);
    assert_eq!(username!(app, &mut jar).as_deref(), Some("bob"));

    // An inactive account is nobody, however it logged in.
    let mut jar = Jar::default();
    send!(app, TestRequest::post().uri("/app-login/3"), &mut jar);
    assert_eq!(username!(app, &mut jar), None);
}

async fn rotating_secret_key_ends_our_logins_in_the_app_s_sessions() {
    let (app, outbox, sessions) = app!();
    let mut jar = Jar::default();
    log_in_by_link!(app, outbox, &mut jar, "alice");
    // The same session store and cookie key, another `secret_key`.
    let rotated = NoPassword::builder(
        Settings {
            secret_key: Some("another-secret-key-0123456789abcdef-012345".into()),
            ..Settings::default()
        },
        MemoryDirectory::new([User::new("1", "alice")]),
    )
    .sender(Outbox::new(1))
    .build()
    .expect("valid settings");
    let other = test::init_service(
        App::new()
            .route("/whoami", web::get().to(whoami))
            .configure(configure(rotated).expect("templates"))
            .wrap(IdentityMiddleware::default())
            .wrap(
                SessionMiddleware::builder(sessions.clone(), Key::from(&[7; 64]))
                    .cookie_name(APP_COOKIE.into())
                    .cookie_secure(false)
                    .build(),
            ),
    )
    .await;
    assert_eq!(username!(app, &mut jar).as_deref(), Some("alice"));
    let after = send!(other, get("/whoami"), &mut jar);
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

async fn without_identity_middleware_the_routes_answer_503_and_spend_nothing() {
    let (service, outbox) = service();
    let sessions = MemorySessionStore::default();
    let app = test::init_service(
        App::new()
            .route("/whoami", web::get().to(whoami))
            .configure(configure(service.clone()).expect("templates"))
            .wrap(SessionMiddleware::new(sessions, Key::from(&[7; 64]))),
    )
    .await;
    let mut jar = Jar::default();
    let page = send!(app, get("/accounts/login/"), &mut jar);
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    let api = send!(
        app,
        TestRequest::post()
            .uri("/accounts/api/login/")
            .set_json(json!({ "username": "alice" })),
        &mut jar
    );
    assert_eq!(api.status, StatusCode::OK, "asking needs no session");
    let flow = api.json()["flow"].as_str().expect("a flow").to_owned();
    let code = outbox
        .latest_for("alice")
        .expect("sent")
        .code
        .expose()
        .to_owned();
    let login = send!(
        app,
        TestRequest::post()
            .uri("/accounts/api/login/code/")
            .set_json(json!({ "username": "alice", "code": code, "flow": flow })),
        &mut jar
    );
    assert_eq!(login.status, StatusCode::SERVICE_UNAVAILABLE);
    let whoami = send!(app, get("/whoami"), &mut jar);
    assert_eq!(whoami.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!whoami.body.contains("Identity"), "{}", whoami.body);
    // The code was not spent: with sessions in place it still logs in.
    let fixed = test::init_service(
        App::new()
            .configure(configure(service).expect("templates"))
            .wrap(IdentityMiddleware::default())
            .wrap(SessionMiddleware::new(
                MemorySessionStore::default(),
                Key::from(&[7; 64]),
            )),
    )
    .await;
    let login = send!(
        fixed,
        TestRequest::post()
            .uri("/accounts/api/login/code/")
            .set_json(json!({ "username": "alice", "code": code, "flow": flow })),
        &mut jar
    );
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
}

/// The complete routes log in, so without an `IdentityMiddleware` they answer 503 before the
/// approval is taken: with sessions in place the flow still completes. The status route logs
/// nobody in and answers either way.
async fn without_identity_middleware_completing_answers_503_and_takes_nothing() {
    let (service, outbox) = service();
    let fixed = test::init_service(
        App::new()
            .configure(configure(service.clone()).expect("templates"))
            .wrap(IdentityMiddleware::default())
            .wrap(SessionMiddleware::new(
                MemorySessionStore::default(),
                Key::from(&[7; 64]),
            )),
    )
    .await;
    let broken = test::init_service(
        App::new()
            .configure(configure(service).expect("templates"))
            .wrap(SessionMiddleware::new(
                MemorySessionStore::default(),
                Key::from(&[7; 64]),
            )),
    )
    .await;
    let mut asker = Jar::default();
    let started = send!(
        fixed,
        TestRequest::post()
            .uri("/accounts/api/login/")
            .set_json(json!({ "username": "alice" })),
        &mut asker
    );
    let number = started.json()["number"].to_string();
    let url = outbox.latest_for("alice").expect("sent").url;
    let link = &url[url.find("/accounts/").expect("a mounted link")..];
    let mut phone = Jar::default();
    let page = send!(fixed, get(link), &mut phone);
    let picked = send!(
        fixed,
        form(
            link,
            &[
                ("csrfmiddlewaretoken", &page.csrf_token()),
                ("number", &number)
            ]
        ),
        &mut phone
    );
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);

    let status = send!(broken, get("/accounts/api/login/flow/"), &mut asker);
    assert_eq!(status.json()["status"], "approved");
    let token = send!(fixed, get("/accounts/login/"), &mut asker).csrf_token();
    let html = send!(
        broken,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", &token)]
        ),
        &mut asker
    );
    assert_eq!(html.status, StatusCode::SERVICE_UNAVAILABLE);
    let api = send!(
        broken,
        TestRequest::post()
            .uri("/accounts/api/login/flow/complete/")
            .set_json(json!({})),
        &mut asker
    );
    assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.json()["code"], "unavailable");
    let status = send!(fixed, get("/accounts/api/login/flow/"), &mut asker);
    assert_eq!(status.json()["status"], "approved", "nothing was taken");
    let done = send!(
        fixed,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", &token)]
        ),
        &mut asker
    );
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
}

// ---- "login required" ----

async fn login_required_sends_browsers_to_the_login_page_and_back() {
    let (app, outbox, _sessions) = app!();
    let mut jar = Jar::default();
    let target = "/reports/2026/q1?tab=sales&filter=a%20b+c";
    let refused = send!(
        app,
        get(target).insert_header((ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")),
        &mut jar
    );
    assert_eq!(refused.status, StatusCode::FOUND);
    assert_eq!(
        refused.location(),
        "/accounts/login/?next=/reports/2026/q1%3Ftab%3Dsales%26filter%3Da%2520b%2Bc"
    );
    assert_eq!(
        refused
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    // The login form carries it, the login goes there, and the page opens.
    let page = send!(app, get(refused.location()), &mut jar);
    assert_eq!(page.field("next"), target);
    let token = page.csrf_token();
    send!(
        app,
        form(
            "/accounts/login/",
            &[
                ("username", "alice"),
                ("next", target),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut jar
    );
    let url = outbox.latest_for("alice").expect("a message").url;
    let path = &url[url.find("/accounts/").expect("a mounted link")..];
    let submit = send!(app, get(path), &mut jar);
    let token = submit.csrf_token();
    let done = send!(
        app,
        form(path, &[("csrfmiddlewaretoken", &token)]),
        &mut jar
    );
    assert_eq!(done.location(), target);
    let report = send!(app, get(target), &mut jar);
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.body, format!("{target} for alice"));

    // Other methods too: browsers follow a 302 with GET, which the login page wants.
    let mut stranger = Jar::default();
    let posted = send!(app, form("/reports/new", &[("title", "x")]), &mut stranger);
    assert_eq!(posted.status, StatusCode::FOUND);
    assert_eq!(posted.location(), "/accounts/login/?next=/reports/new");
}

async fn login_required_answers_json_clients_401() {
    let (app, _outbox, _sessions) = app!();
    let mut jar = Jar::default();
    for req in [
        get("/reports/1").insert_header((ACCEPT, "application/json")),
        get("/reports/1").insert_header((ACCEPT, "text/plain, application/problem+json;q=0.9")),
        TestRequest::post()
            .uri("/reports/1")
            .set_json(json!({ "title": "x" })),
        get("/dashboard").insert_header((ACCEPT, "application/json")),
    ] {
        let refused = send!(app, req, &mut jar);
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused.json(),
            json!({ "detail": messages::UNAUTHENTICATED, "code": "unauthenticated" })
        );
        assert!(refused.headers.get(LOCATION).is_none());
    }
}

async fn logged_in_redirects_like_the_middleware() {
    let (app, outbox, _sessions) = app!();
    let mut jar = Jar::default();
    let refused = send!(app, get("/dashboard?view=week"), &mut jar);
    assert_eq!(refused.status, StatusCode::FOUND);
    assert_eq!(
        refused.location(),
        "/accounts/login/?next=/dashboard%3Fview%3Dweek"
    );
    log_in_by_link!(app, outbox, &mut jar, "alice");
    let page = send!(app, get("/dashboard?view=week"), &mut jar);
    assert_eq!(page.body, "dashboard of alice");
    let greeting = send!(app, get("/greeting"), &mut jar);
    assert_eq!(greeting.body, "alice");
}

async fn login_required_never_makes_an_open_redirect() {
    let (service, _outbox) = service();
    let sessions = MemorySessionStore::default();
    // The whole app behind the guard: the login routes stay reachable.
    let app = test::init_service(
        App::new()
            .default_service(web::to(HttpResponse::Ok))
            .configure(configure(service.clone()).expect("templates"))
            .wrap(LoginRequired::new(&service))
            .wrap(IdentityMiddleware::default())
            .wrap(SessionMiddleware::new(sessions, Key::from(&[7; 64]))),
    )
    .await;
    let mut jar = Jar::default();
    let login = send!(app, get("/accounts/login/?next=/x"), &mut jar);
    assert_eq!(
        login.status,
        StatusCode::OK,
        "the login page is not guarded"
    );
    let mut tried = 0;
    let targets = OPEN_REDIRECT_PAYLOADS.iter().copied().chain([
        "//evil.com/a?b=c",
        "/.//evil.com",
        "/x/..//evil.com",
        "/%2e//evil.com",
    ]);
    for target in targets {
        // Only what a client can put in a request line reaches the guard.
        let Ok(uri) = target.parse::<actix_web::http::Uri>() else {
            continue;
        };
        if uri.scheme().is_some() || !target.starts_with('/') {
            continue;
        }
        tried += 1;
        let refused = send!(app, get(target), &mut jar);
        assert_eq!(refused.status, StatusCode::FOUND, "{target}");
        let location = refused.location();
        let next = location
            .strip_prefix("/accounts/login/")
            .expect("the login page");
        if let Some(next) = next.strip_prefix("?next=") {
            let next = percent_decode_str(next).decode_utf8().expect("utf-8");
            assert_eq!(
                safe_next(&next).as_deref(),
                Some(&*next),
                "{target} -> {location}"
            );
            assert!(
                !next.starts_with("//") && !next.starts_with("/\\"),
                "{target}"
            );
        } else {
            assert_eq!(next, "", "{target} -> {location}");
        }
        // What the login form then carries is no way out either.
        let page = send!(app, get(location), &mut jar);
        let carried = page.field("next");
        assert!(
            carried.is_empty() || safe_next(&carried).is_some(),
            "{target}: {carried}"
        );
    }
    assert!(tried >= 5, "only {tried} payloads reached the guard");
    let evil = send!(app, get("//evil.com/a?b=c"), &mut jar);
    assert_eq!(evil.location(), "/accounts/login/");
}

// ---- spans ----

/// Span names as a test subscriber sees them.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0
            .lock()
            .expect("not poisoned")
            .push(attrs.metadata().name().to_owned());
    }
}

/// Each handler runs in a span named after its route (`nopassword.login_form`, ...; the names
/// are stable, and nopassword-axum's are the same), and the guard in
/// `nopassword.login_required`. The subscriber is this test's own, on this thread
/// (actix's test services run on the current thread), so no other test can disturb it.
#[test]
fn handlers_and_the_guard_run_in_named_spans() {
    use tracing_subscriber::layer::SubscriberExt;

    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    tracing::subscriber::with_default(subscriber, || {
        System::new().block_on(async {
            let (app, outbox, _sessions) = app!();
            let mut jar = Jar::default();
            log_in_by_link!(app, outbox, &mut jar, "alice");
            send!(app, get("/reports/1"), &mut jar);
            send!(app, get("/accounts/login/code/"), &mut jar);
            send!(app, get("/accounts/logout/"), &mut jar);
            send!(
                app,
                TestRequest::post()
                    .uri("/accounts/api/login/")
                    .set_json(json!({ "username": "bob" })),
                &mut jar
            );
            let wrong = json!({ "username": "bob", "code": "0000" });
            let api_code = TestRequest::post().uri("/accounts/api/login/code/");
            send!(app, api_code.set_json(wrong), &mut jar);
            send!(
                app,
                form("/accounts/login/code/", &[("code", "0000")]),
                &mut jar
            );
            send!(
                app,
                TestRequest::default()
                    .method(actix_web::http::Method::HEAD)
                    .uri("/accounts/login-code/alice/0000/"),
                &mut jar
            );
            let api_logout = TestRequest::post().uri("/accounts/api/logout/");
            send!(app, api_logout.set_json(json!({})), &mut jar);
            send!(app, get("/accounts/api/login/flow/"), &mut jar);
            send!(app, form("/accounts/login/flow/complete/", &[]), &mut jar);
            let api_complete = TestRequest::post().uri("/accounts/api/login/flow/complete/");
            send!(app, api_complete.set_json(json!({})), &mut jar);
        });
    });
    let seen = spans.0.lock().expect("not poisoned").clone();
    for name in [
        "nopassword.login_form",
        "nopassword.login",
        "nopassword.link",
        "nopassword.code_form",
        "nopassword.logout",
        "nopassword.api.login",
        "nopassword.api.login_code",
        "nopassword.code",
        "nopassword.api.logout",
        "nopassword.login_required",
        "nopassword.api.flow",
        "nopassword.flow_complete",
        "nopassword.api.flow_complete",
    ] {
        assert!(
            seen.iter().any(|seen| seen == name),
            "no span {name} in {seen:?}"
        );
    }
}

/// actix-web's `test` macro needs its `macros` feature; each case runs on an actix System.
macro_rules! on_actix {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                actix_web::rt::System::new().block_on(super::$case());
            }
        )*
    };
}

mod cases {
    on_actix!(
        links_and_typed_codes_log_in_under_the_app_s_sessions,
        anonymous_pages_create_no_session_of_the_app,
        login_renews_the_app_s_session_and_keeps_its_anonymous_state,
        logout_goes_through_identity_logout,
        our_cookies_get_secure_on_secure_requests_under_the_app_s_sessions,
        the_app_s_own_logins_count_for_our_extractors,
        rotating_secret_key_ends_our_logins_in_the_app_s_sessions,
        without_identity_middleware_the_routes_answer_503_and_spend_nothing,
        without_identity_middleware_completing_answers_503_and_takes_nothing,
        login_required_sends_browsers_to_the_login_page_and_back,
        login_required_answers_json_clients_401,
        logged_in_redirects_like_the_middleware,
        login_required_never_makes_an_open_redirect,
    );
}
