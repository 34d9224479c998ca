//! `GET`/`POST login/code/`: the typed-code form, for codes read from an SMS or a mail. A typed
//! code counts only in the browser that asked for it (its flow cookie, docs/HTTP.md, Login flows); the
//! tests here type it there, and [`flows`](super::flows) proves the rest.

use reqwest::StatusCode;

use super::text;
use crate::support::{Adapter, Site, html};

/// `GET login/code/`: a form posting `username` and `code` to itself, with a CSRF token.
pub async fn form_asks_for_username_and_code<A: Adapter>() {
    let site = Site::standard::<A>();
    let page = site.browser().get(&site.path("login/code/")).await;
    page.expect(StatusCode::OK);
    assert_eq!(
        html::form_action(&page.body).as_deref(),
        Some(site.path("login/code/").as_str())
    );
    assert!(
        html::input(&page.body, "username").is_some(),
        "{}",
        page.body
    );
    assert!(html::input(&page.body, "code").is_some(), "{}", page.body);
    assert!(page.csrf().len() >= 16);
}

/// A valid typed code, in the browser that asked: 302 to the stored `next`, logged in, and the
/// code is used up.
pub async fn valid_code_logs_in<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", Some("/typed")).await;
    let token = browser.csrf(&site.path("login/code/")).await;
    let login = browser
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "alice"),
                ("code", message.code.expose()),
            ],
        )
        .await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/typed");
    assert!(login.session_set_cookie().is_some());
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    browser
        .get(&site.local(&message.url))
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// A wrong code, another user's code, an unknown user, in the asking browser or another: 200,
/// the form again with "Unable to log in with provided login code.", nobody logged in.
pub async fn invalid_code_shows_the_form_error<A: Adapter>() {
    let site = Site::standard::<A>();
    let (asker, message) = site.ask("alice", None).await;
    let code = message.code.expose();
    let wrong: String = code.chars().rev().collect();
    for browser in [site.browser(), asker] {
        let token = browser.csrf(&site.path("login/code/")).await;
        for (username, code) in [
            ("alice", wrong.as_str()),
            ("bob", code),
            ("mallory", code),
            ("alice", "not-a-code"),
        ] {
            let reply = browser
                .post_form(
                    &site.path("login/code/"),
                    &[
                        ("csrfmiddlewaretoken", &token),
                        ("username", username),
                        ("code", code),
                    ],
                )
                .await;
            reply.expect(StatusCode::OK);
            assert!(
                reply.body.contains(text::INVALID_CODE),
                "{username}: {}",
                reply.body
            );
            assert!(html::input(&reply.body, "code").is_some(), "the form again");
            assert_eq!(browser.whoami().await, None);
        }
    }
}

/// Missing username or code: 200 with "This field is required.".
pub async fn missing_fields_show_field_errors<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/code/")).await;
    let bodies: [&[(&str, &str)]; 3] = [
        &[("csrfmiddlewaretoken", &token), ("username", "alice")],
        &[
            ("csrfmiddlewaretoken", &token),
            ("code", "0123456789abcdef0123"),
        ],
        &[
            ("csrfmiddlewaretoken", &token),
            ("username", " "),
            ("code", " "),
        ],
    ];
    for fields in bodies {
        let reply = browser.post_form(&site.path("login/code/"), fields).await;
        reply.expect(StatusCode::OK);
        assert!(
            reply.body.contains(text::REQUIRED),
            "{fields:?}: {}",
            reply.body
        );
        assert!(!reply.body.contains(text::INVALID_CODE));
    }
}

/// With `hide_username` the code alone logs in (in the browser that asked).
pub async fn hide_username_needs_only_the_code<A: Adapter>() {
    let site = Site::start::<A>(|s| s.hide_username = true);
    let (browser, message) = site.ask("alice", None).await;
    let token = browser.csrf(&site.path("login/code/")).await;
    let login = browser
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", &token),
                ("code", message.code.expose()),
            ],
        )
        .await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}
