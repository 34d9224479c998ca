//! Login links: `login-code/{username}/{code}/` (or `login-code/{code}/` with
//! `hide_username`), by GET, POST and HEAD, and the settings that shape them. These tests open
//! links in the browser that asked for them (docs/HTTP.md, Routes); what other browsers see is
//! in [`flows`](super::flows).

use std::time::Duration;

use reqwest::StatusCode;

use super::text;
use crate::support::{Adapter, Browser, CAROL, Reply, Site, html};

/// The last path segment of a link: the code (or the link's own secret).
pub(crate) fn code_of(url: &str) -> String {
    Site::link_path(url)
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("a code segment")
        .to_owned()
}

/// Another code of the same shape as `code` (its first character changed).
fn other_code(code: &str) -> String {
    let first = if code.starts_with('1') { '2' } else { '1' };
    format!("{first}{}", &code[1..])
}

/// `GET` of a link by the browser that asked: 200 "Logging in..." whose form POSTs to the same
/// URL on load, with a `<noscript>` button "Click here to login" and the CSRF token.
pub async fn get_renders_the_auto_submitting_page<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    let page = browser.get(&link).await;
    page.expect(StatusCode::OK);
    assert_eq!(html::title(&page.body).as_deref(), Some(text::LOGGING_IN));
    assert_eq!(
        html::form_action(&page.body).as_deref(),
        Some(Site::link_path(&link).as_str()),
        "the form posts to the link itself"
    );
    assert!(page.csrf().len() >= 16);
    let noscript = html::element(&page.body, "noscript").expect("a <noscript> element");
    assert!(
        noscript.contains("<button") && noscript.contains(text::CLICK_TO_LOGIN),
        "{noscript}"
    );
    assert_submits_itself(&browser, &page).await;
}

/// The "Logging in..." page submits its form by script: the form is `form#nopassword-login`,
/// and the page loads (by `src`, the Content-Security-Policy forbids inline scripts) a script
/// from the site that submits that form.
pub(crate) async fn assert_submits_itself(browser: &Browser, page: &Reply) {
    let form = html::tags(&page.body, "form")
        .into_iter()
        .next()
        .expect("the page has a form");
    assert_eq!(form.attr("id"), Some("nopassword-login"), "{}", page.body);
    let src = html::tags(&page.body, "script")
        .iter()
        .find_map(|tag| tag.attr("src").map(str::to_owned))
        .unwrap_or_else(|| panic!("a script loaded by src: {}", page.body));
    assert!(src.starts_with('/'), "a same-site script: {src}");
    let script = browser.get(&src).await;
    script.expect(StatusCode::OK);
    assert!(
        script
            .body
            .contains(r#"getElementById("nopassword-login")"#)
            && script.body.contains(".submit()"),
        "{src} submits the form: {}",
        script.body
    );
}

/// A GET (twice) does not consume: the POST after it still logs in.
pub async fn get_does_not_consume_the_code<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    browser.get(&link).await.expect(StatusCode::OK);
    let page = browser.get(&link).await;
    page.expect(StatusCode::OK);
    let login = browser
        .post_form(&link, &[("csrfmiddlewaretoken", &page.csrf())])
        .await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// `POST` of a link: 302 to the stored `next`, the session cookie set, the user logged in.
pub async fn post_logs_in_and_redirects_to_next<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", Some("/inbox")).await;
    let link = site.local(&message.url);
    assert_eq!(browser.whoami().await, None);
    let login = browser.follow_link(&link).await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/inbox");
    assert!(login.session_set_cookie().is_some(), "{:?}", login.headers);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    // Another browser is not logged in by it.
    assert_eq!(site.browser().whoami().await, None);
}

/// A used code: GET and POST give 404.
pub async fn used_code_is_404<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
    browser.get(&link).await.expect(StatusCode::NOT_FOUND);
    let other = site.browser();
    other.get(&link).await.expect(StatusCode::NOT_FOUND);
    let token = other.csrf(&site.path("login/")).await;
    other
        .post_form(&link, &[("csrfmiddlewaretoken", &token)])
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(other.whoami().await, None);
}

/// A code past `login_code_timeout` (manual clock, no sleeping): 404; a second earlier it
/// still worked.
pub async fn expired_code_is_404<A: Adapter>() {
    let site = Site::standard::<A>();
    let timeout = site.settings.login_code_timeout;
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    site.clock.advance(Duration::from_secs(timeout - 1));
    let page = browser.get(&link).await;
    page.expect(StatusCode::OK);
    site.clock.advance(Duration::from_secs(1));
    browser.get(&link).await.expect(StatusCode::NOT_FOUND);
    browser
        .post_form(&link, &[("csrfmiddlewaretoken", &page.csrf())])
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(browser.whoami().await, None);
}

/// Wrong codes, unknown users, another user's code, malformed codes: 404 by GET and POST,
/// from the asking browser and from another; the real link still works after them.
pub async fn wrong_code_is_404<A: Adapter>() {
    let site = Site::standard::<A>();
    let (asker, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    let code = code_of(&message.url);
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;

    let wrong = site.url(&format!("login-code/alice/{}/", other_code(&code)));
    browser.get(&wrong).await.expect(StatusCode::NOT_FOUND);
    browser
        .post_form(&wrong, &[("csrfmiddlewaretoken", &token)])
        .await
        .expect(StatusCode::NOT_FOUND);
    for url in [
        wrong.clone(),
        site.url(&format!("login-code/mallory/{code}/")),
        // Another user's code under this name.
        site.url(&format!("login-code/bob/{code}/")),
        site.url(&format!("login-code/{CAROL}/{code}/")),
        site.url("login-code/mallory/not-a-code/"),
    ] {
        browser.get(&url).await.expect(StatusCode::NOT_FOUND);
        asker.get(&url).await.expect(StatusCode::NOT_FOUND);
    }
    assert_eq!(browser.whoami().await, None);
    assert_eq!(asker.whoami().await, None);
    // Misses of a link (a 128-bit secret) count against nobody.
    assert_eq!(site.user_failures("1").await, 0, "alice's failure count");
    let login = asker.follow_link(&link).await;
    login.expect(StatusCode::FOUND);
    assert_eq!(asker.whoami().await.as_deref(), Some("alice"));
}

/// A link that does not decode (a username that is not UTF-8, an encoded slash) is one more
/// unknown link: the 404 page, by GET, POST and HEAD.
pub async fn undecodable_link_is_404<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    let token = browser.csrf(&site.path("login/")).await;
    for link in [
        site.path("login-code/%FF/0123456789abcdef0123/"),
        site.path("login-code/%C3%28/0123456789abcdef0123/"),
        site.path("login-code/a%2Fb/0123456789abcdef0123/"),
        site.path("login-code/alice/%FF/"),
    ] {
        let page = browser.get(&link).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "GET {link}: {}",
            page.body
        );
        assert!(
            page.header("content-type")
                .is_some_and(|ct| ct.starts_with("text/html")),
            "GET {link}: {:?}",
            page.headers
        );
        let post = browser
            .post_form(&link, &[("csrfmiddlewaretoken", &token)])
            .await;
        assert_eq!(
            post.status,
            StatusCode::NOT_FOUND,
            "POST {link}: {}",
            post.body
        );
        let head = browser.head(&link).await;
        assert_eq!(head.status, StatusCode::NOT_FOUND, "HEAD {link}");
    }
}

/// `HEAD` of a link answers without consuming; the POST afterwards logs in.
pub async fn head_never_consumes<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    for _ in 0..2 {
        let head = browser.head(&link).await;
        head.expect(StatusCode::OK);
        assert!(head.body.is_empty());
    }
    let wrong = site.url(&format!(
        "login-code/alice/{}/",
        other_code(&code_of(&link))
    ));
    browser.head(&wrong).await.expect(StatusCode::NOT_FOUND);
    browser.follow_link(&link).await.expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// With `post_redirect = false` a GET logs in, but a HEAD still never does.
pub async fn head_never_consumes_without_post_redirect<A: Adapter>() {
    let site = Site::start::<A>(|s| s.post_redirect = false);
    let (browser, message) = site.ask("alice", None).await;
    let link = site.local(&message.url);
    browser.head(&link).await.expect(StatusCode::OK);
    browser.head(&link).await.expect(StatusCode::OK);
    assert_eq!(browser.whoami().await, None);
    browser.get(&link).await.expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// `post_redirect = false`: the asking browser's GET itself logs in (302 to next) and consumes
/// the code.
pub async fn get_logs_in_without_post_redirect<A: Adapter>() {
    let site = Site::start::<A>(|s| s.post_redirect = false);
    let (browser, message) = site.ask("alice", Some("/welcome")).await;
    let link = site.local(&message.url);
    let login = browser.get(&link).await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/welcome");
    assert!(login.session_set_cookie().is_some());
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    site.browser()
        .get(&link)
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// `hide_username`: links are `login-code/{code}/`, and they log the code's user in.
pub async fn hide_username_links_carry_only_the_code<A: Adapter>() {
    let site = Site::start::<A>(|s| s.hide_username = true);
    let (browser, message) = site.ask("alice", Some("/hidden")).await;
    let code = message.code.expose().to_owned();
    assert_eq!(message.url, site.url(&format!("login-code/{code}/")));
    // The username form of the link is not a route now.
    browser
        .get(&site.url(&format!("login-code/alice/{code}/")))
        .await
        .expect(StatusCode::NOT_FOUND);
    let page = browser.get(&message.url).await;
    page.expect(StatusCode::OK);
    assert_eq!(html::title(&page.body).as_deref(), Some(text::LOGGING_IN));
    let login = browser.follow_link(&message.url).await;
    login.expect(StatusCode::FOUND);
    assert_eq!(login.location(), "/hidden");
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    site.browser()
        .get(&message.url)
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// `numeric_codes`: codes of `code_length` digits. Eight digits are too short to travel in a
/// link (docs/HTTP.md, Login flows), so the link carries a 128-bit secret of its own, and logs in; twenty
/// digits travel in the link themselves.
pub async fn numeric_codes_have_code_length_digits<A: Adapter>() {
    for (length, in_link) in [(8, false), (20, true)] {
        let site = Site::start::<A>(|s| {
            s.numeric_codes = true;
            s.code_length = length;
        });
        for _ in 0..3 {
            let message = site.send_code("alice", None).await;
            let code = message.code.expose();
            assert!(
                code.len() == length && code.bytes().all(|b| b.is_ascii_digit()),
                "{code:?} is not {length} digits"
            );
            let secret = code_of(&message.url);
            if in_link {
                assert_eq!(secret, code);
            } else {
                assert!(
                    secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
                    "the link of a short code carries a 128-bit secret: {}",
                    message.url
                );
            }
        }
        let (browser, message) = site.ask("alice", None).await;
        browser
            .follow_link(&site.local(&message.url))
            .await
            .expect(StatusCode::FOUND);
        assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    }
}

/// `code_length` shapes hex codes: 20 by default, 32 when asked.
pub async fn code_length_shapes_hex_codes<A: Adapter>() {
    for (length, site) in [
        (20, Site::standard::<A>()),
        (32, Site::start::<A>(|s| s.code_length = 32)),
    ] {
        let (browser, message) = site.ask("alice", None).await;
        let code = code_of(&message.url);
        assert_eq!(code, message.code.expose());
        assert!(
            code.len() == length && code.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{code:?} is not {length} hex characters"
        );
        browser
            .follow_link(&site.local(&message.url))
            .await
            .expect(StatusCode::FOUND);
        assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    }
}

/// `carol+test@example.com` is percent-encoded in the link and comes back intact.
pub async fn username_is_percent_encoded_and_round_trips<A: Adapter>() {
    let site = Site::standard::<A>();
    let (browser, message) = site.ask(CAROL, None).await;
    let encoded = "carol%2Btest%40example.com";
    assert_eq!(
        message.url,
        site.url(&format!("login-code/{encoded}/{}/", message.code.expose()))
    );
    let page = browser.get(&message.url).await;
    page.expect(StatusCode::OK);
    assert_eq!(
        html::form_action(&page.body).as_deref(),
        Some(Site::link_path(&message.url).as_str())
    );
    browser
        .follow_link(&message.url)
        .await
        .expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some(CAROL));
}

/// Another `mount_path` moves every route and every link, together.
pub async fn mount_path_moves_every_route<A: Adapter>() {
    let site = Site::start::<A>(|s| s.mount_path = "/auth/".into());
    assert_eq!(site.path("login/"), "/auth/login/");
    let browser = site.browser();
    browser
        .get("/accounts/login/")
        .await
        .expect(StatusCode::NOT_FOUND);
    let page = browser.get("/auth/login/").await;
    page.expect(StatusCode::OK);
    assert_eq!(
        html::form_action(&page.body).as_deref(),
        Some("/auth/login/")
    );
    browser
        .get("/auth/login/code/")
        .await
        .expect(StatusCode::OK);
    let message = browser.ask(&site, "alice", None).await;
    let prefix = format!("{}/auth/login-code/alice/", site.base);
    assert!(message.url.starts_with(&prefix), "{}", message.url);
    let page = browser.get(&message.url).await;
    assert_eq!(html::title(&page.body).as_deref(), Some(text::LOGGING_IN));
    browser
        .follow_link(&message.url)
        .await
        .expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    let form = browser.get("/auth/logout/").await;
    form.expect(StatusCode::OK);
    assert_eq!(
        html::form_action(&form.body).as_deref(),
        Some("/auth/logout/")
    );
    let logout = browser
        .post_form("/auth/logout/", &[("csrfmiddlewaretoken", &form.csrf())])
        .await;
    logout.expect(StatusCode::FOUND);
    assert_eq!(logout.location(), "/auth/login/");
    assert_eq!(browser.whoami().await, None);
}

/// `mount_path = "/"`: the routes sit at the site root.
pub async fn mount_path_at_the_root<A: Adapter>() {
    let site = Site::start::<A>(|s| s.mount_path = "/".into());
    let browser = site.browser();
    let page = browser.get("/login/").await;
    page.expect(StatusCode::OK);
    assert_eq!(html::form_action(&page.body).as_deref(), Some("/login/"));
    let message = browser.ask(&site, "alice", None).await;
    let prefix = format!("{}/login-code/alice/", site.base);
    assert!(message.url.starts_with(&prefix), "{}", message.url);
    let page = browser.get(&message.url).await;
    assert_eq!(html::title(&page.body).as_deref(), Some(text::LOGGING_IN));
    browser
        .follow_link(&message.url)
        .await
        .expect(StatusCode::FOUND);
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
    let form = browser.get("/logout/").await;
    form.expect(StatusCode::OK);
    assert_eq!(html::form_action(&form.body).as_deref(), Some("/logout/"));
    let logout = browser
        .post_form("/logout/", &[("csrfmiddlewaretoken", &form.csrf())])
        .await;
    logout.expect(StatusCode::FOUND);
    assert_eq!(logout.location(), "/login/");
    assert_eq!(browser.whoami().await, None);
}
