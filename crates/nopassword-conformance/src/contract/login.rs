//! `GET`/`POST login/`: asking for a login link.

use reqwest::StatusCode;

use super::text;
use crate::support::{Adapter, Site, html};

/// `GET login/`: a form posting `username` and a hidden `next` to `login/`, with a CSRF token.
pub async fn form_has_username_next_and_csrf<A: Adapter>() {
    let site = Site::standard::<A>();
    let page = site.browser().get(&site.path("login/")).await;
    page.expect(StatusCode::OK);
    assert!(
        page.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html")),
        "{:?}",
        page.header("content-type")
    );
    assert_eq!(
        html::form_action(&page.body).as_deref(),
        Some(site.path("login/").as_str())
    );
    let username = html::input(&page.body, "username").expect("a username field");
    assert_ne!(username.attr("type"), Some("hidden"));
    let next = html::input(&page.body, "next").expect("a next field");
    assert_eq!(next.attr("type"), Some("hidden"));
    assert_eq!(next.attr("value").unwrap_or_default(), "");
    assert!(page.csrf().len() >= 16, "a CSRF token of some strength");
}

/// `?next=` reaches the hidden field only when it is a same-site path.
pub async fn form_carries_only_a_safe_next<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for (next, kept) in [
        ("/dashboard?tab=1&x=2", "/dashboard?tab=1&x=2"),
        ("//evil.com", ""),
        ("https://evil.com/", ""),
        ("javascript:alert(1)", ""),
        ("/\\evil.com", ""),
    ] {
        let request = browser
            .request(reqwest::Method::GET, &site.path("login/"))
            .query(&[("next", next)]);
        let page = browser.send(request).await;
        page.expect(StatusCode::OK);
        assert_eq!(
            html::input_value(&page.body, "next").as_deref(),
            Some(kept),
            "?next={next:?}"
        );
    }
}

/// `POST login/` for alice: the "sent" page, and one message with her link.
pub async fn submit_sends_a_link_to_a_known_user<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    let reply = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", &token), ("username", "alice")],
        )
        .await;
    reply.expect(StatusCode::OK);
    assert!(reply.body.contains(text::SENT), "{}", reply.body);
    let message = site.new_message_for("alice", 0).await;
    let prefix = format!("{}/alice/", site.url("login-code"));
    assert!(
        message.url.starts_with(&prefix),
        "{} should start with {prefix}",
        message.url
    );
}

/// Unknown and inactive users get exactly the page alice gets, and no message.
pub async fn submit_answers_alike_for_unknown_and_inactive_users<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    let mut pages = Vec::new();
    for username in ["alice", "mallory", "bob", "Alice"] {
        let reply = browser
            .post_form(
                &site.path("login/"),
                &[("csrfmiddlewaretoken", &token), ("username", username)],
            )
            .await;
        reply.expect(StatusCode::OK);
        assert!(
            reply.body.contains(text::SENT),
            "{username}: {}",
            reply.body
        );
        pages.push((username, reply.body));
    }
    for (username, page) in &pages[1..] {
        assert_eq!(page, &pages[0].1, "{username}'s page differs from alice's");
    }
    site.new_message_for("alice", 0).await;
    site.sent_settled().await;
    let sent: Vec<_> = site
        .outbox
        .messages()
        .into_iter()
        .map(|m| m.username)
        .collect();
    assert_eq!(
        sent,
        ["alice"],
        "only the known, active user gets a message"
    );
}

/// A missing or blank username: 200, the form again with "This field is required." (and a
/// safe `next` kept), nothing sent.
pub async fn submit_without_username_shows_the_form_again<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    let bodies: [&[(&str, &str)]; 3] = [
        &[("csrfmiddlewaretoken", &token)],
        &[("csrfmiddlewaretoken", &token), ("username", "")],
        &[("csrfmiddlewaretoken", &token), ("username", "   ")],
    ];
    for fields in bodies {
        let reply = browser.post_form(&site.path("login/"), fields).await;
        reply.expect(StatusCode::OK);
        assert!(reply.body.contains(text::REQUIRED), "{}", reply.body);
        assert!(!reply.body.contains(text::SENT), "{}", reply.body);
        assert!(html::input(&reply.body, "username").is_some(), "the form");
        assert!(html::csrf_token(&reply.body).is_some(), "with its token");
    }
    // The form comes back with its safe `next`, and without an unsafe one.
    for (next, kept) in [("/kept?a=1", "/kept?a=1"), ("//evil.com", "")] {
        let reply = browser
            .post_form(
                &site.path("login/"),
                &[("csrfmiddlewaretoken", &token), ("next", next)],
            )
            .await;
        reply.expect(StatusCode::OK);
        assert_eq!(
            html::input_value(&reply.body, "next").as_deref(),
            Some(kept)
        );
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// The `next` posted with the form is where the link's login goes; the form keeps it.
pub async fn next_from_the_form_is_where_the_login_goes<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let request = browser
        .request(reqwest::Method::GET, &site.path("login/"))
        .query(&[("next", "/inbox?folder=2")]);
    let form = browser.send(request).await;
    form.expect(StatusCode::OK);
    let next = html::input_value(&form.body, "next").expect("next field");
    let reply = browser
        .post_form(
            &site.path("login/"),
            &[
                ("csrfmiddlewaretoken", &form.csrf()),
                ("username", "alice"),
                ("next", &next),
            ],
        )
        .await;
    reply.expect(StatusCode::OK);
    let link = site.local(&site.new_message_for("alice", 0).await.url);
    let login = browser.follow_link(&link).await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/inbox?folder=2");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// A file in `template_dir` named like a built-in page replaces it (HTML auto-escaped); the
/// other pages stay built-in.
pub async fn templates_are_overridden_by_name<A: Adapter>() {
    let dir = std::env::temp_dir().join(format!(
        "nopassword-conformance-{}-{}",
        std::process::id(),
        std::any::type_name::<A>().replace(':', "_")
    ));
    std::fs::create_dir_all(&dir).expect("a template dir");
    std::fs::write(
        dir.join("login_sent.html"),
        "<p id=custom>{{ message }} for {{ expires_in }} {{ '<b>' }}</p>",
    )
    .expect("an override");
    let site = Site::start::<A>(|s| s.template_dir = Some(dir.clone()));
    let browser = site.browser();
    let form = browser.get(&site.path("login/")).await;
    form.expect(StatusCode::OK);
    assert!(
        html::input(&form.body, "username").is_some(),
        "built-in form"
    );
    let reply = browser
        .post_form(
            &site.path("login/"),
            &[("csrfmiddlewaretoken", &form.csrf()), ("username", "alice")],
        )
        .await;
    reply.expect(StatusCode::OK);
    assert_eq!(
        reply.body,
        format!("<p id=custom>{} for 15 minutes &lt;b&gt;</p>", text::SENT)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// An override that fails to render answers a plain 503 that names neither the file nor the
/// variable (those go to the log); the other pages still render. A misspelt variable fails
/// at start-up (every page is rendered once with sample values); this one names it only for
/// a value the samples do not have, so it is past that check.
pub async fn a_page_that_fails_to_render_is_a_plain_503<A: Adapter>() {
    let dir = std::env::temp_dir().join(format!(
        "nopassword-conformance-undefined-{}-{}",
        std::process::id(),
        std::any::type_name::<A>().replace(':', "_")
    ));
    std::fs::create_dir_all(&dir).expect("a template dir");
    std::fs::write(
        dir.join("login_code_form.html"),
        "<p>{{ csrf_token }}{% if username == \"mallory\" %}{{ mesage }}{% endif %}</p>",
    )
    .expect("an override");
    let site = Site::start::<A>(|s| s.template_dir = Some(dir.clone()));
    let browser = site.browser();
    let form = browser.get(&site.path("login/code/?username=alice")).await;
    form.expect(StatusCode::OK);
    let reply = browser
        .get(&site.path("login/code/?username=mallory"))
        .await;
    reply.expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body, nopassword_core::forms::messages::UNAVAILABLE);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("text/plain")),
        "{:?}",
        reply.header("content-type")
    );
    browser
        .get(&site.path("login/"))
        .await
        .expect(StatusCode::OK);
    std::fs::remove_dir_all(&dir).ok();
}

/// `HEAD` of the form pages: 200 like `GET`, without a body.
pub async fn head_of_the_forms_is_200_without_a_body<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for route in ["login/", "login/code/"] {
        let reply = browser.head(&site.path(route)).await;
        reply.expect(StatusCode::OK);
        assert!(reply.body.is_empty(), "HEAD {route}: {}", reply.body);
    }
}
