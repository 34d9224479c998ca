//! Cross-device approval across two instances of a demo on one Redis (docs/HTTP.md,
//! Cross-device approval): the browser that asks waits on instance one, a second browser
//! profile (the phone) opens the link on instance two and picks the matching number, and the
//! first browser logs in by itself, while the second stays logged out. Then the same over
//! plain HTTP through the JSON API, on one Redis and on a Redis Cluster: the flow's approval
//! and its single completion travel between instances in the store.
//!
//! `cargo xtask test` starts chromedriver, Redis and the cluster, and exports where they
//! listen; a scenario whose variable is missing fails naming it.

use std::time::{Duration, Instant};

use nopassword_core::forms::messages;
use reqwest::{Client, StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use super::{
    Instance, Site,
    browser::{Browser, Browsers, JavaScript},
    service_env,
    two_instances::on_redis,
};

/// The most the waiting browser may take to show the logged-in home page after the
/// approval: its page polls every 1.5 s.
const LOGGED_IN_WITHIN: Duration = Duration::from_secs(3);

/// Declares the cross-device `#[test]`s against the [`Site`] `$site`: two browser profiles on
/// two instances sharing one Redis, and the JSON API across instances on one Redis and on a
/// Redis Cluster. Put it in the demo's `tests/redis.rs`.
#[macro_export]
macro_rules! cross_device_tests {
    ($site:ty) => {
        #[test]
        fn approve_on_instance_two_and_the_browser_on_instance_one_logs_in() {
            $crate::e2e::browser::run::<$site, _, _>(
                "approve_on_instance_two_and_the_browser_on_instance_one_logs_in",
                option_env!("CARGO_TARGET_TMPDIR"),
                $crate::e2e::cross_device::browsers_on_two_instances::<$site>,
            );
        }

        #[test]
        fn an_api_flow_approved_on_one_instance_completes_once_on_the_other() {
            $crate::e2e::cross_device::api_on_one_redis::<$site>();
        }

        #[test]
        fn an_api_flow_approved_on_one_instance_completes_once_on_the_other_on_a_cluster() {
            $crate::e2e::cross_device::api_on_a_redis_cluster::<$site>();
        }
    };
}

/// Profile A asks on instance one and waits; profile B opens the link on instance two, picks
/// the number A shows and sees "Login approved"; A shows the logged-in home page within 3 s
/// without a click, and B is not logged in.
pub async fn browsers_on_two_instances<S: Site>(browsers: Browsers) {
    let url = service_env("NOPASSWORD_TEST_REDIS_URL", "a Redis server");
    let settings = on_redis::<S>(url, "cross-device-browser");
    let one = S::start(settings.clone()).await;
    let two = S::start(settings).await;

    let asking = browsers.open(JavaScript::Enabled).await;
    let number = ask_and_wait(&asking, &one, "alice").await;
    let link = one.message_for("alice").await.url;
    let link_on_two = link.replacen(&one.url(""), &two.url(""), 1);
    assert_ne!(link_on_two, link, "the link does not name instance one");

    let phone = browsers.open(JavaScript::Enabled).await;
    phone.goto(&link_on_two).await;
    phone
        .wait_until("the confirmation page on instance two", || async {
            (phone.title().await == messages::CONFIRM_LOGIN).then_some(())
        })
        .await;
    let choices = phone
        .execute(
            "return Array.from(document.querySelectorAll('form#nopassword-approve button[name=number]'))\
             .map(b => b.value);",
        )
        .await;
    let choices: Vec<String> = serde_json::from_value(choices).expect("the choices' values");
    assert_eq!(choices.len(), 3, "three numbers to pick from: {choices:?}");
    assert!(
        choices.contains(&number),
        "{number} is not among {choices:?}"
    );
    phone.screenshot("cross-device-approval-page.png").await;
    let button = phone
        .wait_for(&format!(
            "form#nopassword-approve button[name=number][value=\"{number}\"]"
        ))
        .await;
    button
        .click()
        .await
        .expect("a click on the matching number");
    phone
        .wait_until("the \"Login approved\" page", || async {
            let heading = phone.text_of("h1").await?;
            (heading == messages::LOGIN_APPROVED).then_some(())
        })
        .await;
    let approved = Instant::now();

    asking
        .wait_until("the waiting browser to log in by itself", || async {
            let shown = asking.text_of("#username").await?;
            (shown == "alice").then_some(())
        })
        .await;
    let took = approved.elapsed();
    assert!(
        took <= LOGGED_IN_WITHIN,
        "the waiting browser logged in {took:.1?} after the approval (at most {LOGGED_IN_WITHIN:?})"
    );
    assert_eq!(asking.url().await, one.url("/"));
    asking.screenshot("cross-device-logged-in.png").await;

    // The approving browser is not logged in, on either instance.
    for site in [&two, &one] {
        phone.goto(&site.url("/")).await;
        assert_eq!(
            phone.text_of("#status").await.as_deref(),
            Some("Not logged in."),
            "the approving browser got a session on {}",
            site.url("/")
        );
    }
    // The link is spent.
    let status = reqwest::get(&link_on_two)
        .await
        .expect("GET the link")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Fills in the login form on `site` and waits on the "Check your inbox" page; returns the
/// matching number it shows.
async fn ask_and_wait(browser: &Browser, site: &Instance, username: &str) -> String {
    browser.goto(&site.mounted("/login/")).await;
    let field = browser.wait_for("input[name=username]").await;
    field
        .send_keys(username)
        .await
        .expect("typing the username");
    let submit = browser.wait_for("form button[type=submit]").await;
    submit.click().await.expect("a click on the login button");
    let number = browser
        .wait_until("the waiting page's matching number", || async {
            browser.text_of("#nopassword-number strong").await
        })
        .await;
    assert!(
        number.len() == 2 && number.bytes().all(|b| b.is_ascii_digit()),
        "the matching number {number:?} is not two digits"
    );
    number
}

/// The API scenario on the Redis server `cargo xtask test` started.
pub fn api_on_one_redis<S: Site>() {
    let url = service_env("NOPASSWORD_TEST_REDIS_URL", "a Redis server");
    super::block_on(api_across_instances::<S>(url, "cross-device-node"));
}

/// The API scenario on the Redis Cluster `cargo xtask test` started.
pub fn api_on_a_redis_cluster<S: Site>() {
    let urls = service_env("NOPASSWORD_TEST_REDIS_CLUSTER_URLS", "a Redis Cluster");
    super::block_on(api_across_instances::<S>(urls, "cross-device-cluster"));
}

async fn json_of(reply: reqwest::Response) -> Value {
    reply.json().await.expect("a JSON body")
}

/// A phone app asks on instance one and polls there; the link is approved on instance two;
/// the app completes on instance one, once, and a second complete on either instance fails.
async fn api_across_instances<S: Site>(redis_url: String, label: &str) {
    let settings = on_redis::<S>(redis_url, label);
    let one = S::start(settings.clone()).await;
    let two = S::start(settings).await;
    let client = Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client");

    let answer = json_of(
        client
            .post(one.mounted("/api/login/"))
            .json(&json!({ "username": "alice" }))
            .send()
            .await
            .expect("request a code on one"),
    )
    .await;
    let flow = answer["flow"].as_str().expect("a flow token").to_owned();
    let number = answer["number"].as_u64().expect("a matching number");
    let status = |site: &Instance| {
        let url = format!("{}?flow={flow}", site.mounted("/api/login/flow/"));
        let client = client.clone();
        async move {
            let reply = client.get(url).send().await.expect("poll the flow");
            assert_eq!(reply.status(), StatusCode::OK);
            json_of(reply).await["status"].clone()
        }
    };
    assert_eq!(status(&one).await, "pending");
    assert_eq!(status(&two).await, "pending");

    // The link, opened on instance two by a client without the flow, approves it.
    let link = one.message_for("alice").await.url;
    let link_on_two = link.replacen(&one.url(""), &two.url(""), 1);
    let page = client
        .get(&link_on_two)
        .send()
        .await
        .expect("GET the link on two");
    assert_eq!(page.status(), StatusCode::OK);
    let csrf_cookie: Vec<String> = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::to_owned)
        .collect();
    let html = page.text().await.expect("the confirmation page");
    let token = html
        .split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's CSRF token")
        .to_owned();
    let reply = client
        .post(&link_on_two)
        .header(header::COOKIE, csrf_cookie.join("; "))
        .form(&[
            ("csrfmiddlewaretoken", token.as_str()),
            ("number", &number.to_string()),
        ])
        .send()
        .await
        .expect("pick the number on two");
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(
        reply
            .headers()
            .get(header::SET_COOKIE)
            .is_none_or(|cookie| { !cookie.to_str().unwrap_or("").contains("session") }),
        "the approving client got a session cookie"
    );
    assert_eq!(status(&one).await, "approved");

    // The app completes on one, once; the other instance refuses a second complete.
    let complete = |site: &Instance| {
        let url = site.mounted("/api/login/flow/complete/");
        let client = client.clone();
        let flow = flow.clone();
        async move {
            client
                .post(url)
                .json(&json!({ "flow": flow }))
                .send()
                .await
                .expect("complete the flow")
        }
    };
    let reply = complete(&one).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let session: Vec<String> = reply
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(json_of(reply).await, json!({ "next": "/" }));
    for site in [&two, &one] {
        let reply = complete(site).await;
        assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(json_of(reply).await["code"], "flow_not_approved");
    }
    assert_eq!(status(&two).await, "pending", "no longer approved");
    // The session works on both instances.
    for site in [&one, &two] {
        let reply = client
            .get(site.url("/whoami"))
            .header(header::COOKIE, session.join("; "))
            .send()
            .await
            .expect("whoami");
        assert_eq!(json_of(reply).await, json!({ "username": "alice" }));
    }
}
