//! The demo site over real HTTP, as a browser without JavaScript uses it: the whole login
//! through the JSON API and through the HTML pages (login form, outbox link, "Logging in..."
//! page, POST), and a login POST without its CSRF token refused. No service needed.

use nopassword_conformance::{contract::text, support::html};
use reqwest::{Client, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use super::{Instance, Site, settings};

/// Declares one `#[test]` per HTTP scenario against the [`Site`] `$site`, each named after its
/// scenario. Put it in the demo's `tests/site.rs`.
#[macro_export]
macro_rules! site_tests {
    ($site:ty) => {
        $crate::site_tests!(
            @each $site,
            logs_in_through_the_json_api,
            logs_in_through_the_html_pages,
            refuses_a_login_post_without_the_csrf_token,
            serves_health_readiness_and_metrics,
        );
    };
    (@each $site:ty, $($scenario:ident,)+) => {
        $(
            #[test]
            fn $scenario() {
                $crate::e2e::block_on($crate::e2e::site::$scenario::<$site>());
            }
        )+
    };
}

/// A client as a browser is one: keeps cookies, does not follow redirects.
fn cookie_jar() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client")
}

async fn text_of(response: reqwest::Response) -> String {
    response.text().await.expect("the body reads")
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

async fn whoami(client: &Client, site: &Instance) -> (StatusCode, Value) {
    let reply = client
        .get(site.url("/whoami"))
        .send()
        .await
        .expect("GET /whoami");
    (reply.status(), json_of(reply).await)
}

/// Asks for a code through `api/login/`, reads it from `/outbox.json`, logs in through
/// `api/login/code/` (once), and logs out through `api/logout/`.
pub async fn logs_in_through_the_json_api<S: Site>() {
    let site = S::start(settings().into()).await;
    let client = cookie_jar();
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
    let message = site.message_for("alice").await;

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
    assert_eq!(
        json_of(reply).await,
        json!({ "detail": text::LOGGED_OUT, "code": "logged_out" })
    );
    assert_eq!(whoami(&client, &site).await.0, StatusCode::UNAUTHORIZED);
}

/// Posts the login form with its CSRF token, takes the link from the outbox page, sees the
/// "Logging in..." page (not yet logged in), posts it, and is logged in; the link is then
/// used up.
pub async fn logs_in_through_the_html_pages<S: Site>() {
    let site = S::start(settings().into()).await;
    let client = cookie_jar();

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
    site.message_for("alice").await;
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

/// A login link posted with a forged CSRF token is refused (403) and logs no one in.
pub async fn refuses_a_login_post_without_the_csrf_token<S: Site>() {
    let site = S::start(settings().into()).await;
    let client = cookie_jar();
    let reply = client
        .post(site.url("/accounts/api/login/"))
        .json(&json!({ "username": "bob" }))
        .send()
        .await
        .expect("POST api/login/");
    assert_eq!(reply.status(), StatusCode::OK);
    let link = site.message_for("bob").await.url;
    let reply = client
        .post(&link)
        .form(&[("csrfmiddlewaretoken", "forged")])
        .send()
        .await
        .expect("POST the link");
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    assert_eq!(whoami(&client, &site).await.0, StatusCode::UNAUTHORIZED);
}

/// The value of the Prometheus sample `name{labels}` on a `/metrics` page (0 when absent).
fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

async fn metrics_page(client: &Client, site: &Instance) -> String {
    let reply = client
        .get(site.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        reply.headers()[header::CONTENT_TYPE],
        crate::METRICS_CONTENT_TYPE
    );
    text_of(reply).await
}

/// `/healthz` answers, `/readyz` reports the store and the outbox ready, and `/metrics` counts
/// what a login through the API does: a code request, a code sent, a failed try, a login, and
/// a link view by a client without the flow (a mail scanner's visit).
pub async fn serves_health_readiness_and_metrics<S: Site>() {
    let site = S::start(settings().into()).await;
    let client = cookie_jar();
    let reply = client
        .get(site.url("/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(text_of(reply).await, crate::HEALTHZ_BODY);

    let reply = client
        .get(site.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        json_of(reply).await,
        json!({"status": "ready", "checks": {"store": "ok", "sender:outbox": "ok"}})
    );

    // Counters are per process: read them before and after.
    let series = [
        r#"nopassword_code_requests_total{outcome="accepted"}"#,
        r#"nopassword_codes_sent_total{channel="outbox"}"#,
        r#"nopassword_failed_code_tries_total"#,
        r#"nopassword_logins_total{method="code"}"#,
        r#"nopassword_link_views_without_login_total{page="confirm"}"#,
    ];
    let before = metrics_page(&client, &site).await;
    let reply = client
        .post(site.url("/accounts/api/login/"))
        .json(&json!({ "username": "alice" }))
        .send()
        .await
        .expect("POST api/login/");
    assert_eq!(reply.status(), StatusCode::OK);
    let message = site.message_for("alice").await;
    let code = message.code.expose();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let reply = client
        .post(site.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": wrong }))
        .send()
        .await
        .expect("a wrong code");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    // A mail scanner (no flow cookie) opens the link: the confirmation page, no login.
    let scanner = cookie_jar();
    let reply = scanner
        .get(site.url(&site_path(&message.url)))
        .send()
        .await
        .expect("GET the link");
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = client
        .post(site.url("/accounts/api/login/code/"))
        .json(&json!({ "username": "alice", "code": code }))
        .send()
        .await
        .expect("the right code");
    assert_eq!(reply.status(), StatusCode::OK);

    let after = metrics_page(&client, &site).await;
    for name in series {
        assert_eq!(
            sample(&after, name) - sample(&before, name),
            1.0,
            "{name} counts one\n{after}"
        );
    }
    assert!(
        after.contains("# HELP nopassword_logins_total"),
        "described: {after}"
    );
}

/// The path and query of an absolute URL of the site.
fn site_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/".into(), |i| rest[i..].to_owned())
}
