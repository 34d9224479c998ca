//! Every option of `LoginLayerBuilder`, as the browser sees it: the session cookie's
//! `Set-Cookie` at login, and whether later requests renew it.

mod support;

use std::time::Duration;

use axum::{Router, http::header, routing::get};
use axum_login::AuthSession;
use nopassword_axum::{
    CookieSecurity, LoginLayerBuilder, MemorySessionStore, NoPasswordBackend, SameSite,
    SessionExpiry, SessionUser, login_layer, router,
};
use nopassword_core::{NoPassword, user::User};
use support::{attributes, cookie_pair, get as get_request, send};

/// An app whose `/log-me-in` logs alice in at once (no code needed to look at cookies), and
/// whose `/touch` only reads the session.
fn app(
    service: &NoPassword<User>,
    configure: impl FnOnce(
        LoginLayerBuilder<NoPasswordBackend<User>, MemorySessionStore>,
    ) -> LoginLayerBuilder<NoPasswordBackend<User>, MemorySessionStore>,
) -> Router {
    let login_service = service.clone();
    let log_me_in = move |mut auth: AuthSession<NoPasswordBackend<User>>| async move {
        let alice = User::new("1", "alice");
        auth.login(&SessionUser::new(&login_service, alice))
            .await
            .expect("the session stores the login");
        "logged in"
    };
    let touch = |auth: AuthSession<NoPasswordBackend<User>>| async move {
        auth.user.map(|u| u.user.username).unwrap_or_default()
    };
    let layer = configure(LoginLayerBuilder::new(
        service,
        MemorySessionStore::default(),
    ))
    .build();
    Router::new()
        .route("/log-me-in", get(log_me_in))
        .route("/touch", get(touch))
        .merge(router(service.clone()).expect("templates parse"))
        .layer(layer)
}

/// The session cookie set at login under `configure`, from `uri` (`http://` or `https://`).
async fn session_cookie(
    name: &str,
    uri: &str,
    configure: impl FnOnce(
        LoginLayerBuilder<NoPasswordBackend<User>, MemorySessionStore>,
    ) -> LoginLayerBuilder<NoPasswordBackend<User>, MemorySessionStore>,
) -> (Router, String) {
    let (service, _) = support::service();
    let app = app(&service, configure);
    let answer = send(&app, get_request(uri, &[])).await;
    assert_eq!(answer.body, "logged in");
    let cookie = answer
        .set_cookie(name)
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", answer.headers))
        .to_owned();
    (app, cookie)
}

fn has(set_cookie: &str, attribute: &str) -> bool {
    attributes(set_cookie).iter().any(|a| a == attribute)
}

fn has_named(set_cookie: &str, name: &str) -> bool {
    attributes(set_cookie)
        .iter()
        .any(|a| a.split('=').next() == Some(name))
}

#[tokio::test]
async fn the_defaults_are_login_layers() {
    let (_, cookie) = session_cookie("nopassword_session", "/log-me-in", |b| b).await;
    assert!(has(&cookie, "httponly"), "{cookie}");
    assert!(has(&cookie, "samesite=lax"), "{cookie}");
    assert!(has(&cookie, "path=/"), "{cookie}");
    assert!(has(&cookie, "max-age=1209600"), "two weeks: {cookie}");
    assert!(!has(&cookie, "secure"), "plain HTTP: {cookie}");
    assert!(!has_named(&cookie, "domain"), "{cookie}");

    // `login_layer` is the builder with its defaults.
    let (service, _) = support::service();
    let app = Router::new()
        .route(
            "/log-me-in",
            get({
                let service = service.clone();
                move |mut auth: AuthSession<NoPasswordBackend<User>>| async move {
                    let alice = SessionUser::new(&service, User::new("1", "alice"));
                    auth.login(&alice).await.expect("login");
                }
            }),
        )
        .layer(login_layer(&service, MemorySessionStore::default()));
    let answer = send(&app, get_request("/log-me-in", &[])).await;
    let default = answer.set_cookie("nopassword_session").expect("a session");
    assert_eq!(attributes(default), attributes(&cookie));
}

#[tokio::test]
async fn the_cookie_name_is_the_apps() {
    let (_, cookie) = session_cookie("sid", "/log-me-in", |b| b.cookie_name("sid")).await;
    assert!(has(&cookie, "httponly"), "{cookie}");
}

#[tokio::test]
async fn same_site_is_the_apps_and_none_is_always_secure() {
    let (_, strict) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.same_site(SameSite::Strict)
    })
    .await;
    assert!(has(&strict, "samesite=strict"), "{strict}");
    assert!(!has(&strict, "secure"), "{strict}");

    let (_, none) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.same_site(SameSite::None)
    })
    .await;
    assert!(has(&none, "samesite=none"), "{none}");
    assert!(
        has(&none, "secure"),
        "browsers refuse SameSite=None without Secure: {none}"
    );
}

#[tokio::test]
async fn secure_follows_the_request_by_default() {
    let (_, plain) =
        session_cookie("nopassword_session", "http://localhost/log-me-in", |b| b).await;
    assert!(!has(&plain, "secure"), "{plain}");
    let (_, tls) = session_cookie("nopassword_session", "https://localhost/log-me-in", |b| b).await;
    assert!(has(&tls, "secure"), "{tls}");
}

#[tokio::test]
async fn secure_always_marks_every_cookie_even_on_plain_http() {
    let (app, cookie) = session_cookie("nopassword_session", "http://localhost/log-me-in", |b| {
        b.secure(CookieSecurity::Always)
    })
    .await;
    assert!(has(&cookie, "secure"), "{cookie}");
    // The CSRF cookie of our login page too.
    let page = send(&app, get_request("http://localhost/accounts/login/", &[])).await;
    let csrf = page.set_cookie("nopassword_csrf").expect("a CSRF cookie");
    assert!(has(csrf, "secure"), "{csrf}");
}

#[tokio::test]
async fn the_domain_is_the_apps() {
    let (_, cookie) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.domain("example.com")
    })
    .await;
    assert!(has(&cookie, "domain=example.com"), "{cookie}");
}

#[tokio::test]
async fn inactivity_expiry_renews_the_session_at_every_request() {
    let half_hour = Duration::from_secs(30 * 60);
    let (app, cookie) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.expiry(SessionExpiry::Inactivity(half_hour))
    })
    .await;
    assert!(has(&cookie, "max-age=1800"), "{cookie}");
    let later = send(
        &app,
        get_request("/touch", &[(header::COOKIE, cookie_pair(&cookie))]),
    )
    .await;
    assert_eq!(later.body, "alice");
    let renewed = later.set_cookie("nopassword_session").expect("renewed");
    assert!(has(renewed, "max-age=1800"), "{renewed}");
}

#[tokio::test]
async fn fixed_expiry_counts_from_login() {
    let hour = Duration::from_secs(3600);
    let (app, cookie) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.expiry(SessionExpiry::Fixed(hour))
    })
    .await;
    assert!(has(&cookie, "max-age=3600"), "{cookie}");
    let later = send(
        &app,
        get_request("/touch", &[(header::COOKIE, cookie_pair(&cookie))]),
    )
    .await;
    assert_eq!(later.body, "alice");
    assert_eq!(later.set_cookie("nopassword_session"), None, "not renewed");
}

#[tokio::test]
async fn a_browser_session_cookie_has_no_lifetime() {
    let (_, cookie) = session_cookie("nopassword_session", "/log-me-in", |b| {
        b.expiry(SessionExpiry::BrowserSession)
    })
    .await;
    assert!(!has_named(&cookie, "max-age"), "{cookie}");
    assert!(!has_named(&cookie, "expires"), "{cookie}");
    assert!(has(&cookie, "httponly"), "{cookie}");
}

#[tokio::test]
async fn anonymous_requests_store_no_session_even_when_renewing() {
    let (service, _) = support::service();
    let store = MemorySessionStore::default();
    let app = Router::new()
        .merge(router(service.clone()).expect("templates parse"))
        .layer(
            LoginLayerBuilder::new(&service, store.clone())
                .expiry(SessionExpiry::Inactivity(Duration::from_secs(60)))
                .build(),
        );
    let page = send(&app, get_request("/accounts/login/", &[])).await;
    assert_eq!(page.set_cookie("nopassword_session"), None);
    assert!(store.is_empty());
}
