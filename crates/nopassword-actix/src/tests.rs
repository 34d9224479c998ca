//! The adapter's own checks of docs/HTTP.md, Login flows at the HTTP level, in-process (the shared
//! conformance suite, `tests/`, drives a real server over the network).

use std::collections::HashMap;

use actix_session::Session;
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    dev::ServiceResponse,
    http::{
        StatusCode,
        header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE},
    },
    test::{self, TestRequest},
    web,
};
use nopassword_core::{
    NoPassword, Outbox, Settings, forms::messages, settings::CrossDeviceLinks, user::User,
};
use serde_json::json;

use crate::{CurrentUser, MemorySessionStore, configure, login_middleware};

const SECRET: &str = "test-secret-key-0123456789abcdef-0123456789";

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

    fn without(&self, name: &str) -> Self {
        let mut jar = self.clone();
        jar.0.remove(name);
        jar
    }
}

fn set_cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn service(tweak: impl FnOnce(&mut Settings), inline: bool) -> (NoPassword<User>, Outbox) {
    let mut settings = Settings {
        secret_key: Some(SECRET.into()),
        ..Settings::default()
    };
    tweak(&mut settings);
    let outbox = Outbox::new(50).quiet();
    let users = nopassword_core::user::MemoryDirectory::new([
        User::new("1", "alice").with_email("alice@example.com"),
        User::new("2", "bob").with_email("bob@example.com"),
    ]);
    let builder = NoPassword::builder(settings, users).sender(outbox.clone());
    let builder = if inline {
        builder.deliver_inline()
    } else {
        builder
    };
    (builder.build().expect("valid settings"), outbox)
}

async fn whoami(CurrentUser(user): CurrentUser<User>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "username": user.username }))
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

/// The app an adapter user builds, as a test service, with its outbox and session store.
macro_rules! site {
    ($tweak:expr) => {
        site!($tweak, true)
    };
    ($tweak:expr, $inline:expr) => {{
        let (service, outbox) = service($tweak, $inline);
        let sessions = MemorySessionStore::default();
        let routes = configure(service.clone()).expect("templates");
        let app = test::init_service(
            App::new()
                .route("/whoami", web::get().to(whoami))
                .route("/remember", web::post().to(remember))
                .route("/recall", web::get().to(recall))
                .configure(routes)
                .wrap(login_middleware(&service, sessions.clone())),
        )
        .await;
        (app, outbox, sessions)
    }};
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

    /// The matching number of a waiting page (`#nopassword-number`).
    fn number(&self) -> u8 {
        let start = self
            .body
            .find("id=\"nopassword-number\"")
            .expect("a number");
        let rest = &self.body[start..];
        let from = rest.find("<strong>").expect("a strong number") + "<strong>".len();
        let to = rest.find("</strong>").expect("closing tag");
        let digits: String = rest[from..to]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().expect("a two-digit number")
    }

    /// The numbers offered by an approval form (`#nopassword-approve`), in page order.
    fn offered_numbers(&self) -> Vec<u8> {
        let Some(start) = self.body.find("id=\"nopassword-approve\"") else {
            return Vec::new();
        };
        let form = &self.body[start..];
        let form = &form[..form.find("</form>").expect("a closed form")];
        form.split("name=\"number\" value=\"")
            .skip(1)
            .map(|rest| {
                rest[..rest.find('"').expect("quote")]
                    .parse()
                    .expect("a number")
            })
            .collect()
    }

    /// The form's CSRF token.
    fn csrf_token(&self) -> String {
        let marker = "name=\"csrfmiddlewaretoken\" value=\"";
        let start = self.body.find(marker).expect("a CSRF field") + marker.len();
        let len = self.body[start..].find('"').expect("closing quote");
        self.body[start..start + len].to_owned()
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

fn form(uri: &str, fields: &[(&str, &str)]) -> TestRequest {
    let body = serde_urlencoded::to_string(fields).expect("encodes");
    TestRequest::post()
        .uri(uri)
        .insert_header((CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(body)
}

fn api(uri: &str, body: serde_json::Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

/// The link's path in the latest message for `username`.
fn link_path(outbox: &Outbox, username: &str) -> String {
    let url = outbox.latest_for(username).expect("a message").url;
    let start = url.find("/accounts/").expect("a mounted link");
    url[start..].to_owned()
}

fn code(outbox: &Outbox, username: &str) -> String {
    outbox
        .latest_for(username)
        .expect("a message")
        .code
        .expose()
        .to_owned()
}

/// Asks for a login code through the form, as a browser does: the form page, then its POST.
macro_rules! ask {
    ($app:expr, $jar:expr, $username:expr) => {{
        let page = send!($app, TestRequest::get().uri("/accounts/login/"), $jar);
        let token = page.csrf_token();
        send!(
            $app,
            form(
                "/accounts/login/",
                &[("username", $username), ("csrfmiddlewaretoken", &token)]
            ),
            $jar
        )
    }};
}

async fn anonymous_pages_store_nothing_and_use_a_csrf_cookie() {
    let (app, outbox, sessions) = site!(|_| {});
    let mut jar = Jar::default();
    let first = send!(app, TestRequest::get().uri("/accounts/login/"), &mut jar);
    assert_eq!(first.status, StatusCode::OK);
    let cookie = set_cookie_named(&first.headers, "nopassword_csrf").expect("a CSRF cookie");
    assert!(cookie.contains("Path=/accounts"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(set_cookie_named(&first.headers, "nopassword_session").is_none());
    let token = first.csrf_token();
    assert_eq!(jar.get("nopassword_csrf"), Some(token.as_str()));

    // The cookie is reused while valid: no new Set-Cookie, the same token.
    let second = send!(app, TestRequest::get().uri("/accounts/login/"), &mut jar);
    assert!(set_cookie_named(&second.headers, "nopassword_csrf").is_none());
    assert_eq!(second.csrf_token(), token);

    // A forged cookie is replaced.
    let mut forged = Jar::default();
    forged.0.insert("nopassword_csrf".into(), "00.00".into());
    let page = send!(app, TestRequest::get().uri("/accounts/login/"), &mut forged);
    assert_ne!(page.csrf_token(), "00.00");
    assert!(set_cookie_named(&page.headers, "nopassword_csrf").is_some());

    for uri in ["/accounts/login/code/", "/accounts/logout/"] {
        let page = send!(app, TestRequest::get().uri(uri), &mut jar);
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert_eq!(page.csrf_token(), token, "{uri}");
    }
    let sent = ask!(app, &mut jar, "alice");
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.body.contains(messages::SENT_PAGE));
    let link = link_path(&outbox, "alice");
    let opened = send!(app, TestRequest::get().uri(&link), &mut jar);
    assert_eq!(opened.status, StatusCode::OK);
    let confirm = send!(
        app,
        TestRequest::get().uri(&link),
        &mut jar.without("nopassword_flow")
    );
    assert!(confirm.body.contains(messages::CONFIRM_LOGIN));
    assert!(sessions.is_empty(), "anonymous visits stored {sessions:?}");
    assert!(jar.get("nopassword_session").is_none());
}

async fn posts_need_the_csrf_cookie_and_its_token() {
    let (app, _outbox, sessions) = site!(|_| {});
    let mut jar = Jar::default();
    let token = send!(app, TestRequest::get().uri("/accounts/login/"), &mut jar).csrf_token();
    let fields = [
        ("username", "alice"),
        ("csrfmiddlewaretoken", token.as_str()),
    ];
    let no_cookie = send!(app, form("/accounts/login/", &fields), &mut Jar::default());
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let no_field = send!(
        app,
        form("/accounts/login/", &[("username", "alice")]),
        &mut jar.clone()
    );
    assert_eq!(no_field.status, StatusCode::FORBIDDEN);
    let mut other = Jar::default();
    let other_token =
        send!(app, TestRequest::get().uri("/accounts/login/"), &mut other).csrf_token();
    assert_ne!(other_token, token);
    let mismatched = send!(
        app,
        form(
            "/accounts/login/",
            &[("username", "alice"), ("csrfmiddlewaretoken", &other_token)]
        ),
        &mut jar.clone()
    );
    assert_eq!(mismatched.status, StatusCode::FORBIDDEN);
    let ok = send!(app, form("/accounts/login/", &fields), &mut jar);
    assert_eq!(ok.status, StatusCode::OK);
    let logout = send!(
        app,
        form("/accounts/logout/", &[("csrfmiddlewaretoken", "x")]),
        &mut jar
    );
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert!(sessions.is_empty());
}

async fn the_sent_page_sets_the_flow_cookie_for_anyone() {
    let (app, _outbox, _sessions) = site!(|_| {});
    for username in ["alice", "nobody"] {
        let mut jar = Jar::default();
        let sent = ask!(app, &mut jar, username);
        assert_eq!(sent.status, StatusCode::OK);
        let cookie = set_cookie_named(&sent.headers, "nopassword_flow").expect("a flow cookie");
        assert!(cookie.contains("Path=/accounts"), "{cookie}");
        assert!(cookie.contains("Max-Age=900"), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert_eq!(jar.get("nopassword_flow").map(str::len), Some(64));
    }
}

async fn secure_requests_get_secure_cookies() {
    let (app, _outbox, _sessions) = site!(|_| {});
    let mut jar = Jar::default();
    let page = send!(
        app,
        TestRequest::get().uri("https://localhost/accounts/login/"),
        &mut jar
    );
    let cookie = set_cookie_named(&page.headers, "nopassword_csrf").expect("a CSRF cookie");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

async fn the_same_browser_logs_in_through_the_link() {
    let (app, outbox, sessions) = site!(|s: &mut Settings| {
        s.login_redirect_url = "/home".into();
    });
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let link = link_path(&outbox, "alice");
    let head = send!(
        app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&link),
        &mut jar
    );
    assert_eq!(head.status, StatusCode::OK);
    let page = send!(app, TestRequest::get().uri(&link), &mut jar);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(messages::LOGGING_IN), "{}", page.body);
    let posted = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &page.csrf_token())]),
        &mut jar
    );
    assert_eq!(posted.status, StatusCode::FOUND);
    assert_eq!(posted.location(), "/home");
    assert_eq!(sessions.len(), 1);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");
    // Single use.
    let again = send!(app, TestRequest::get().uri(&link), &mut jar);
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn without_post_redirect_the_flow_s_browser_logs_in_on_get() {
    let (app, outbox, _sessions) = site!(|s: &mut Settings| s.post_redirect = false);
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let link = link_path(&outbox, "alice");
    // Another client only gets the confirmation page, and spends nothing.
    let other = send!(app, TestRequest::get().uri(&link), &mut Jar::default());
    assert_eq!(other.status, StatusCode::OK);
    assert!(other.body.contains(messages::CONFIRM_LOGIN));
    let opened = send!(app, TestRequest::get().uri(&link), &mut jar);
    assert_eq!(opened.status, StatusCode::FOUND, "{}", opened.body);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");
}

async fn another_browser_confirms_before_logging_in() {
    let (app, outbox, _sessions) = site!(|_| {});
    let mut asker = Jar::default();
    ask!(app, &mut asker, "alice");
    let link = link_path(&outbox, "alice");
    let mut other = Jar::default();
    let head = send!(
        app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&link),
        &mut other
    );
    assert_eq!(head.status, StatusCode::OK);
    let page = send!(app, TestRequest::get().uri(&link), &mut other);
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(messages::CONFIRM_LOGIN));
    assert!(page.body.contains(messages::LOG_IN));
    assert!(page.body.contains("alice"));
    assert!(page.body.contains(" UTC"), "the request time");
    assert!(!page.body.contains("<script"), "no script submits it");
    assert!(page.body.contains(&format!("action=\"{link}\"")));
    let posted = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &page.csrf_token())]),
        &mut other
    );
    assert_eq!(posted.status, StatusCode::FOUND);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut other);
    assert_eq!(me.json()["username"], "alice");
}

async fn deny_refuses_other_browsers_and_spends_nothing() {
    let (app, outbox, _sessions) =
        site!(|s: &mut Settings| s.cross_device_links = CrossDeviceLinks::Deny);
    let mut asker = Jar::default();
    ask!(app, &mut asker, "alice");
    let link = link_path(&outbox, "alice");
    let mut other = Jar::default();
    let head = send!(
        app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&link),
        &mut other
    );
    assert_eq!(head.status, StatusCode::FORBIDDEN);
    let page = send!(app, TestRequest::get().uri(&link), &mut other);
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains(messages::OTHER_BROWSER), "{}", page.body);
    let token = send!(app, TestRequest::get().uri("/accounts/login/"), &mut other).csrf_token();
    let posted = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &token)]),
        &mut other
    );
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut other);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // The asker's browser still logs in with it.
    let page = send!(app, TestRequest::get().uri(&link), &mut asker);
    assert_eq!(page.status, StatusCode::OK);
    let posted = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &page.csrf_token())]),
        &mut asker
    );
    assert_eq!(posted.status, StatusCode::FOUND);
}

async fn typed_codes_count_only_with_their_flow() {
    let (app, outbox, _sessions) = site!(|_| {});
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let code = code(&outbox, "alice");
    // Another browser, even with the right code and its own CSRF cookie: refused.
    let mut other = Jar::default();
    let token = send!(
        app,
        TestRequest::get().uri("/accounts/login/code/"),
        &mut other
    )
    .csrf_token();
    let refused = send!(
        app,
        form(
            "/accounts/login/code/",
            &[
                ("username", "alice"),
                ("code", &code),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut other
    );
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains(messages::INVALID_CODE));
    // The flow's browser: logged in.
    let token = send!(
        app,
        TestRequest::get().uri("/accounts/login/code/"),
        &mut jar
    )
    .csrf_token();
    let ok = send!(
        app,
        form(
            "/accounts/login/code/",
            &[
                ("username", "alice"),
                ("code", &code),
                ("csrfmiddlewaretoken", &token)
            ]
        ),
        &mut jar
    );
    assert_eq!(ok.status, StatusCode::FOUND, "{}", ok.body);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");
}

async fn the_api_answers_the_flow_and_takes_it_back() {
    let (app, outbox, _sessions) = site!(|_| {});
    // A client without a cookie jar.
    let sent = send!(
        app,
        api("/accounts/api/login/", json!({ "username": "alice" })),
        &mut Jar::default()
    );
    assert_eq!(sent.status, StatusCode::OK);
    let body = sent.json();
    assert_eq!(body["detail"], messages::CODE_SENT);
    let flow = body["flow"].as_str().expect("a flow").to_owned();
    assert_eq!(flow.len(), 64);
    let cookie = set_cookie_named(&sent.headers, "nopassword_flow").expect("a flow cookie");
    assert!(
        cookie.starts_with(&format!("nopassword_flow={flow};")),
        "{cookie}"
    );
    let code = code(&outbox, "alice");
    let without = send!(
        app,
        api(
            "/accounts/api/login/code/",
            json!({ "username": "alice", "code": code })
        ),
        &mut Jar::default()
    );
    assert_eq!(without.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        without.json(),
        json!({ "__all__": [messages::INVALID_CODE], "codes": { "__all__": ["invalid_code"] } })
    );
    let mut jar = Jar::default();
    let with = send!(
        app,
        api(
            "/accounts/api/login/code/",
            json!({ "username": "alice", "code": code, "flow": flow })
        ),
        &mut jar
    );
    assert_eq!(with.status, StatusCode::OK, "{}", with.body);
    assert!(with.json()["next"].is_string());
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");

    // A client with a cookie jar: the cookie is enough.
    let mut browser = Jar::default();
    send!(
        app,
        api("/accounts/api/login/", json!({ "username": "bob" })),
        &mut browser
    );
    let code = self::code(&outbox, "bob");
    let with_cookie = send!(
        app,
        api(
            "/accounts/api/login/code/",
            json!({ "username": "bob", "code": code })
        ),
        &mut browser
    );
    assert_eq!(with_cookie.status, StatusCode::OK, "{}", with_cookie.body);
}

async fn logout_on_get_is_off_by_default() {
    let (app, outbox, sessions) = site!(|_| {});
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let code = code(&outbox, "alice");
    send!(
        app,
        api(
            "/accounts/api/login/code/",
            json!({ "username": "alice", "code": code })
        ),
        &mut jar
    );
    let page = send!(
        app,
        TestRequest::get().uri("/accounts/logout/?next=/bye"),
        &mut jar
    );
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(messages::LOG_OUT_TITLE));
    assert!(page.body.contains(&format!(">{}<", messages::LOG_OUT)));
    assert!(page.body.contains("action=\"/accounts/logout/\""));
    assert!(page.body.contains("value=\"/bye\""));
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.status, StatusCode::OK, "still logged in");
    let head = send!(
        app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/accounts/logout/"),
        &mut jar
    );
    assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);
    let out = send!(
        app,
        form(
            "/accounts/logout/",
            &[
                ("csrfmiddlewaretoken", &page.csrf_token()),
                ("next", "/bye")
            ]
        ),
        &mut jar
    );
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location(), "/bye");
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(sessions.is_empty());
}

async fn logout_on_get_logs_out() {
    let (app, outbox, _sessions) = site!(|s: &mut Settings| s.logout_on_get = true);
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let code = code(&outbox, "alice");
    send!(
        app,
        api(
            "/accounts/api/login/code/",
            json!({ "username": "alice", "code": code })
        ),
        &mut jar
    );
    let out = send!(app, TestRequest::get().uri("/accounts/logout/"), &mut jar);
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.location(), "/accounts/login/");
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

/// Logs in through the API with the jar's flow; the session cookie after it.
macro_rules! log_in {
    ($app:expr, $outbox:expr, $jar:expr, $username:expr) => {{
        send!(
            $app,
            api("/accounts/api/login/", json!({ "username": $username })),
            $jar
        );
        let code = code(&$outbox, $username);
        let answer = send!(
            $app,
            api(
                "/accounts/api/login/code/",
                json!({ "username": $username, "code": code })
            ),
            $jar
        );
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        $jar.get("nopassword_session").expect("a session").to_owned()
    }};
}

async fn login_always_renews_the_session_id() {
    let (app, outbox, sessions) = site!(|_| {});
    // A session begun by the app before login: renewed, its state kept.
    let mut jar = Jar::default();
    send!(app, TestRequest::post().uri("/remember"), &mut jar);
    let anonymous = jar
        .get("nopassword_session")
        .expect("the app's session")
        .to_owned();
    let alice = log_in!(app, outbox, &mut jar, "alice");
    assert_ne!(alice, anonymous);
    assert_eq!(sessions.len(), 1, "the old entry is gone");
    let cart = send!(app, TestRequest::get().uri("/recall"), &mut jar);
    assert_eq!(cart.json()["cart"], "apples");

    // The same user again: a new id.
    let again = log_in!(app, outbox, &mut jar, "alice");
    assert_ne!(again, alice);
    // Another user: a new id, and nothing of the first user's session.
    let bob = log_in!(app, outbox, &mut jar, "bob");
    assert_ne!(bob, again);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "bob");
    let cart = send!(app, TestRequest::get().uri("/recall"), &mut jar);
    assert_eq!(cart.json()["cart"], serde_json::Value::Null);
    assert_eq!(sessions.len(), 1);

    // A planted cookie (a valid session of the attacker's, fixed in the victim's browser).
    let mut victim = Jar::default();
    victim.0.insert("nopassword_session".into(), bob.clone());
    let mine = log_in!(app, outbox, &mut victim, "alice");
    assert_ne!(mine, bob);
    let mut attacker = Jar::default();
    attacker.0.insert("nopassword_session".into(), bob);
    let stolen = send!(app, TestRequest::get().uri("/whoami"), &mut attacker);
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED);

    // A cookie the store does not know.
    let mut planted = Jar::default();
    planted
        .0
        .insert("nopassword_session".into(), "not-a-session".into());
    let fresh = log_in!(app, outbox, &mut planted, "alice");
    assert_ne!(fresh, "not-a-session");
}

async fn configure_delivers_in_the_background() {
    let (app, outbox, _sessions) = site!(|_| {}, false);
    let mut jar = Jar::default();
    let sent = ask!(app, &mut jar, "alice");
    assert_eq!(sent.status, StatusCode::OK);
    for _ in 0..200 {
        if outbox.latest_for("alice").is_some() {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the code was never delivered");
}

/// `GET api/login/flow/` for the jar's flow cookie (or `?flow=` when given).
macro_rules! status {
    ($app:expr, $jar:expr) => {{ status!($app, $jar, "/accounts/api/login/flow/") }};
    ($app:expr, $jar:expr, $uri:expr) => {{
        let answer = send!($app, TestRequest::get().uri($uri), $jar);
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer
                .headers
                .get(actix_web::http::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        answer.json()["status"]
            .as_str()
            .expect("a status")
            .to_owned()
    }};
}

/// Opens `link` on another device and picks `number` on its "Confirm login" page.
macro_rules! pick {
    ($app:expr, $jar:expr, $link:expr, $number:expr) => {{
        let jar: &mut Jar = $jar;
        let page = send!($app, TestRequest::get().uri($link), jar);
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let number: String = $number.to_string();
        send!(
            $app,
            form(
                $link,
                &[
                    ("csrfmiddlewaretoken", &page.csrf_token()),
                    ("number", &number)
                ]
            ),
            jar
        )
    }};
}

async fn the_waiting_page_and_the_api_show_the_flow_s_number() {
    let (app, _outbox, _sessions) = site!(|_| {});
    for username in ["alice", "nobody"] {
        let mut jar = Jar::default();
        let sent = ask!(app, &mut jar, username);
        assert_eq!(sent.status, StatusCode::OK);
        assert!((10..=99).contains(&sent.number()), "{}", sent.body);
        assert!(
            sent.body
                .contains("action=\"/accounts/login/flow/complete/\""),
            "{}",
            sent.body
        );
        assert!(sent.body.contains("id=\"nopassword-complete\""));
        assert!(
            sent.body
                .contains("data-status=\"/accounts/api/login/flow/\"")
        );
        assert_eq!(sent.csrf_token(), jar.get("nopassword_csrf").expect("csrf"));
        // The same flow, asked again through the API, keeps its number.
        let api = send!(
            app,
            api("/accounts/api/login/", json!({ "username": username })),
            &mut jar
        );
        let body = api.json();
        assert_eq!(body["code"], "code_sent");
        assert_eq!(body["number"], json!(sent.number()), "{body}");
        assert_eq!(body["flow"].as_str(), jar.get("nopassword_flow"));
    }
}

async fn another_device_approves_and_the_asker_completes() {
    let (app, outbox, sessions) = site!(|s: &mut Settings| s.login_redirect_url = "/home".into());
    let mut asker = Jar::default();
    let sent = ask!(app, &mut asker, "alice");
    let number = sent.number();
    assert_eq!(status!(app, &mut asker), "pending");
    // "Continue" too early: the waiting page again, with the notice.
    let early = send!(
        app,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", &sent.csrf_token())]
        ),
        &mut asker
    );
    assert_eq!(early.status, StatusCode::OK);
    assert!(
        early.body.contains(messages::FLOW_NOT_APPROVED),
        "{}",
        early.body
    );
    assert_eq!(early.number(), number);

    let link = link_path(&outbox, "alice");
    let mut phone = Jar::default();
    let page = send!(app, TestRequest::get().uri(&link), &mut phone);
    let offered = page.offered_numbers();
    assert_eq!(offered.len(), 3, "{}", page.body);
    assert!(offered.contains(&number));
    let approved = pick!(app, &mut phone, &link, number);
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert!(approved.body.contains(messages::LOGIN_APPROVED));
    assert!(set_cookie_named(&approved.headers, "nopassword_session").is_none());
    // The phone is not logged in, and the link is spent.
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut phone);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let again = send!(app, TestRequest::get().uri(&link), &mut phone);
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    // A stranger learns nothing; the asker sees the approval.
    assert_eq!(status!(app, &mut phone), "expired");
    assert_eq!(status!(app, &mut asker), "approved");
    assert!(sessions.is_empty(), "nobody logged in yet: {sessions:?}");

    // Completing needs the CSRF token.
    let forged = send!(
        app,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", "x")]
        ),
        &mut asker.clone()
    );
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let done = send!(
        app,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", &sent.csrf_token())]
        ),
        &mut asker
    );
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    assert_eq!(done.location(), "/home");
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut asker);
    assert_eq!(me.json()["username"], "alice");
    assert_eq!(sessions.len(), 1);
    // Once only; the flow reads "pending" again (never a tell of whether the code is gone).
    assert_eq!(status!(app, &mut asker), "pending");
    let twice = send!(
        app,
        form(
            "/accounts/login/flow/complete/",
            &[("csrfmiddlewaretoken", &sent.csrf_token())]
        ),
        &mut asker
    );
    assert_eq!(twice.status, StatusCode::OK);
    assert!(twice.body.contains(messages::FLOW_NOT_APPROVED));
}

async fn a_wrong_number_approves_nothing_and_logs_nobody_in() {
    let (app, outbox, _sessions) = site!(|_| {});
    let mut asker = Jar::default();
    let number = ask!(app, &mut asker, "alice").number();
    let link = link_path(&outbox, "alice");
    let mut phone = Jar::default();
    let page = send!(app, TestRequest::get().uri(&link), &mut phone);
    let wrong = *page
        .offered_numbers()
        .iter()
        .find(|&&n| n != number)
        .expect("two decoys");
    let refused = pick!(app, &mut phone, &link, wrong);
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains(messages::NOT_APPROVED));
    assert!(refused.body.contains(messages::WRONG_NUMBER));
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut phone);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(status!(app, &mut asker), "pending");
    // The page no longer offers approval; a later right pick withdraws the code.
    let page = send!(app, TestRequest::get().uri(&link), &mut phone);
    assert!(page.offered_numbers().is_empty(), "{}", page.body);
    let late = pick!(app, &mut phone, &link, number);
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    // Withdrawn, and "pending" all the same: a withdrawn code reads like an unknown user's.
    assert_eq!(status!(app, &mut asker), "pending");
    let gone = send!(app, TestRequest::get().uri(&link), &mut asker);
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

async fn picking_is_refused_outside_confirm_and_spends_nothing() {
    for mode in [CrossDeviceLinks::Allow, CrossDeviceLinks::Deny] {
        let (app, outbox, _sessions) = site!(move |s: &mut Settings| s.cross_device_links = mode);
        let mut asker = Jar::default();
        let number = ask!(app, &mut asker, "alice").number();
        let link = link_path(&outbox, "alice");
        let mut phone = Jar::default();
        let token = send!(app, TestRequest::get().uri("/accounts/login/"), &mut phone).csrf_token();
        let number = number.to_string();
        let picked = send!(
            app,
            form(
                &link,
                &[("csrfmiddlewaretoken", &token), ("number", &number)]
            ),
            &mut phone
        );
        assert_eq!(
            picked.status,
            StatusCode::FORBIDDEN,
            "{mode:?}: {}",
            picked.body
        );
        let me = send!(app, TestRequest::get().uri("/whoami"), &mut phone);
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert_eq!(status!(app, &mut asker), "pending", "{mode:?}");
        // The asker's own browser still logs in with the link.
        let page = send!(app, TestRequest::get().uri(&link), &mut asker);
        let posted = send!(
            app,
            form(&link, &[("csrfmiddlewaretoken", &page.csrf_token())]),
            &mut asker
        );
        assert_eq!(posted.status, StatusCode::FOUND, "{mode:?}");
    }
}

async fn the_same_browser_s_pick_never_logs_it_in_and_an_empty_number_logs_in() {
    let (app, outbox, _sessions) = site!(|_| {});
    // An empty `number` is the plain "Log in" of the link; a blank one is a (wrong) pick, as
    // on axum: it logs nobody in.
    let mut jar = Jar::default();
    ask!(app, &mut jar, "alice");
    let link = link_path(&outbox, "alice");
    let page = send!(app, TestRequest::get().uri(&link), &mut jar);
    let token = page.csrf_token();
    let blank = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &token), ("number", " ")]),
        &mut jar
    );
    assert_eq!(blank.status, StatusCode::BAD_REQUEST, "{}", blank.body);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let empty = send!(
        app,
        form(&link, &[("csrfmiddlewaretoken", &token), ("number", "")]),
        &mut jar
    );
    assert_eq!(empty.status, StatusCode::FOUND, "{}", empty.body);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");
    // A pick posted by the flow's own browser approves, and logs in only through completing.
    let mut jar = Jar::default();
    let number = ask!(app, &mut jar, "bob").number();
    let link = link_path(&outbox, "bob");
    let approved = pick!(app, &mut jar, &link, number);
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert!(set_cookie_named(&approved.headers, "nopassword_session").is_none());
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(status!(app, &mut jar), "approved");
}

async fn completing_without_a_flow_is_the_404_page() {
    let (app, _outbox, _sessions) = site!(|_| {});
    let mut jar = Jar::default();
    let token = send!(app, TestRequest::get().uri("/accounts/login/"), &mut jar).csrf_token();
    let fields = [("csrfmiddlewaretoken", token.as_str())];
    let none = send!(
        app,
        form("/accounts/login/flow/complete/", &fields),
        &mut jar.clone()
    );
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(
        none.body.contains(messages::CODE_NOT_FOUND),
        "{}",
        none.body
    );
    let mut malformed = jar.clone();
    malformed
        .0
        .insert("nopassword_flow".into(), "not-a-flow".into());
    let bad = send!(
        app,
        form("/accounts/login/flow/complete/", &fields),
        &mut malformed
    );
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    // A well-formed flow nobody knows: the waiting page, its number the flow's own.
    let mut unknown = jar.clone();
    unknown.0.insert("nopassword_flow".into(), "ab".repeat(32));
    let waiting = send!(
        app,
        form("/accounts/login/flow/complete/", &fields),
        &mut unknown
    );
    assert_eq!(waiting.status, StatusCode::OK, "{}", waiting.body);
    assert!(waiting.body.contains(messages::FLOW_NOT_APPROVED));
    assert!((10..=99).contains(&waiting.number()));
    // HEAD of the status route answers as GET (axum's GET routes do too; the server drops the
    // body, which this in-process test service does not).
    let head = send!(
        app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/accounts/api/login/flow/"),
        &mut jar
    );
    assert_eq!(head.status, StatusCode::OK);
    // GET is not a route.
    let get = send!(
        app,
        TestRequest::get().uri("/accounts/login/flow/complete/"),
        &mut jar
    );
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
}

async fn the_api_polls_and_completes_an_approved_flow() {
    let (app, outbox, _sessions) = site!(|_| {});
    // A client without a cookie jar: the flow travels in the query and the body.
    let started = send!(
        app,
        api("/accounts/api/login/", json!({ "username": "alice" })),
        &mut Jar::default()
    );
    let body = started.json();
    let flow = body["flow"].as_str().expect("a flow").to_owned();
    let number = u8::try_from(body["number"].as_u64().expect("a number")).expect("u8");
    let by_query = format!("/accounts/api/login/flow/?flow={flow}");
    assert_eq!(status!(app, &mut Jar::default(), &by_query), "pending");
    assert_eq!(
        status!(app, &mut Jar::default()),
        "expired",
        "no flow at all"
    );
    assert_eq!(
        status!(
            app,
            &mut Jar::default(),
            "/accounts/api/login/flow/?flow=junk"
        ),
        "expired"
    );
    let complete = || {
        api(
            "/accounts/api/login/flow/complete/",
            json!({ "flow": flow }),
        )
    };
    let early = send!(app, complete(), &mut Jar::default());
    assert_eq!(early.status, StatusCode::UNAUTHORIZED, "{}", early.body);
    assert_eq!(
        early.json(),
        json!({ "detail": messages::FLOW_NOT_APPROVED, "code": "flow_not_approved" })
    );
    // In the request's language.
    let german = send!(
        app,
        complete().insert_header((actix_web::http::header::ACCEPT_LANGUAGE, "de")),
        &mut Jar::default()
    );
    assert_eq!(german.status, StatusCode::UNAUTHORIZED);
    assert_eq!(german.json()["code"], "flow_not_approved");
    assert_ne!(german.json()["detail"], messages::FLOW_NOT_APPROVED);

    let link = link_path(&outbox, "alice");
    let approved = pick!(app, &mut Jar::default(), &link, number);
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(status!(app, &mut Jar::default(), &by_query), "approved");
    let mut jar = Jar::default();
    let done = send!(app, complete(), &mut jar);
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json(), json!({ "next": "/" }));
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut jar);
    assert_eq!(me.json()["username"], "alice");
    let twice = send!(app, complete(), &mut Jar::default());
    assert_eq!(twice.status, StatusCode::UNAUTHORIZED);

    // A client with a cookie jar: the cookie is enough, and a JSON body is required.
    let mut browser = Jar::default();
    let started = send!(
        app,
        api("/accounts/api/login/", json!({ "username": "bob" })),
        &mut browser
    );
    let number = started.json()["number"].to_string();
    pick!(app, &mut Jar::default(), &link_path(&outbox, "bob"), number);
    assert_eq!(status!(app, &mut browser), "approved");
    let as_form = send!(
        app,
        form("/accounts/api/login/flow/complete/", &[]),
        &mut browser
    );
    assert_eq!(as_form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let done = send!(
        app,
        api("/accounts/api/login/flow/complete/", json!({})),
        &mut browser
    );
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let me = send!(app, TestRequest::get().uri("/whoami"), &mut browser);
    assert_eq!(me.json()["username"], "bob");
}

/// actix-web's `test` macro needs its `macros` feature; each case runs on an actix System.
macro_rules! on_actix {
    ($($case:ident),* $(,)?) => {
        mod cases {
            $(
                #[test]
                fn $case() {
                    actix_web::rt::System::new().block_on(super::$case());
                }
            )*
        }
    };
}

on_actix!(
    anonymous_pages_store_nothing_and_use_a_csrf_cookie,
    posts_need_the_csrf_cookie_and_its_token,
    the_sent_page_sets_the_flow_cookie_for_anyone,
    secure_requests_get_secure_cookies,
    the_same_browser_logs_in_through_the_link,
    without_post_redirect_the_flow_s_browser_logs_in_on_get,
    another_browser_confirms_before_logging_in,
    deny_refuses_other_browsers_and_spends_nothing,
    typed_codes_count_only_with_their_flow,
    the_api_answers_the_flow_and_takes_it_back,
    logout_on_get_is_off_by_default,
    logout_on_get_logs_out,
    login_always_renews_the_session_id,
    configure_delivers_in_the_background,
    the_waiting_page_and_the_api_show_the_flow_s_number,
    another_device_approves_and_the_asker_completes,
    a_wrong_number_approves_nothing_and_logs_nobody_in,
    picking_is_refused_outside_confirm_and_spends_nothing,
    the_same_browser_s_pick_never_logs_it_in_and_an_empty_number_logs_in,
    completing_without_a_flow_is_the_404_page,
    the_api_polls_and_completes_an_approved_flow,
);
