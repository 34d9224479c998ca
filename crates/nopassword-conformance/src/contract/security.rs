//! The security floor (docs/HTTP.md, Security floor) as seen over HTTP: redirects, hosts, single use,
//! CSRF, limits, outages, caching headers and session cookies.

use std::{sync::Arc, time::Duration};

use nopassword_core::forms::messages;
use reqwest::{Method, StatusCode, Url, header};
use serde_json::json;
use tokio::{sync::Barrier, task::JoinSet};

use super::assert_same_site;
use crate::support::{
    Adapter, Browser, CAROL, CSRF_COOKIE, FLOW_COOKIE, Reply, SESSION_COOKIE, Site,
    cookie_attributes, cookie_value, html,
};

/// Open-redirect payloads, which `safe_next` refuses.
const OPEN_REDIRECTS: &[&str] = crate::redirect::OPEN_REDIRECT_PAYLOADS;

/// The answers a client may see: none may name a Rust type, an error's internals or where a
/// backend lives.
#[track_caller]
fn assert_no_internals(reply: &Reply) {
    for leak in [
        "Timeout",
        "timeout",
        "StoreError",
        "code store",
        "250ms",
        "::",
        "panicked",
        "nopassword_core",
        "Smtp",
        "Connection refused",
        "os error",
        "10.9.8.7",
        "SendError",
    ] {
        assert!(
            !reply.body.contains(leak),
            "the answer leaks {leak:?}: {}",
            reply.body
        );
    }
}

#[track_caller]
fn assert_unavailable_page(reply: &Reply) {
    reply.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html")),
        "{:?}",
        reply.headers
    );
    assert!(reply.body.contains(messages::UNAVAILABLE), "{}", reply.body);
    assert_no_internals(reply);
}

#[track_caller]
fn assert_unavailable_json(reply: &Reply) {
    reply.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        json!({ "detail": messages::UNAVAILABLE, "code": "unavailable" })
    );
    assert_no_internals(reply);
}

/// `Retry-After` in whole seconds, within `1..=max`.
#[track_caller]
fn assert_retry_after(reply: &Reply, max: u64) {
    reply.expect(StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = reply
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in seconds: {:?}", reply.headers));
    assert!((1..=max).contains(&seconds), "Retry-After {seconds}");
}

/// The host a link names.
fn link_host(url: &str) -> String {
    let url = Url::parse(url).expect("a login URL");
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// `next` payloads given to `login/` (form and JSON) end in a login that stays on the site,
/// at `login_redirect_url`; the form never echoes them.
pub async fn open_redirects_never_leave_the_site_after_login<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    for &payload in OPEN_REDIRECTS {
        // GET login/?next=
        let request = browser
            .request(Method::GET, &site.path("login/"))
            .query(&[("next", payload)]);
        let page = browser.send(request).await;
        page.expect(StatusCode::OK);
        assert_eq!(
            html::input_value(&page.body, "next").as_deref(),
            Some(""),
            "{payload:?} reached the form"
        );

        // POST login/ with next, then the link.
        let before = site.sent();
        browser
            .post_form(
                &site.path("login/"),
                &[
                    ("csrfmiddlewaretoken", &token),
                    ("username", "alice"),
                    ("next", payload),
                ],
            )
            .await
            .expect(StatusCode::OK);
        let link = site.local(&site.new_message_for("alice", before).await.url);
        let login = site.browser().follow_link(&link).await;
        login.expect(StatusCode::FOUND);
        assert_same_site(login.location());
        assert_eq!(login.location(), "/", "next={payload:?}");

        // POST api/login/ with next, then api/login/code/ in its flow.
        let (client, message, flow) = site.ask_api("alice", Some(payload)).await;
        let reply = client
            .post_json(
                &site.url("api/login/code/"),
                &json!({ "username": "alice", "code": message.code.expose(), "flow": flow }),
            )
            .await;
        reply.expect(StatusCode::OK);
        assert_eq!(reply.json(), json!({ "next": "/" }), "next={payload:?}");
    }
}

/// `next` payloads given to `logout/` (the GET's form, its POST, and the GET itself under
/// `logout_on_get`) end at `login/`.
pub async fn open_redirects_never_leave_the_site_after_logout<A: Adapter>() {
    let on_get = Site::start::<A>(|s| s.logout_on_get = true);
    let browser = on_get.logged_in("alice").await;
    for &payload in OPEN_REDIRECTS {
        let request = browser
            .request(Method::GET, &on_get.path("logout/"))
            .query(&[("next", payload)]);
        let reply = browser.send(request).await;
        reply.expect(StatusCode::FOUND);
        assert_same_site(reply.location());
        assert_eq!(
            reply.location(),
            on_get.path("login/"),
            "GET next={payload:?}"
        );
    }

    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    for &payload in OPEN_REDIRECTS {
        // The form of `GET logout/?next=`, posted as a browser would.
        let request = browser
            .request(Method::GET, &site.path("logout/"))
            .query(&[("next", payload)]);
        let form = browser.send(request).await;
        form.expect(StatusCode::OK);
        let next = html::input_value(&form.body, "next").unwrap_or_default();
        let reply = browser
            .post_form(
                &site.path("logout/"),
                &[("csrfmiddlewaretoken", &form.csrf()), ("next", &next)],
            )
            .await;
        reply.expect(StatusCode::FOUND);
        assert_same_site(reply.location());
        assert_eq!(
            reply.location(),
            site.path("login/"),
            "GET form next={payload:?}"
        );

        let token = browser.csrf(&site.path("login/")).await;
        let reply = browser
            .post_form(
                &site.path("logout/"),
                &[("csrfmiddlewaretoken", &token), ("next", payload)],
            )
            .await;
        reply.expect(StatusCode::FOUND);
        assert_same_site(reply.location());
        assert_eq!(
            reply.location(),
            site.path("login/"),
            "POST next={payload:?}"
        );
    }
    assert_eq!(browser.whoami().await, None);
}

/// A forged `Host` never reaches a link: it names `server_url` instead. An allowed host does.
pub async fn forged_host_never_reaches_the_link<A: Adapter>() {
    let site = Site::standard::<A>();
    let port = Url::parse(&site.base).expect("base").port().expect("port");
    let allowed = format!("localhost:{port}");
    for (host, expected) in [
        ("evil.com", "example.com"),
        ("evil.com:8000", "example.com"),
        ("localhost.evil.com", "example.com"),
        ("127.0.0.1.evil.com", "example.com"),
        ("example.com.evil.com", "example.com"),
        (allowed.as_str(), allowed.as_str()),
    ] {
        let browser = site.browser();
        // The JSON API.
        let before = site.sent();
        let request = browser
            .request(Method::POST, &site.url("api/login/"))
            .header(header::HOST, host)
            .json(&json!({ "username": "alice" }));
        browser.send(request).await.expect(StatusCode::OK);
        let url = site.new_message_for("alice", before).await.url;
        assert_eq!(link_host(&url), expected, "Host: {host} gave {url}");

        // The form.
        let token = browser.csrf(&site.path("login/")).await;
        let before = site.sent();
        let request = browser
            .request(Method::POST, &site.path("login/"))
            .header(header::HOST, host)
            .form(&[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
            ]);
        browser.send(request).await.expect(StatusCode::OK);
        let url = site.new_message_for("alice", before).await.url;
        assert_eq!(link_host(&url), expected, "Host: {host} gave {url}");
    }
}

/// `X-Forwarded-Host` is ignored from a peer not in `trusted_proxies`, and checked against
/// `allowed_hosts` from one that is.
pub async fn forwarded_host_counts_only_from_trusted_proxies<A: Adapter>() {
    let untrusted = Site::standard::<A>();
    let trusted = Site::start::<A>(|s| s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]);
    let own = |site: &Site| link_host(&site.base);
    let cases = [
        (&untrusted, "evil.com", own(&untrusted)),
        (&untrusted, "localhost:9", own(&untrusted)),
        (&trusted, "evil.com", "example.com".to_owned()),
        (&trusted, "localhost:9", "localhost:9".to_owned()),
    ];
    for (site, forwarded, expected) in cases {
        let browser = site.browser();
        let before = site.sent();
        let request = browser
            .request(Method::POST, &site.url("api/login/"))
            .header("x-forwarded-host", forwarded)
            .json(&json!({ "username": "alice" }));
        browser.send(request).await.expect(StatusCode::OK);
        let url = site.new_message_for("alice", before).await.url;
        assert_eq!(
            link_host(&url),
            expected,
            "X-Forwarded-Host: {forwarded} gave {url}"
        );
    }
}

/// The per-address limit counts the client named by `X-Forwarded-For` only when the peer is
/// a trusted proxy; from anyone else the header is no way around the limit.
pub async fn forwarded_for_counts_only_from_trusted_proxies<A: Adapter>() {
    let untrusted = Site::start::<A>(|s| s.max_requests_per_ip_per_minute = 1);
    let trusted = Site::start::<A>(|s| {
        s.max_requests_per_ip_per_minute = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    });
    let ask = |site: &Site, client: &'static str| {
        let browser = site.browser();
        let request = browser
            .request(Method::POST, &site.url("api/login/"))
            .header("x-forwarded-for", client)
            .json(&json!({ "username": "mallory" }));
        async move { browser.send(request).await.status }
    };
    assert_eq!(ask(&untrusted, "198.51.100.1").await, StatusCode::OK);
    assert_eq!(
        ask(&untrusted, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a spoofed X-Forwarded-For escaped the limit"
    );
    assert_eq!(ask(&trusted, "198.51.100.1").await, StatusCode::OK);
    assert_eq!(ask(&trusted, "198.51.100.2").await, StatusCode::OK);
    assert_eq!(
        ask(&trusted, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// 48 browsers POST one link at once: exactly one is logged in (302), the others get 404.
pub async fn one_code_logs_in_once_under_48_concurrent_posts<A: Adapter>() {
    const RACERS: usize = 48;
    let site = Site::standard::<A>();
    let link = site.local(&site.send_code("alice", Some("/once")).await.url);
    let mut racers = Vec::with_capacity(RACERS);
    for _ in 0..RACERS {
        let browser = site.browser();
        let token = browser.csrf(&link).await;
        racers.push((browser, token));
    }
    let start = Arc::new(Barrier::new(RACERS));
    let mut tasks = JoinSet::new();
    for (browser, token) in racers {
        let (link, start) = (link.clone(), Arc::clone(&start));
        tasks.spawn(async move {
            start.wait().await;
            let reply = browser
                .post_form(&link, &[("csrfmiddlewaretoken", &token)])
                .await;
            (reply, browser)
        });
    }
    let mut winners: Vec<Browser> = Vec::new();
    let mut losers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (reply, browser) = joined.expect("task");
        match reply.status {
            StatusCode::FOUND => {
                assert_eq!(reply.location(), "/once");
                winners.push(browser);
            }
            StatusCode::NOT_FOUND => losers.push(browser),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one login");
    assert_eq!(losers.len(), RACERS - 1);
    assert_eq!(winners[0].whoami().await.as_deref(), Some("alice"));
    for browser in &losers[..3] {
        assert_eq!(browser.whoami().await, None);
    }
}

/// The HTML POST routes with their fields, minus the CSRF token.
fn html_posts(site: &Site, link: &str) -> Vec<(String, Vec<(&'static str, String)>)> {
    vec![
        (site.path("login/"), vec![("username", "alice".to_owned())]),
        (Site::link_path(link), vec![]),
        (
            site.path("login/code/"),
            vec![
                ("username", "alice".to_owned()),
                ("code", "0123456789abcdef0123".to_owned()),
            ],
        ),
        (site.path("logout/"), vec![("next", "/x".to_owned())]),
    ]
}

/// `login/`, a link, `login/code/` and `logout/` refuse a POST without the session's CSRF
/// token: none, empty, wrong, or another session's.
pub async fn posts_without_a_valid_csrf_token_are_403<A: Adapter>() {
    let site = Site::standard::<A>();
    let link = site.local(&site.send_code("alice", None).await.url);
    let browser = site.browser();
    browser.csrf(&site.path("login/")).await; // this browser has a session and a token
    let stranger = site.browser().csrf(&site.path("login/")).await;
    let fresh = site.browser(); // no session at all
    for (route, fields) in html_posts(&site, &link) {
        for token in [None, Some(""), Some("wrong"), Some(stranger.as_str())] {
            for client in [&browser, &fresh] {
                let mut body: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if let Some(token) = token {
                    body.push(("csrfmiddlewaretoken", token));
                }
                let reply = client.post_form(&route, &body).await;
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "POST {route} with token {token:?}: {}",
                    reply.body
                );
            }
        }
    }
}

/// A refused POST changes nothing: no code sent, the link and a typed code still unused, the
/// session still logged in.
pub async fn csrf_refusals_change_nothing<A: Adapter>() {
    let site = Site::standard::<A>();
    let link = site.local(&site.send_code("alice", None).await.url);
    let (carol, typed) = site.ask(CAROL, None).await;
    let browser = site.logged_in("alice").await;
    let before = site.sent();
    for client in [&browser, &carol] {
        for (route, fields) in [
            (site.path("login/"), vec![("username", "alice")]),
            (Site::link_path(&link), vec![]),
            (
                site.path("login/code/"),
                vec![("username", CAROL), ("code", typed.code.expose())],
            ),
            (site.path("logout/"), vec![]),
        ] {
            let mut body = fields.clone();
            body.push(("csrfmiddlewaretoken", "forged"));
            client
                .post_form(&route, &body)
                .await
                .expect(StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(site.sent_settled().await, before, "no code was sent");
    assert_eq!(
        browser.whoami().await.as_deref(),
        Some("alice"),
        "not logged out"
    );
    assert_eq!(carol.whoami().await, None);
    let other = site.browser();
    other.follow_link(&link).await.expect(StatusCode::FOUND);
    let token = carol.csrf(&site.path("login/code/")).await;
    carol
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", CAROL),
                ("code", typed.code.expose()),
            ],
        )
        .await
        .expect(StatusCode::FOUND);
}

/// Bodies over 64 KiB get 413 on every route that reads one; just under the limit is read.
pub async fn oversized_bodies_are_413<A: Adapter>() {
    let site = Site::standard::<A>();
    let link = site.local(&site.send_code("alice", None).await.url);
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    let big = "a".repeat(65 * 1024);
    for (route, _) in html_posts(&site, &link) {
        let reply = browser
            .post_form(
                &route,
                &[("csrfmiddlewaretoken", token.as_str()), ("username", &big)],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "POST {route}: {}",
            reply.body
        );
    }
    for route in ["api/login/", "api/login/code/"] {
        let reply = browser
            .post_json(&site.url(route), &json!({ "username": big, "code": "x" }))
            .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "POST {route}");
        assert!(reply.json()["detail"].is_string(), "{}", reply.body);
    }
    // 60 KiB is within the limit: an unknown username, the usual answer.
    let within = "a".repeat(60 * 1024);
    browser
        .post_form(
            &site.path("login/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", &within),
            ],
        )
        .await
        .expect(StatusCode::OK);
    // The link was not consumed by any of it.
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
}

/// A form that does not decode (a field given twice) gets 400 and a page, and does nothing.
pub async fn malformed_forms_are_400<A: Adapter>() {
    let site = Site::standard::<A>();
    let link = site.local(&site.send_code("alice", None).await.url);
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    let before = site.sent();
    for (route, body) in [
        (
            site.path("login/"),
            format!("csrfmiddlewaretoken={token}&username=alice&username=bob"),
        ),
        (
            Site::link_path(&link),
            format!("csrfmiddlewaretoken={token}&csrfmiddlewaretoken={token}"),
        ),
        (
            site.path("login/code/"),
            format!("csrfmiddlewaretoken={token}&username=alice&code=1&code=2"),
        ),
    ] {
        let reply = browser
            .post_raw(&route, "application/x-www-form-urlencoded", body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "POST {route}: {}",
            reply.body
        );
        assert!(
            reply
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("text/html")),
            "{:?}",
            reply.headers
        );
    }
    assert_eq!(site.sent_settled().await, before);
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
}

/// The HTML form routes take urlencoded forms only: JSON gets 415.
pub async fn non_form_bodies_on_form_routes_are_415<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    for route in ["login/", "login/code/", "logout/"] {
        let body = json!({ "csrfmiddlewaretoken": token, "username": "alice" });
        let reply = browser.post_json(&site.url(route), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST {route}: {}",
            reply.body
        );
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// More than `max_requests_per_ip_per_minute` code requests from one address: 429 with
/// `Retry-After`, as JSON and as a page; the next minute is open again.
pub async fn too_many_requests_from_one_address_is_429<A: Adapter>() {
    let site = Site::start::<A>(|s| s.max_requests_per_ip_per_minute = 3);
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    for username in ["alice", "mallory", "bob"] {
        browser
            .post_json(&site.url("api/login/"), &json!({ "username": username }))
            .await
            .expect(StatusCode::OK);
    }
    let reply = browser
        .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
        .await;
    assert_retry_after(&reply, 60);
    assert_eq!(
        reply.json(),
        json!({ "detail": messages::RATE_LIMITED, "code": "rate_limited" })
    );
    let page = browser
        .post_form(
            &site.path("login/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
            ],
        )
        .await;
    assert_retry_after(&page, 60);
    assert!(page.body.contains(messages::RATE_LIMITED), "{}", page.body);
    assert_eq!(site.sent_settled().await, 1);

    site.clock.advance(Duration::from_secs(60));
    browser
        .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
        .await
        .expect(StatusCode::OK);
}

/// More than `max_sends_per_user_per_hour` codes for one username: 429 with `Retry-After`,
/// for unknown usernames exactly as for real ones; other users are unaffected.
pub async fn too_many_codes_for_one_user_is_429<A: Adapter>() {
    let site = Site::start::<A>(|s| s.max_sends_per_user_per_hour = 2);
    let browser = site.browser();
    for username in ["alice", "mallory"] {
        for _ in 0..2 {
            browser
                .post_json(&site.url("api/login/"), &json!({ "username": username }))
                .await
                .expect(StatusCode::OK);
        }
        let reply = browser
            .post_json(&site.url("api/login/"), &json!({ "username": username }))
            .await;
        assert_retry_after(&reply, 3600);
    }
    assert_eq!(site.sent_settled().await, 2);
    site.send_code(CAROL, None).await;
}

/// Code submissions count against the per-address limit too: links and the API get 429.
pub async fn too_many_code_tries_from_one_address_is_429<A: Adapter>() {
    let site = Site::start::<A>(|s| s.max_requests_per_ip_per_minute = 4);
    let link = site.local(&site.send_code("alice", None).await.url); // 1
    let browser = site.browser();
    for _ in 0..3 {
        // 2, 3, 4
        browser
            .post_json(
                &site.url("api/login/code/"),
                &json!({ "username": "alice", "code": "0123456789abcdef0123" }),
            )
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
    let reply = browser
        .post_json(
            &site.url("api/login/code/"),
            &json!({ "username": "alice", "code": "0123456789abcdef0123" }),
        )
        .await;
    assert_retry_after(&reply, 60);
    let page = browser.get(&link).await;
    assert_retry_after(&page, 60);
    assert!(page.body.contains(messages::RATE_LIMITED), "{}", page.body);
}

/// After `max_code_attempts` failed tries within its flow a code is dead, even for its own
/// user; one try fewer and it still works.
pub async fn a_code_dies_after_max_code_attempts<A: Adapter>() {
    let site = Site::start::<A>(|s| s.max_code_attempts = 3);
    let attempt = |code: String, flow: String| {
        let browser = site.browser();
        let url = site.url("api/login/code/");
        async move {
            browser
                .post_json(
                    &url,
                    &json!({ "username": "alice", "code": code, "flow": flow }),
                )
                .await
                .status
        }
    };
    for (wrong_tries, works) in [(2, true), (3, false)] {
        let (asker, message, flow) = site.ask_api("alice", None).await;
        let code = message.code.expose().to_owned();
        let wrong: String = code.chars().rev().collect();
        for _ in 0..wrong_tries {
            assert_eq!(
                attempt(wrong.clone(), flow.clone()).await,
                StatusCode::BAD_REQUEST
            );
        }
        let expected = if works {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(
            attempt(code, flow).await,
            expected,
            "after {wrong_tries} wrong tries"
        );
        if !works {
            asker
                .get(&site.local(&message.url))
                .await
                .expect(StatusCode::NOT_FOUND);
        }
    }
}

/// After `max_user_failures` consecutive failures within flows a user is locked out, valid
/// code or not, until `lockout_seconds` pass (manual clock).
pub async fn a_user_is_locked_out_after_max_user_failures<A: Adapter>() {
    let site = Site::start::<A>(|s| {
        s.max_user_failures = 3;
        s.max_code_attempts = 10;
        // The failure count lives max(lockout_seconds, login_code_timeout) after the last miss.
        s.lockout_seconds = 120;
        s.login_code_timeout = 120;
    });
    let url = site.url("api/login/code/");
    let (browser, message, flow) = site.ask_api("alice", None).await;
    for _ in 0..3 {
        browser
            .post_json(
                &url,
                &json!({ "username": "alice", "code": "zz", "flow": flow }),
            )
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
    let body = json!({ "username": "alice", "code": message.code.expose(), "flow": flow });
    browser
        .post_json(&url, &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(browser.whoami().await, None);
    site.clock.advance(Duration::from_secs(119));
    let (browser, fresh, flow) = site.ask_api("alice", None).await;
    let body = json!({ "username": "alice", "code": fresh.code.expose(), "flow": flow });
    browser
        .post_json(&url, &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    site.clock.advance(Duration::from_secs(2));
    browser.post_json(&url, &body).await.expect(StatusCode::OK);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// A code store outage: 503 pages and JSON that say so plainly and reveal nothing; the code
/// survives it.
pub async fn store_outage_is_503_without_internals<A: Adapter>() {
    let site = Site::standard::<A>();
    let message = site.send_code("alice", None).await;
    let link = site.local(&message.url);
    let browser = site.browser();
    let token = browser.csrf(&link).await;

    site.outage.store(true);
    let login_form = browser
        .post_form(
            &site.path("login/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
            ],
        )
        .await;
    assert_unavailable_page(&login_form);
    assert_unavailable_page(&browser.get(&link).await);
    assert_unavailable_page(
        &browser
            .post_form(&link, &[("csrfmiddlewaretoken", token.as_str())])
            .await,
    );
    assert_eq!(
        browser.head(&link).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_unavailable_page(
        &browser
            .post_form(
                &site.path("login/code/"),
                &[
                    ("csrfmiddlewaretoken", token.as_str()),
                    ("username", "alice"),
                    ("code", message.code.expose()),
                ],
            )
            .await,
    );
    assert_unavailable_json(
        &browser
            .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
            .await,
    );
    assert_unavailable_json(
        &browser
            .post_json(
                &site.url("api/login/code/"),
                &json!({ "username": "alice", "code": message.code.expose() }),
            )
            .await,
    );
    assert_eq!(browser.whoami().await, None);

    site.outage.store(false);
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// A sender outage, for an app that chose delivery during the request
/// ([`deliver_inline`](nopassword_core::NoPasswordBuilder::deliver_inline)): 503 page and JSON with
/// nothing of the sender's error; no code is left behind, and sending works again afterwards.
/// (With the adapters' default background delivery the answer stays 200; see
/// `flows::a_sender_outage_in_the_background_answers_alike`.)
pub async fn sender_outage_is_503_without_internals<A: Adapter>() {
    let site = Site::start_with::<A>(|_| {}, |builder| builder.deliver_inline());
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    site.outage.sender(true);
    assert_unavailable_json(
        &browser
            .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
            .await,
    );
    assert_unavailable_page(
        &browser
            .post_form(
                &site.path("login/"),
                &[
                    ("csrfmiddlewaretoken", token.as_str()),
                    ("username", "alice"),
                ],
            )
            .await,
    );
    site.outage.sender(false);
    assert_eq!(site.sent_settled().await, 0);
    let link = site.local(&site.send_code("alice", None).await.url);
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
}

#[track_caller]
fn assert_private(reply: &Reply, what: &str) {
    let cache = reply.header("cache-control").unwrap_or_default();
    assert!(
        cache.split(',').any(|d| d.trim() == "no-store"),
        "{what}: Cache-Control {cache:?}"
    );
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        reply.header("content-security-policy"),
        Some(nopassword_core::http::CONTENT_SECURITY_POLICY),
        "{what}"
    );
}

/// An HTML page that works under its `Content-Security-Policy: default-src 'self'`: it carries
/// the policy, and no inline `<script>`, no `<style>` element and no `style=` attribute.
#[track_caller]
fn assert_csp_safe(reply: &Reply, what: &str) {
    assert!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html")),
        "{what}: {:?}",
        reply.headers
    );
    assert_eq!(
        reply.header("content-security-policy"),
        Some(nopassword_core::http::CONTENT_SECURITY_POLICY),
        "{what}"
    );
    let policy = reply.header("content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(
            policy.split(';').any(|d| d.trim() == directive),
            "{what}: {policy}"
        );
    }
    let lower = reply.body.to_ascii_lowercase();
    assert!(!lower.contains("<style"), "{what}: {}", reply.body);
    assert!(!lower.contains("style="), "{what}: {}", reply.body);
    let scripts = html::tags(&reply.body, "script");
    assert_eq!(
        scripts.len(),
        lower.matches("<script").count(),
        "{what}: {}",
        reply.body
    );
    for script in scripts {
        assert!(
            script.attr("src").is_some_and(|src| src.starts_with('/')),
            "{what}: a <script> without a same-site src: {}",
            reply.body
        );
    }
}

/// Every page works under a strict Content-Security-Policy (docs/HTTP.md, Security floor):
/// each carries the policy and no inline script or style, and the stylesheet and script the
/// pages link answer 200 with their type, cached for a year, with nosniff.
pub async fn every_page_carries_the_csp_and_no_inline_script_or_style<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let form = browser.get(&site.path("login/")).await;
    form.expect(StatusCode::OK);
    assert_csp_safe(&form, "GET login/");
    let token = form.csrf();
    let blank = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", token.as_str()), ("username", " ")],
        )
        .await;
    blank.expect(StatusCode::OK);
    assert!(
        blank.body.contains(messages::FIELD_REQUIRED),
        "{}",
        blank.body
    );
    assert_csp_safe(&blank, "POST login/ without a username");
    let forged = browser
        .post_form(&site.path("login/"), &[("username", "alice")])
        .await;
    forged.expect(StatusCode::FORBIDDEN);
    assert_csp_safe(&forged, "POST login/ without CSRF");
    let message = browser.ask(&site, "alice", None).await;
    let link = site.local(&message.url);
    let submit = browser.get(&link).await;
    submit.expect(StatusCode::OK);
    assert!(submit.body.contains("nopassword-login"), "{}", submit.body);
    assert_csp_safe(&submit, "GET link (Logging in...)");
    let confirm = site.browser().get(&link).await;
    confirm.expect(StatusCode::OK);
    assert!(
        !confirm.body.contains("nopassword-login"),
        "the confirm page's form must not be the one the script submits: {}",
        confirm.body
    );
    assert_csp_safe(&confirm, "GET link from another browser (Confirm login)");
    let code_form = browser.get(&site.path("login/code/")).await;
    code_form.expect(StatusCode::OK);
    assert_csp_safe(&code_form, "GET login/code/");
    let invalid = browser
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
                ("code", "0123456789abcdef0123"),
            ],
        )
        .await;
    invalid.expect(StatusCode::OK);
    assert_csp_safe(&invalid, "POST login/code/ (invalid)");
    let missing = browser
        .get(&site.url("login-code/alice/0123456789abcdef0123/"))
        .await;
    missing.expect(StatusCode::NOT_FOUND);
    assert_csp_safe(&missing, "GET unknown link");
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
    let logout = browser.get(&site.path("logout/")).await;
    logout.expect(StatusCode::OK);
    assert_csp_safe(&logout, "GET logout/");

    // The files the pages link.
    let stylesheet = html::tags(&form.body, "link")
        .into_iter()
        .find(|tag| tag.attr("rel") == Some("stylesheet"))
        .and_then(|tag| tag.attr("href").map(str::to_owned))
        .expect("the page links a stylesheet");
    let script = html::tags(&form.body, "script")
        .first()
        .and_then(|tag| tag.attr("src").map(str::to_owned))
        .expect("the page loads a script");
    for (path, asset) in [
        (stylesheet, &nopassword_core::pages::STYLESHEET),
        (script, &nopassword_core::pages::SCRIPT),
    ] {
        assert_eq!(path, asset.path(&site.settings), "{path}");
        for method in [Method::GET, Method::HEAD] {
            let reply = browser.send(browser.request(method.clone(), &path)).await;
            reply.expect(StatusCode::OK);
            assert_eq!(
                reply.header("content-type"),
                Some(asset.content_type),
                "{method} {path}"
            );
            assert_eq!(
                reply.header("x-content-type-options"),
                Some("nosniff"),
                "{method} {path}"
            );
            let cache = reply.header("cache-control").unwrap_or_default();
            assert!(
                cache.contains("max-age=31536000") && cache.contains("immutable"),
                "{method} {path}: Cache-Control {cache:?}"
            );
            if method == Method::GET {
                assert_eq!(reply.body, asset.body, "{path}");
            } else {
                assert!(reply.body.is_empty(), "HEAD {path}");
            }
        }
    }
    for wrong in [
        "static/nopassword.css",
        "static/nopassword.js",
        "static/..%2FCargo.toml",
    ] {
        browser
            .get(&site.path(wrong))
            .await
            .expect(StatusCode::NOT_FOUND);
    }
}

/// Pages and answers that carry codes, tokens or sessions: `Cache-Control: no-store`,
/// `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`.
pub async fn code_pages_are_neither_cached_nor_referred<A: Adapter>() {
    let site = Site::standard::<A>();
    let message = site.send_code("alice", None).await;
    let link = site.local(&message.url);
    let browser = site.browser();
    let login_form = browser.get(&site.path("login/")).await;
    assert_private(&login_form, "GET login/");
    let token = login_form.csrf();
    assert_private(
        &browser
            .post_form(
                &site.path("login/"),
                &[
                    ("csrfmiddlewaretoken", token.as_str()),
                    ("username", "mallory"),
                ],
            )
            .await,
        "POST login/",
    );
    assert_private(&browser.get(&link).await, "GET link");
    assert_private(&browser.head(&link).await, "HEAD link");
    let wrong = site.url("login-code/alice/0123456789abcdef0123/");
    let missing = browser.get(&wrong).await;
    missing.expect(StatusCode::NOT_FOUND);
    assert_private(&missing, "GET unknown link");
    assert_private(
        &browser.get(&site.path("login/code/")).await,
        "GET login/code/",
    );
    let invalid = browser
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
                ("code", "0123456789abcdef0123"),
            ],
        )
        .await;
    invalid.expect(StatusCode::OK);
    assert_private(&invalid, "POST login/code/ (invalid)");
    let login = browser.follow_link(&link).await;
    login.expect(StatusCode::FOUND);
    assert_private(&login, "POST link");
    let api = site
        .browser()
        .post_json(
            &site.url("api/login/code/"),
            &json!({ "username": "alice", "code": message.code.expose() }),
        )
        .await;
    assert_private(&api, "POST api/login/code/");
    let too_large = browser
        .post_json(
            &site.url("api/login/"),
            &json!({ "username": "a".repeat(65 * 1024) }),
        )
        .await;
    too_large.expect(StatusCode::PAYLOAD_TOO_LARGE);
    assert_private(&too_large, "413 from api/login/");
}

/// A logged-out session is dead on the server: a copy of its cookie (kept by an attacker,
/// or replayed from a shared computer) is not logged in afterwards.
pub async fn a_logged_out_session_cookie_is_dead<A: Adapter>() {
    let site = Site::standard::<A>();
    for logout in ["POST logout/", "POST api/logout/"] {
        let browser = site.logged_in("alice").await;
        let session = browser.session_id().expect("a session cookie");
        assert_eq!(site.who_has(&session).await.as_deref(), Some("alice"));
        let reply = match logout {
            "POST logout/" => {
                let token = browser.csrf(&site.path("logout/")).await;
                browser
                    .post_form(&site.path("logout/"), &[("csrfmiddlewaretoken", &token)])
                    .await
            }
            _ => {
                browser
                    .post_json(&site.url("api/logout/"), &json!({}))
                    .await
            }
        };
        assert!(
            matches!(reply.status, StatusCode::FOUND | StatusCode::OK),
            "{logout}: {}",
            reply.body
        );
        assert_eq!(site.who_has(&session).await, None, "after {logout}");
    }
}

/// The attributes of cookie `name` set by `reply`, which must be HttpOnly and SameSite=Lax.
#[track_caller]
fn lax_cookie_attributes(reply: &Reply, name: &str, what: &str) -> Vec<String> {
    let set_cookie = reply
        .set_cookie(name)
        .unwrap_or_else(|| panic!("{what}: no {name} cookie in {:?}", reply.headers));
    let attributes = cookie_attributes(set_cookie);
    assert!(
        attributes.iter().any(|a| a == "httponly"),
        "{what}: {set_cookie}"
    );
    assert!(
        attributes.iter().any(|a| a == "samesite=lax"),
        "{what}: {set_cookie}"
    );
    attributes
}

#[track_caller]
fn session_attributes(reply: &Reply, what: &str) -> Vec<String> {
    lax_cookie_attributes(reply, SESSION_COOKIE, what)
}

fn is_secure(attributes: &[String]) -> bool {
    attributes.iter().any(|a| a == "secure")
}

/// Over plain HTTP the session cookie (set at login), the CSRF cookie (set with a form) and
/// the flow cookie (set with a code request) are HttpOnly and SameSite=Lax, and not `Secure`
/// (a browser would drop them).
pub async fn session_cookie_is_httponly_and_lax_and_not_secure_over_http<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let form = browser.get(&site.path("login/")).await;
    assert!(!is_secure(&lax_cookie_attributes(
        &form,
        CSRF_COOKIE,
        "GET login/"
    )));
    let asked = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", &form.csrf()), ("username", "alice")],
        )
        .await;
    asked.expect(StatusCode::OK);
    assert!(!is_secure(&lax_cookie_attributes(
        &asked,
        FLOW_COOKIE,
        "POST login/"
    )));
    let link = site.local(&site.new_message_for("alice", 0).await.url);
    let page = browser.get(&link).await;
    page.expect(StatusCode::OK);
    assert_eq!(
        page.session_set_cookie(),
        None,
        "an anonymous link page starts no session"
    );
    let login = browser
        .post_form(&link, &[("csrfmiddlewaretoken", &page.csrf())])
        .await;
    login.expect(StatusCode::FOUND);
    assert!(!is_secure(&session_attributes(&login, "POST link")));
}

/// Behind a trusted proxy that says `X-Forwarded-Proto: https`: `Secure` cookies (CSRF, flow,
/// session) and `https` links; the same site over plain HTTP still sets no `Secure`.
pub async fn session_cookie_is_secure_behind_a_trusted_https_proxy<A: Adapter>() {
    let site = Site::start::<A>(|s| s.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]);
    let browser = site.browser();
    let https = |method: Method, route: &str| {
        browser
            .request(method, &site.url(route))
            .header("x-forwarded-proto", "https")
    };
    let form = browser.send(https(Method::GET, "login/")).await;
    assert!(is_secure(&lax_cookie_attributes(
        &form,
        CSRF_COOKIE,
        "GET login/ via https"
    )));

    let before = site.sent();
    let asked = browser
        .send(https(Method::POST, "api/login/").json(&json!({ "username": "alice" })))
        .await;
    asked.expect(StatusCode::OK);
    assert!(is_secure(&lax_cookie_attributes(
        &asked,
        FLOW_COOKIE,
        "POST api/login/ via https"
    )));
    let flow = asked.json()["flow"].as_str().expect("a flow").to_owned();
    let message = site.new_message_for("alice", before).await;
    assert!(
        message.url.starts_with("https://"),
        "a secure request gives an https link: {}",
        message.url
    );
    let login = browser
        .send(
            https(Method::POST, "api/login/code/")
                .json(&json!({ "username": "alice", "code": message.code.expose(), "flow": flow })),
        )
        .await;
    login.expect(StatusCode::OK);
    assert!(is_secure(&session_attributes(&login, "login via https")));

    let plain = site.browser().get(&site.path("login/")).await;
    assert!(!is_secure(&lax_cookie_attributes(
        &plain,
        CSRF_COOKIE,
        "GET login/ over http"
    )));
}

/// `X-Forwarded-Proto: https` from a peer not in `trusted_proxies` changes nothing.
pub async fn https_from_an_untrusted_peer_is_not_believed<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let request = browser
        .request(Method::GET, &site.path("login/"))
        .header("x-forwarded-proto", "https");
    let form = browser.send(request).await;
    assert!(!is_secure(&lax_cookie_attributes(
        &form,
        CSRF_COOKIE,
        "GET login/"
    )));
    let before = site.sent();
    let request = browser
        .request(Method::POST, &site.url("api/login/"))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "username": "alice" }));
    let asked = browser.send(request).await;
    asked.expect(StatusCode::OK);
    assert!(!is_secure(&lax_cookie_attributes(
        &asked,
        FLOW_COOKIE,
        "POST api/login/"
    )));
    let url = site.new_message_for("alice", before).await.url;
    assert!(url.starts_with("http://"), "{url}");
}

/// Logging in (by link or by the API) gives a new session id: an anonymous browser gets its
/// first session then, and an id planted before the login (an attacker's choice) is neither
/// kept nor logged in. (Sessions of other users and of users deactivated since:
/// `flows::the_session_id_changes_at_login_whatever_the_request_carried`.)
pub async fn session_id_changes_at_login<A: Adapter>() {
    let site = Site::standard::<A>();
    const PLANTED: &str = "attacker-chose-this-session-id-0123456789";

    for planted in [false, true] {
        let (browser, message) = site.ask("alice", None).await;
        let link = site.local(&message.url);
        let page = browser.get(&link).await;
        page.expect(StatusCode::OK);
        assert_eq!(
            browser.session_id(),
            None,
            "anonymous pages start no session"
        );
        if planted {
            browser.plant_cookie(SESSION_COOKIE, PLANTED);
        }
        let login = browser
            .post_form(&link, &[("csrfmiddlewaretoken", &page.csrf())])
            .await;
        login.expect(StatusCode::FOUND);
        let after =
            cookie_value(login.session_set_cookie().expect("a new session cookie")).to_owned();
        assert_ne!(after, PLANTED, "the planted id must not be kept");
        assert_eq!(browser.session_id().as_deref(), Some(after.as_str()));
        assert_eq!(site.who_has(&after).await.as_deref(), Some("alice"));
        assert_eq!(site.who_has(PLANTED).await, None);
    }

    let (browser, message, flow) = site.ask_api("alice", None).await;
    browser.plant_cookie(SESSION_COOKIE, PLANTED);
    let login = browser
        .post_json(
            &site.url("api/login/code/"),
            &json!({ "username": "alice", "code": message.code.expose(), "flow": flow }),
        )
        .await;
    login.expect(StatusCode::OK);
    let after = cookie_value(login.session_set_cookie().expect("a new session cookie")).to_owned();
    assert_ne!(after, PLANTED, "the session id must change at login");
    assert_eq!(site.who_has(&after).await.as_deref(), Some("alice"));
    assert_eq!(site.who_has(PLANTED).await, None);
}
