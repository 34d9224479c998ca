//! The "login required" guard with our own backend: HTML requests go to the login page with
//! `next`, JSON requests get the API's 401, and no request path becomes an open redirect.

mod support;

use axum::{
    Router,
    http::{StatusCode, header},
    routing::get,
};
use axum_login::AuthSession;
use nopassword_axum::{
    MaybeUser, MemorySessionStore, NoPasswordBackend, SessionUser, login_layer, login_required,
    router,
};
use nopassword_conformance::{redirect::OPEN_REDIRECT_PAYLOADS, support::html};
use nopassword_core::{NoPassword, user::User};
use serde_json::{Value, json};
use support::{Answer, cookie_pair, get as get_request, send};

/// `/members/` and `/area/inside/` (a nested router) behind the guard, our routes, sessions,
/// and `/log-me-in` that logs alice in at once.
fn app(service: &NoPassword<User>) -> Router {
    let login_service = service.clone();
    let log_me_in = move |mut auth: AuthSession<NoPasswordBackend<User>>| async move {
        let alice = SessionUser::new(&login_service, User::new("1", "alice"));
        auth.login(&alice)
            .await
            .expect("the session stores the login");
    };
    let members = |MaybeUser(user): MaybeUser<User>| async move {
        format!(
            "Members only: {}",
            user.map(|u| u.username).unwrap_or_default()
        )
    };
    let area = Router::new()
        .route("/inside/", get(members))
        .route_layer(login_required(service));
    Router::new()
        .route("/members/", get(members))
        .route_layer(login_required(service))
        .nest("/area", area)
        .route("/log-me-in", get(log_me_in))
        .merge(router(service.clone()).expect("templates parse"))
        .layer(login_layer(service, MemorySessionStore::default()))
}

/// An app that guards every path (its fallback), so any path an attacker writes reaches it.
fn guard_everything(service: &NoPassword<User>) -> Router {
    Router::new()
        .fallback(|| async { "inside" })
        .layer(login_required(service))
        .layer(login_layer(service, MemorySessionStore::default()))
}

async fn html_get(app: &Router, uri: &str) -> Answer {
    let accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    send(app, get_request(uri, &[(header::ACCEPT, accept)])).await
}

#[tokio::test]
async fn an_html_request_is_sent_to_the_login_page_with_next() {
    let (service, _) = support::service();
    let app = app(&service);
    let answer = html_get(&app, "/members/?tab=news&sort=a%20b").await;
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
    let location = answer.header(header::LOCATION).expect("a Location");
    assert_eq!(
        location,
        "/accounts/login/?next=%2Fmembers%2F%3Ftab%3Dnews%26sort%3Da%2520b"
    );
    assert_eq!(answer.header(header::VARY), Some("accept, content-type"));
    assert_eq!(answer.header(header::CACHE_CONTROL), Some("no-store"));

    // The login page reads it back as the path and query that were asked for.
    let page = html_get(&app, location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        html::input_value(&page.body, "next").as_deref(),
        Some("/members/?tab=news&sort=a%20b")
    );
}

#[tokio::test]
async fn a_nested_route_keeps_its_full_path_in_next() {
    let (service, _) = support::service();
    let answer = html_get(&app(&service), "/area/inside/").await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.header(header::LOCATION),
        Some("/accounts/login/?next=%2Farea%2Finside%2F")
    );
}

#[tokio::test]
async fn the_login_page_follows_mount_path() {
    let (service, _) = support::service();
    let settings = nopassword_core::Settings {
        mount_path: "/auth".into(),
        ..service.settings().clone()
    };
    let users = nopassword_core::user::MemoryDirectory::new([User::new("1", "alice")]);
    let service = NoPassword::builder(settings, users)
        .sender(nopassword_core::Outbox::new(1).quiet())
        .build()
        .expect("a service");
    let answer = html_get(&app(&service), "/members/").await;
    assert_eq!(
        answer.header(header::LOCATION),
        Some("/auth/login/?next=%2Fmembers%2F")
    );
}

#[tokio::test]
async fn json_requests_get_the_apis_401() {
    let (service, _) = support::service();
    let app = app(&service);
    let expected = json!({ "detail": "Authentication credentials were not provided.", "code": "unauthenticated" });
    let by_accept = send(
        &app,
        get_request("/members/", &[(header::ACCEPT, "application/json")]),
    )
    .await;
    assert_eq!(by_accept.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<Value>(&by_accept.body).ok(),
        Some(expected.clone())
    );
    assert_eq!(by_accept.header(header::LOCATION), None);

    let by_body = send(
        &app,
        get_request(
            "/area/inside/",
            &[(header::CONTENT_TYPE, "application/json")],
        ),
    )
    .await;
    assert_eq!(by_body.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<Value>(&by_body.body).ok(),
        Some(expected)
    );
}

#[tokio::test]
async fn a_logged_in_user_goes_through() {
    let (service, _) = support::service();
    let app = app(&service);
    let login = send(&app, get_request("/log-me-in", &[])).await;
    let session = login.set_cookie("nopassword_session").expect("a session");
    let cookie = [(header::COOKIE, cookie_pair(session))];
    let page = send(&app, get_request("/members/", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, "Members only: alice");
    let nested = send(&app, get_request("/area/inside/", &cookie)).await;
    assert_eq!(nested.status, StatusCode::OK);
}

#[tokio::test]
async fn an_attackers_path_never_becomes_an_open_redirect() {
    let (service, _) = support::service();
    let app = guard_everything(&service);
    let mut tried = 0;
    for path in [
        "//evil.com",
        "//evil.com/x?y=1",
        "/.//evil.com",
        "/x/..//evil.com",
        "/%2F%2Fevil.com",
        "/%2e//evil.com",
    ]
    .into_iter()
    .chain(OPEN_REDIRECT_PAYLOADS.iter().copied())
    {
        // Payloads that are not a request target at all never reach the app.
        let Ok(uri) = path.parse::<axum::http::Uri>() else {
            continue;
        };
        if uri.path_and_query().is_none() {
            continue;
        }
        tried += 1;
        let answer = html_get(&app, path).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{path}");
        let location = answer.header(header::LOCATION).expect("a Location");
        let next = location
            .strip_prefix("/accounts/login/")
            .unwrap_or_else(|| panic!("{path} sent to {location}"));
        match next.strip_prefix("?next=") {
            None => assert_eq!(next, "", "{path}"),
            Some(encoded) => {
                let decoded = percent_decode(encoded);
                assert!(
                    nopassword_core::redirect::safe_next(&decoded).is_some(),
                    "{path} gave next={decoded}"
                );
            }
        }
    }
    assert!(tried >= 6, "only {tried} payloads were request targets");
    // The plainest one leaves `next` out altogether.
    let answer = html_get(&app, "//evil.com").await;
    assert_eq!(answer.header(header::LOCATION), Some("/accounts/login/"));
}

#[tokio::test]
async fn an_absolute_form_request_keeps_only_its_path() {
    let (service, _) = support::service();
    let answer = html_get(&guard_everything(&service), "http://evil.com/x?y=1").await;
    assert_eq!(
        answer.header(header::LOCATION),
        Some("/accounts/login/?next=%2Fx%3Fy%3D1")
    );
}

#[tokio::test]
async fn without_the_login_layer_the_guard_fails_closed() {
    let (service, _) = support::service();
    let app = Router::new()
        .route("/members/", get(|| async { "secret" }))
        .route_layer(login_required(&service));
    let answer = html_get(&app, "/members/").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!answer.body.contains("secret"));
}

/// Decodes `%XX` (what the login page's query extractor does).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
