//! `GET`/`POST logout/`: ending the session. `GET logout/` asks first (a form whose POST logs
//! out) unless `logout_on_get`, so no other site can log a user out with a link or an image
//! (docs/HTTP.md, Login flows).

use nopassword_core::forms::messages;
use reqwest::{Method, StatusCode};

use crate::support::{Adapter, Site, html};

/// `GET logout/`: 200 "Log out?" with a POST form to `logout/` (CSRF token, a button
/// "Log out"); the session lives on. The form's POST ends it, 302 to `login/`.
pub async fn get_asks_and_the_form_ends_the_session<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let session = browser.session_id().expect("a session cookie");
    for _ in 0..2 {
        let page = browser.get(&site.path("logout/")).await;
        page.expect(StatusCode::OK);
        assert_eq!(
            html::title(&page.body).as_deref(),
            Some(messages::LOG_OUT_TITLE)
        );
        assert_eq!(
            html::form_action(&page.body).as_deref(),
            Some(site.path("logout/").as_str())
        );
        let button = html::element(&page.body, "button").expect("a button");
        assert_eq!(html::unescape(button.trim()), messages::LOG_OUT);
        assert!(page.csrf().len() >= 16);
        assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
        // The session lives on, on the server too (its cookie may be re-issued, as
        // actix-session does when it extends the session's TTL).
        assert_eq!(site.who_has(&session).await.as_deref(), Some("alice"));
    }
    let form = browser.get(&site.path("logout/")).await;
    let reply = browser
        .post_form(
            &site.path("logout/"),
            &[("csrfmiddlewaretoken", &form.csrf())],
        )
        .await;
    reply.expect(StatusCode::FOUND);
    assert_eq!(reply.location(), site.path("login/"));
    assert_eq!(browser.whoami().await, None);
}

/// `GET logout/?next=/bye`: the form carries the safe `next`, and its POST goes there.
pub async fn get_follows_a_safe_next<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let request = browser
        .request(Method::GET, &site.path("logout/"))
        .query(&[("next", "/bye?see=you")]);
    let form = browser.send(request).await;
    form.expect(StatusCode::OK);
    let next = html::input_value(&form.body, "next").expect("a next field");
    assert_eq!(next, "/bye?see=you");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    let reply = browser
        .post_form(
            &site.path("logout/"),
            &[("csrfmiddlewaretoken", &form.csrf()), ("next", &next)],
        )
        .await;
    reply.expect(StatusCode::FOUND);
    assert_eq!(reply.location(), "/bye?see=you");
    assert_eq!(browser.whoami().await, None);
}

/// `logout_on_get = true` restores the original's `GET logout/`: the session ends, 302 to a
/// safe `next`, else to `login/`.
pub async fn logout_on_get_ends_the_session_on_get<A: Adapter>() {
    let site = Site::start::<A>(|s| s.logout_on_get = true);
    for (next, location) in [
        (None, site.path("login/")),
        (Some("/bye?see=you"), "/bye?see=you".to_owned()),
    ] {
        let browser = site.logged_in("alice").await;
        let mut request = browser.request(Method::GET, &site.path("logout/"));
        if let Some(next) = next {
            request = request.query(&[("next", next)]);
        }
        let reply = browser.send(request).await;
        reply.expect(StatusCode::FOUND);
        assert_eq!(reply.location(), location);
        assert_eq!(browser.whoami().await, None);
    }
}

/// `POST logout/` with the CSRF token: the session ends, 302 to a safe `next`, else to
/// `login/`.
pub async fn post_ends_the_session<A: Adapter>() {
    let site = Site::standard::<A>();
    for (next, location) in [
        (Some("/bye"), "/bye".to_owned()),
        (None, site.path("login/")),
    ] {
        let browser = site.logged_in("alice").await;
        let token = browser.csrf(&site.path("login/")).await;
        let mut fields = vec![("csrfmiddlewaretoken", token.as_str())];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        let reply = browser.post_form(&site.path("logout/"), &fields).await;
        reply.expect(StatusCode::FOUND);
        assert_eq!(reply.location(), location);
        assert_eq!(browser.whoami().await, None);
    }
}

/// `HEAD logout/` ends nothing (link checkers and prefetchers send HEAD): 405, still logged in,
/// whatever `logout_on_get` says.
pub async fn head_does_not_end_the_session<A: Adapter>() {
    for logout_on_get in [false, true] {
        let site = Site::start::<A>(|s| s.logout_on_get = logout_on_get);
        let browser = site.logged_in("alice").await;
        let reply = browser.head(&site.path("logout/")).await;
        reply.expect(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    }
}
