//! The demo site in a real browser (headless Chromium through chromedriver), driven as a
//! person would: ask for a link, take it from the outbox, follow it, end up logged in; once
//! with the page's script submitting the form, once with JavaScript off and the `<noscript>`
//! button. Run by `cargo xtask test`, which starts chromedriver; screenshots of the logged-in
//! pages land in `target/browser-test/`.

mod support;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use nopassword_core::forms::messages;
use support::{
    RunningDemo,
    webdriver::{BrowserEnv, JavaScript, Session},
};

/// The longest any page may take to show what we wait for.
const WAIT: Duration = Duration::from_secs(10);

/// Where screenshots go: `target/browser-test/`.
fn screenshot_path(name: &str) -> PathBuf {
    let target_tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    target_tmp
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .join("browser-test")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_logs_in_when_the_page_script_submits_it() {
    let env = BrowserEnv::from_env();
    let started = Instant::now();
    let site = RunningDemo::start().await;
    let browser = Session::start(&env, JavaScript::Enabled).await;

    let link = request_link(&browser, &site, "alice").await;
    browser.goto(&link).await;
    assert_logged_in_as(&browser, &site, "alice").await;
    browser
        .screenshot(&screenshot_path("logged-in-with-script.png"))
        .await;

    assert_used_link_is_gone(&browser, &link).await;
    eprintln!(
        "browser flow with JavaScript took {:.1?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_logs_in_with_the_noscript_button_when_javascript_is_off() {
    let env = BrowserEnv::from_env();
    let started = Instant::now();
    let site = RunningDemo::start().await;
    let browser = Session::start(&env, JavaScript::Disabled).await;

    let link = request_link(&browser, &site, "alice").await;
    browser.goto(&link).await;
    let button = browser.wait_for("form#nopassword-login button", WAIT).await;
    assert!(
        button.is_displayed().await,
        "the <noscript> button is not visible with JavaScript off; the browser shows {}",
        browser.describe().await
    );
    assert_eq!(button.text().await, messages::CLICK_TO_LOGIN);
    assert!(
        browser.source().await.contains("<noscript><button"),
        "the button is not the page's <noscript> button"
    );
    // Without a script nothing submits the form: the page stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        browser.url().await,
        link,
        "the page left the login link by itself with JavaScript off"
    );
    assert_eq!(browser.title().await, messages::LOGGING_IN);
    assert_eq!(
        browser.text_of("h1").await.as_deref(),
        Some(messages::LOGGING_IN)
    );
    browser
        .screenshot(&screenshot_path("noscript-button.png"))
        .await;

    button.click().await;
    assert_logged_in_as(&browser, &site, "alice").await;
    browser
        .screenshot(&screenshot_path("logged-in-without-script.png"))
        .await;

    assert_used_link_is_gone(&browser, &link).await;
    eprintln!(
        "browser flow without JavaScript took {:.1?}",
        started.elapsed()
    );
}

/// SPEC section 8 end to end: a link opened in a second browser profile (another device, or a
/// mail scanner that runs JavaScript) shows "Confirm login" naming the account, spends nothing
/// however long it stays open, and logs in that browser only when its button is clicked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_opened_in_another_browser_asks_to_confirm_and_spends_nothing_until_the_click() {
    let env = BrowserEnv::from_env();
    let site = RunningDemo::start().await;
    let asking = Session::start(&env, JavaScript::Enabled).await;
    let link = request_link(&asking, &site, "alice").await;

    let other = Session::start(&env, JavaScript::Enabled).await;
    other.goto(&link).await;
    other
        .wait_until("the confirmation page", WAIT, || async {
            (other.title().await == messages::CONFIRM_LOGIN).then_some(())
        })
        .await;
    let text = other.text_of("body").await.unwrap_or_default();
    assert!(
        text.contains("alice"),
        "the confirmation page does not name the account: {text}"
    );
    assert!(
        !other.source().await.contains("<script"),
        "the confirmation page must not carry a script"
    );
    // JavaScript is on, and still nothing submits the page: the link stays live.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        other.url().await,
        link,
        "the confirmation page left by itself"
    );
    let client = reqwest::Client::new();
    let head = client.head(&link).send().await.expect("HEAD").status();
    assert_eq!(
        head,
        reqwest::StatusCode::OK,
        "the link was spent before the click"
    );
    other
        .screenshot(&screenshot_path("confirm-login.png"))
        .await;

    let button = other.wait_for("form button[type=submit]", WAIT).await;
    assert_eq!(button.text().await, messages::LOG_IN);
    button.click().await;
    assert_logged_in_as(&other, &site, "alice").await;
    // The browser that asked is not logged in by someone else's click.
    asking.goto(&site.url("/")).await;
    assert_eq!(
        asking.text_of("#status").await.as_deref(),
        Some("Not logged in.")
    );
    assert_used_link_is_gone(&other, &link).await;
}

/// Fills in the login form for `username`, waits for the "sent" page, and returns the newest
/// login link from the demo's outbox page.
async fn request_link(browser: &Session, site: &RunningDemo, username: &str) -> String {
    browser.goto(&site.url(&site.mount("/login/"))).await;
    browser
        .wait_for("input[name=username]", WAIT)
        .await
        .send_keys(username)
        .await;
    browser
        .wait_for("form button[type=submit]", WAIT)
        .await
        .click()
        .await;
    browser
        .wait_until(
            "the \"sent\" page after submitting the login form",
            WAIT,
            || async move {
                let heading = browser.text_of("h1").await?;
                heading.contains(messages::SENT_PAGE).then_some(())
            },
        )
        .await;

    // Delivery runs in the background: let it reach the outbox before the page is read.
    let deadline = Instant::now() + WAIT;
    while site.demo.outbox.latest_for(username).is_none() {
        assert!(
            Instant::now() < deadline,
            "no message for {username} reached the outbox"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    browser.goto(&site.url("/outbox")).await;
    let newest = browser
        .wait_for("#messages li:first-child a.login-link", WAIT)
        .await;
    let link = newest
        .attribute("href")
        .await
        .expect("the outbox's login link has an href");
    assert_eq!(
        browser
            .text_of("#messages li:first-child strong")
            .await
            .as_deref(),
        Some(username),
        "the newest outbox message is for someone else"
    );
    let sent = site
        .demo
        .outbox
        .latest_for(username)
        .expect("the outbox holds a message for the user");
    assert_eq!(
        link, sent.url,
        "the outbox page shows another link than it sent"
    );
    assert!(
        link.starts_with(&site.url(&site.mount("/login-code/"))),
        "the link {link} does not point at this site's login-code route"
    );
    link
}

/// Waits for the home page to say who is logged in.
async fn assert_logged_in_as(browser: &Session, site: &RunningDemo, username: &str) {
    browser
        .wait_until(
            &format!("the home page to show {username} logged in"),
            WAIT,
            || async move {
                let shown = browser.text_of("#username").await?;
                (shown == username).then_some(())
            },
        )
        .await;
    assert_eq!(browser.url().await, site.url("/"));
    assert_eq!(
        browser.text_of("#status").await.as_deref(),
        Some(format!("Logged in as {username}.").as_str())
    );
}

/// Opens a used link again: the "not valid" page, with status 404.
async fn assert_used_link_is_gone(browser: &Session, link: &str) {
    browser.goto(link).await;
    browser
        .wait_until("the 404 page for a used link", WAIT, || async move {
            let text = browser.text_of("body").await?;
            text.contains(messages::CODE_NOT_FOUND).then_some(())
        })
        .await;
    assert_eq!(browser.title().await, "Login link not valid");
    assert!(
        browser.try_find("form#nopassword-login").await.is_none(),
        "a used link still offers the login form"
    );
    let status = reqwest::get(link)
        .await
        .expect("the demo answers a plain GET")
        .status();
    assert_eq!(
        status,
        reqwest::StatusCode::NOT_FOUND,
        "a used link is not a 404"
    );
}
