//! `GET`/`POST logout/`: ending the session.

use reqwest::{Method, StatusCode};

use crate::support::{Adapter, Site};

/// `GET logout/`: the session ends, 302 to `login/`.
pub async fn get_ends_the_session_and_goes_to_login<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let reply = browser.get(&site.path("logout/")).await;
    reply.expect(StatusCode::FOUND);
    assert_eq!(reply.location(), site.path("login/"));
    assert_eq!(browser.whoami().await, None);
}

/// `GET logout/?next=/bye`: 302 to `/bye`.
pub async fn get_follows_a_safe_next<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let request = browser
        .request(Method::GET, &site.path("logout/"))
        .query(&[("next", "/bye?see=you")]);
    let reply = browser.send(request).await;
    reply.expect(StatusCode::FOUND);
    assert_eq!(reply.location(), "/bye?see=you");
    assert_eq!(browser.whoami().await, None);
}

/// `POST logout/` with the session's CSRF token: the session ends, 302 to a safe `next`, else
/// to `login/`.
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

/// `HEAD logout/` ends nothing (link checkers and prefetchers send HEAD): 405, still logged in.
pub async fn head_does_not_end_the_session<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let reply = browser.head(&site.path("logout/")).await;
    reply.expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}
