//! docs/HTTP.md, Cross-device approval: the waiting page and its matching number, the approval
//! page's three numbers, picking (right, wrong, three wrong, outside `confirm`), completing
//! from the waiting browser and the API (once, also under 64 concurrent completes), the
//! status route, and what a stranger learns (nothing). One test per rule.

use std::sync::Arc;

use nopassword_core::settings::CrossDeviceLinks;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{sync::Barrier, task::JoinSet};

use super::text;
use crate::support::{Adapter, Browser, CAROL, Reply, Site, html};

/// The `"number"` of an `api/login/` answer: a two-digit matching number.
#[track_caller]
pub(crate) fn number_of(reply: &Reply) -> u8 {
    let number = reply.json()["number"]
        .as_u64()
        .unwrap_or_else(|| panic!("no \"number\" in {}", reply.body));
    assert!((10..=99).contains(&number), "{number} has two digits");
    u8::try_from(number).expect("two digits")
}

/// The part of `body` from the element with `id` to the end of that element (`</{name}>`).
fn element_by_id<'a>(body: &'a str, id: &str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("id=\"{id}\""))?;
    let rest = &body[start..];
    let end = rest.find(&format!("</{name}>"))?;
    Some(&rest[..end])
}

/// The matching number a waiting page shows in `#nopassword-number`.
#[track_caller]
fn number_on(page: &Reply) -> u8 {
    let shown = element_by_id(&page.body, "nopassword-number", "p")
        .unwrap_or_else(|| panic!("no #nopassword-number: {}", page.body));
    let digits: Vec<&str> = shown
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect();
    assert_eq!(digits.len(), 1, "one number in {shown:?}");
    assert_eq!(digits[0].len(), 2, "a two-digit number in {shown:?}");
    digits[0].parse().expect("a number")
}

/// The numbers `#nopassword-approve` offers (its `number` buttons), or `None` without it.
fn choices(page: &Reply) -> Option<Vec<u8>> {
    let form = element_by_id(&page.body, "nopassword-approve", "form")?;
    Some(
        html::tags(form, "button")
            .into_iter()
            .filter(|button| button.attr("name") == Some("number"))
            .map(|button| {
                button
                    .attr("value")
                    .and_then(|value| value.parse().ok())
                    .unwrap_or_else(|| panic!("a numeric button: {button:?}"))
            })
            .collect(),
    )
}

/// A number in 10..=99 that is not `right`.
fn wrong(right: u8) -> u8 {
    if right == 10 { 11 } else { 10 }
}

/// Asks for a code for `username` through the `login/` form from `browser`: the waiting page
/// (checked: 200, the flow cookie) and, for a known user, the message.
async fn ask_waiting(site: &Site, browser: &Browser, username: &str, next: Option<&str>) -> Reply {
    let token = browser.csrf(&site.path("login/")).await;
    let mut fields = vec![
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", username),
    ];
    if let Some(next) = next {
        fields.push(("next", next));
    }
    let page = browser.post_form(&site.path("login/"), &fields).await;
    page.expect(StatusCode::OK);
    assert!(browser.flow().is_some(), "the flow cookie is set");
    page
}

/// Asks for a code for `username` over the API from a fresh client: the client (holding the
/// flow cookie), the link, the answer's `"flow"` and `"number"`.
async fn ask_api(site: &Site, username: &str, next: Option<&str>) -> (Browser, String, String, u8) {
    let before = site.sent();
    let mut body = json!({ "username": username });
    if let Some(next) = next {
        body["next"] = next.into();
    }
    let client = site.browser();
    let reply = client.post_json(&site.url("api/login/"), &body).await;
    reply.expect(StatusCode::OK);
    let flow = reply.json()["flow"].as_str().expect("a flow").to_owned();
    let number = number_of(&reply);
    let link = site.local(&site.new_message_for(username, before).await.url);
    (client, link, flow, number)
}

/// Picks `number` on `link`'s approval page from `browser` (its CSRF token, then the POST).
async fn pick(site: &Site, browser: &Browser, link: &str, number: u8) -> Reply {
    let token = browser.csrf(&site.path("login/")).await;
    browser
        .post_form(
            link,
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("number", &number.to_string()),
            ],
        )
        .await
}

/// `GET api/login/flow/` from `client` (its cookie), with `?flow=` when given: the status,
/// after checking the answer's shape.
async fn status(site: &Site, client: &Browser, flow: Option<&str>) -> String {
    let url = match flow {
        Some(flow) => format!("{}?flow={flow}", site.url("api/login/flow/")),
        None => site.url("api/login/flow/"),
    };
    let reply = client.get(&url).await;
    reply.expect(StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        reply.headers
    );
    let body = reply.json();
    assert_eq!(
        body.as_object().map(serde_json::Map::len),
        Some(1),
        "{body}"
    );
    body["status"].as_str().expect("a status").to_owned()
}

/// `POST login/flow/complete/` from `browser` with a valid CSRF pair.
async fn complete(site: &Site, browser: &Browser) -> Reply {
    let token = browser.csrf(&site.path("login/")).await;
    browser
        .post_form(
            &site.path("login/flow/complete/"),
            &[("csrfmiddlewaretoken", &token)],
        )
        .await
}

/// `POST api/login/flow/complete/` with `body` from `client`.
async fn api_complete(site: &Site, client: &Browser, body: &Value) -> Reply {
    client
        .post_json(&site.url("api/login/flow/complete/"), body)
        .await
}

/// The API's 401 for a flow that does not complete.
#[track_caller]
fn assert_not_approved(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        json!({ "detail": text::FLOW_NOT_APPROVED, "code": "flow_not_approved" }),
        "{what}"
    );
    assert!(reply.session_set_cookie().is_none(), "{what}: no session");
}

/// The waiting page again after an early "Continue": 200, the notice, the same number, the
/// form.
#[track_caller]
fn assert_waiting_again(reply: &Reply, number: u8, what: &str) {
    reply.expect(StatusCode::OK);
    let text = html::unescape(&reply.body);
    assert!(
        text.contains(text::FLOW_NOT_APPROVED),
        "{what}: {}",
        reply.body
    );
    assert_eq!(number_on(reply), number, "{what}");
    assert!(
        element_by_id(&reply.body, "nopassword-complete", "form").is_some(),
        "{what}: {}",
        reply.body
    );
    assert!(reply.session_set_cookie().is_none(), "{what}: no session");
}

/// The 404 page of an unknown link.
#[track_caller]
fn assert_not_found_page(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "{what}: {}",
        reply.body
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{what}: {:?}",
        reply.headers
    );
}

/// The "sent" page waits: a two-digit number in `#nopassword-number`, and a form
/// `#nopassword-complete` that POSTs the CSRF token to `login/flow/complete/`, with a
/// "Continue" button and the status route in `data-status`; the CSRF cookie is set for it.
/// Unknown users' pages have a number too.
pub async fn the_waiting_page_shows_the_number_and_a_continue_form<A: Adapter>() {
    let site = Site::standard::<A>();
    for username in ["alice", "mallory"] {
        let browser = site.browser();
        let page = ask_waiting(&site, &browser, username, None).await;
        assert!(page.body.contains(text::SENT), "{}", page.body);
        number_on(&page);
        let form = html::tags(&page.body, "form")
            .into_iter()
            .find(|form| form.attr("id") == Some("nopassword-complete"))
            .unwrap_or_else(|| panic!("no #nopassword-complete: {}", page.body));
        assert!(
            form.attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"))
        );
        assert_eq!(
            form.attr("action"),
            Some(site.path("login/flow/complete/").as_str())
        );
        assert_eq!(
            form.attr("data-status"),
            Some(site.path("api/login/flow/").as_str())
        );
        let inside = element_by_id(&page.body, "nopassword-complete", "form").expect("the form");
        assert!(html::csrf_token(inside).is_some(), "{inside}");
        let button = html::element(inside, "button").expect("a button");
        assert_eq!(html::unescape(button.trim()), text::CONTINUE);

        // The page's own token posts the form (here before any approval: the page again).
        let token = html::csrf_token(inside).expect("a token");
        let early = browser
            .post_form(
                form.attr("action").expect("an action"),
                &[("csrfmiddlewaretoken", token.as_str())],
            )
            .await;
        assert_waiting_again(&early, number_on(&page), username);
    }
    site.new_message_for("alice", 0).await;
}

/// `api/login/` answers the flow's `"number"`; it is one of the three the approval page of the
/// flow's link offers, and the one the waiting page of a form flow shows is too.
pub async fn the_api_answers_the_number_the_approval_page_offers<A: Adapter>() {
    let site = Site::standard::<A>();
    let client = site.browser();
    let reply = client
        .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
        .await;
    reply.expect(StatusCode::OK);
    let number = number_of(&reply);
    let message = site.new_message_for("alice", 0).await;
    let page = site.browser().get(&site.local(&message.url)).await;
    page.expect(StatusCode::OK);
    let offered = choices(&page).unwrap_or_else(|| panic!("no #nopassword-approve: {}", page.body));
    assert!(offered.contains(&number), "{number} in {offered:?}");

    let asker = site.browser();
    let waiting = ask_waiting(&site, &asker, "alice", None).await;
    let shown = number_on(&waiting);
    let message = site.new_message_for("alice", 1).await;
    let page = site.browser().get(&site.local(&message.url)).await;
    let offered = choices(&page).expect("the approval form");
    assert!(offered.contains(&shown), "{shown} in {offered:?}");
}

/// The "Confirm login" page another browser sees offers `#nopassword-approve` with exactly
/// three distinct two-digit numbers, the flow's among them; the same three at every view, to
/// anyone; and no script.
pub async fn the_approval_page_offers_three_numbers_and_no_script<A: Adapter>() {
    let site = Site::standard::<A>();
    let (_, message, _) = site.ask_api("alice", None).await;
    let reply = site
        .browser()
        .post_json(&site.url("api/login/"), &json!({ "username": CAROL }))
        .await;
    let carols = number_of(&reply);
    let carols_link = site.local(&site.new_message_for(CAROL, 1).await.url);
    let link = site.local(&message.url);
    let viewer = site.browser();
    let first = viewer.get(&link).await;
    first.expect(StatusCode::OK);
    assert_eq!(
        html::title(&first.body).as_deref(),
        Some(text::CONFIRM_LOGIN)
    );
    let offered =
        choices(&first).unwrap_or_else(|| panic!("no #nopassword-approve: {}", first.body));
    assert_eq!(offered.len(), 3, "{offered:?}");
    let mut distinct = offered.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{offered:?}");
    assert!(offered.iter().all(|n| (10..=99).contains(n)), "{offered:?}");
    let lower = first.body.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "no script: {}", first.body);
    let form = element_by_id(&first.body, "nopassword-approve", "form").expect("the form");
    assert!(html::csrf_token(form).is_some(), "{form}");
    for browser in [&viewer, &site.browser()] {
        let again = browser.get(&link).await;
        assert_eq!(choices(&again).as_ref(), Some(&offered), "the same three");
    }
    let page = site.browser().get(&carols_link).await;
    assert!(choices(&page).expect("carol's form").contains(&carols));
}

/// The right pick answers 200 "Login approved"; the picking browser gets no session; the link
/// is spent (404); the flow's status goes from `pending` to `approved`.
pub async fn the_right_pick_approves_without_logging_the_picker_in<A: Adapter>() {
    let site = Site::standard::<A>();
    let asker = site.browser();
    let waiting = ask_waiting(&site, &asker, "alice", None).await;
    let number = number_on(&waiting);
    let flow = asker.flow().expect("the flow cookie");
    let link = site.local(&site.new_message_for("alice", 0).await.url);
    assert_eq!(status(&site, &asker, None).await, "pending");
    assert_eq!(status(&site, &site.browser(), Some(&flow)).await, "pending");

    let picker = site.browser();
    let sessions = site.sessions();
    let approved = pick(&site, &picker, &link, number).await;
    approved.expect(StatusCode::OK);
    assert_eq!(
        html::title(&approved.body).as_deref(),
        Some(text::LOGIN_APPROVED),
        "{}",
        approved.body
    );
    assert!(!approved.body.to_ascii_lowercase().contains("<form"));
    assert!(approved.session_set_cookie().is_none(), "no session");
    assert_eq!(picker.session_id(), None);
    assert_eq!(picker.whoami().await, None, "the picker is not logged in");
    assert_eq!(site.sessions(), sessions, "no session stored");
    assert_eq!(
        asker.whoami().await,
        None,
        "the asker logs in only by completing"
    );

    assert_not_found_page(&picker.get(&link).await, "the link after approval");
    assert_not_found_page(&asker.get(&link).await, "the link, for the asker too");
    assert_not_found_page(&pick(&site, &picker, &link, number).await, "a second pick");
    assert_eq!(status(&site, &asker, None).await, "approved");
    assert_eq!(
        status(&site, &site.browser(), Some(&flow)).await,
        "approved"
    );
}

/// After the approval the waiting browser's "Continue" logs it in: 302 to the stored `next`,
/// a new session; the second "Continue" logs nobody in (the same browser gets the waiting page
/// back, a copy of its flow cookie in another browser gets no session).
pub async fn the_waiting_browser_completes_once<A: Adapter>() {
    let site = Site::standard::<A>();
    let asker = site.browser();
    let waiting = ask_waiting(&site, &asker, "alice", Some("/after")).await;
    let number = number_on(&waiting);
    let flow = asker.flow().expect("the flow cookie");
    let link = site.local(&site.new_message_for("alice", 0).await.url);
    pick(&site, &site.browser(), &link, number)
        .await
        .expect(StatusCode::OK);

    let done = complete(&site, &asker).await;
    done.expect(StatusCode::FOUND);
    assert_eq!(done.location(), "/after");
    assert!(done.session_set_cookie().is_some(), "{:?}", done.headers);
    assert_eq!(asker.whoami().await.as_deref(), Some("alice"));
    assert_eq!(status(&site, &asker, None).await, "expired");

    let copy = site.browser();
    copy.plant_cookie(crate::support::FLOW_COOKIE, &flow);
    let again = complete(&site, &copy).await;
    assert_waiting_again(&again, number, "a copy of the flow cookie");
    assert_eq!(copy.whoami().await, None);
    let again = complete(&site, &asker).await;
    assert_waiting_again(&again, number, "the second Continue");
}

/// `POST api/login/flow/complete/`: 401 `flow_not_approved` before the approval; after it,
/// 200 `{"next"}` with a session for the first complete (the body's `"flow"`, else the
/// cookie), 401 for the next.
pub async fn the_api_completes_once<A: Adapter>() {
    let site = Site::standard::<A>();
    for by_cookie in [false, true] {
        let (asker, link, flow, number) = ask_api(&site, "alice", Some("/api-next")).await;
        // Without the cookie, the body's "flow" names it.
        let client = if by_cookie { asker } else { site.browser() };
        let body = if by_cookie {
            json!({})
        } else {
            json!({ "flow": flow })
        };
        assert_not_approved(&api_complete(&site, &client, &body).await, "pending");
        assert_eq!(client.whoami().await, None);
        pick(&site, &site.browser(), &link, number)
            .await
            .expect(StatusCode::OK);
        let done = api_complete(&site, &client, &body).await;
        done.expect(StatusCode::OK);
        assert_eq!(done.json(), json!({ "next": "/api-next" }));
        assert!(done.session_set_cookie().is_some(), "{:?}", done.headers);
        assert_eq!(client.whoami().await.as_deref(), Some("alice"));
        assert_not_approved(&api_complete(&site, &client, &body).await, "completed");
        let other = site.browser();
        assert_not_approved(
            &api_complete(&site, &other, &json!({ "flow": flow })).await,
            "completed, from another client",
        );
        assert_eq!(other.whoami().await, None);
    }
}

/// A wrong pick answers 400 "Login not approved" with its message, logs nobody in, and turns
/// approval off for the code: the page then offers only "Log in on this device" (which still
/// works), and a later right pick is refused too (the code is withdrawn).
pub async fn a_wrong_pick_is_400_and_turns_approval_off<A: Adapter>() {
    let site = Site::standard::<A>();
    for then_right in [true, false] {
        let (asker, link, _, number) = ask_api(&site, "alice", Some("/here")).await;
        let picker = site.browser();
        let refused = pick(&site, &picker, &link, wrong(number)).await;
        refused.expect(StatusCode::BAD_REQUEST);
        assert_eq!(
            html::title(&refused.body).as_deref(),
            Some(text::NOT_APPROVED),
            "{}",
            refused.body
        );
        assert!(
            html::unescape(&refused.body).contains(text::WRONG_NUMBER),
            "{}",
            refused.body
        );
        assert!(refused.session_set_cookie().is_none());
        assert_eq!(picker.whoami().await, None);
        assert_eq!(status(&site, &asker, None).await, "pending");

        let page = picker.get(&link).await;
        page.expect(StatusCode::OK);
        assert_eq!(choices(&page), None, "no approval form: {}", page.body);
        assert!(
            html::unescape(&page.body).contains(text::NO_MORE_APPROVAL),
            "{}",
            page.body
        );
        if then_right {
            let late = pick(&site, &picker, &link, number).await;
            late.expect(StatusCode::BAD_REQUEST);
            assert_eq!(status(&site, &asker, None).await, "expired");
            assert_not_found_page(&picker.get(&link).await, "withdrawn");
            assert_not_approved(&api_complete(&site, &asker, &json!({})).await, "withdrawn");
            assert_eq!(picker.whoami().await, None);
        } else {
            let login = picker.follow_link(&link).await;
            login.expect(StatusCode::FOUND);
            assert_eq!(login.location(), "/here");
            assert_eq!(picker.whoami().await.as_deref(), Some("alice"));
        }
        assert_eq!(asker.whoami().await, None);
    }
}

/// Three wrong picks (POSTs of wrong numbers, the form gone or not) withdraw the code: the
/// flow reads `expired`, its holder can neither complete nor type the code, the link is 404.
pub async fn three_wrong_picks_withdraw_the_code<A: Adapter>() {
    let site = Site::standard::<A>();
    let asker = site.browser();
    let waiting = ask_waiting(&site, &asker, "alice", None).await;
    let number = number_on(&waiting);
    let message = site.new_message_for("alice", 0).await;
    let link = site.local(&message.url);
    let picker = site.browser();
    let mut guesses = (10..=99).filter(|n| *n != number);
    for _ in 0..3 {
        let guess = guesses.next().expect("a wrong number");
        pick(&site, &picker, &link, guess)
            .await
            .expect(StatusCode::BAD_REQUEST);
    }
    assert_eq!(status(&site, &asker, None).await, "expired");
    assert_not_found_page(&pick(&site, &picker, &link, number).await, "a fourth pick");
    assert_not_found_page(&picker.get(&link).await, "the link");
    assert_waiting_again(&complete(&site, &asker).await, number, "Continue");
    assert_not_approved(&api_complete(&site, &asker, &json!({})).await, "API");
    let token = asker.csrf(&site.path("login/code/")).await;
    let typed = asker
        .post_form(
            &site.path("login/code/"),
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "alice"),
                ("code", message.code.expose()),
            ],
        )
        .await;
    typed.expect(StatusCode::OK);
    assert!(typed.body.contains(text::INVALID_CODE), "{}", typed.body);
    assert_eq!(asker.whoami().await, None);
    assert_eq!(picker.whoami().await, None);
}

/// A stranger learns nothing from the status route and completes nothing: no flow, a
/// malformed one, a random 64-hex one, an unknown user's, and a token of the stranger's own
/// flow id spliced with another flow's code key all read exactly `{"status": "expired"}`,
/// also while the real flow is pending and once it is approved, and none completes.
pub async fn strangers_learn_nothing_and_complete_nothing<A: Adapter>() {
    let site = Site::standard::<A>();
    let (asker, link, flow, number) = ask_api(&site, "alice", None).await;
    let (stranger, _, strangers_flow, _) = ask_api(&site, CAROL, None).await;
    let unknown = site
        .browser()
        .post_json(&site.url("api/login/"), &json!({ "username": "mallory" }))
        .await;
    let unknowns_flow = unknown.json()["flow"].as_str().expect("a flow").to_owned();
    let spliced = format!("{}{}", &strangers_flow[..32], &flow[32..]);
    assert_eq!(spliced.len(), flow.len());
    let random = "5a".repeat(32);
    let forged = [
        "",
        "zz",
        random.as_str(),
        unknowns_flow.as_str(),
        spliced.as_str(),
    ];
    let expected = |what: &str, reply: &Reply| {
        reply.expect(StatusCode::OK);
        assert_eq!(reply.json(), json!({ "status": "expired" }), "{what}");
    };
    for approved in [false, true] {
        if approved {
            pick(&site, &site.browser(), &link, number)
                .await
                .expect(StatusCode::OK);
        }
        let fresh = site.browser();
        expected("no flow", &fresh.get(&site.url("api/login/flow/")).await);
        for token in forged {
            let url = format!("{}?flow={token}", site.url("api/login/flow/"));
            expected(token, &fresh.get(&url).await);
            let holder = site.browser();
            if !token.is_empty() {
                holder.plant_cookie(crate::support::FLOW_COOKIE, token);
            }
            expected(token, &holder.get(&site.url("api/login/flow/")).await);
            assert_not_approved(
                &api_complete(&site, &fresh, &json!({ "flow": token })).await,
                token,
            );
            assert_not_approved(&api_complete(&site, &holder, &json!({})).await, token);
            let page = complete(&site, &holder).await;
            assert_ne!(page.status, StatusCode::FOUND, "{token}: {}", page.body);
            assert_eq!(holder.whoami().await, None, "{token}");
        }
        assert_eq!(
            status(&site, &stranger, None).await,
            "pending",
            "the stranger's own flow"
        );
        assert_eq!(stranger.whoami().await, None);
    }
    assert_eq!(status(&site, &asker, None).await, "approved");
    api_complete(&site, &asker, &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(asker.whoami().await.as_deref(), Some("alice"));
}

/// Under `cross_device_links = "deny"` and `"allow"` a pick (a link POST with `number`) is
/// 403 and spends nothing: the flow stays pending and its own browser still logs in with the
/// link.
pub async fn picks_are_403_and_spend_nothing_outside_confirm<A: Adapter>() {
    for mode in [CrossDeviceLinks::Deny, CrossDeviceLinks::Allow] {
        let site = Site::start::<A>(|s| s.cross_device_links = mode);
        let asker = site.browser();
        let waiting = ask_waiting(&site, &asker, "alice", None).await;
        let number = number_on(&waiting);
        let link = site.local(&site.new_message_for("alice", 0).await.url);
        let other = site.browser();
        for guess in [number, wrong(number), number] {
            let reply = pick(&site, &other, &link, guess).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{mode:?}: {}",
                reply.body
            );
            assert!(
                html::unescape(&reply.body).contains(text::OTHER_BROWSER),
                "{mode:?}: {}",
                reply.body
            );
        }
        assert_eq!(other.whoami().await, None, "{mode:?}");
        assert_eq!(status(&site, &asker, None).await, "pending", "{mode:?}");
        assert_waiting_again(&complete(&site, &asker).await, number, "not approved");
        asker.follow_link(&link).await.expect(StatusCode::FOUND);
        assert_eq!(asker.whoami().await.as_deref(), Some("alice"), "{mode:?}");
    }
}

/// "Continue" before the approval: 200, the waiting page again with "This login has not been
/// approved yet." and the same number; without a flow cookie (or with one that is not a flow)
/// the 404 page; without the CSRF pair 403.
pub async fn an_early_continue_shows_the_waiting_page_again<A: Adapter>() {
    let site = Site::standard::<A>();
    let asker = site.browser();
    let waiting = ask_waiting(&site, &asker, "alice", None).await;
    let number = number_on(&waiting);
    site.new_message_for("alice", 0).await;
    for _ in 0..2 {
        assert_waiting_again(&complete(&site, &asker).await, number, "early");
    }
    assert_eq!(asker.whoami().await, None);
    assert_eq!(status(&site, &asker, None).await, "pending");

    let without = site.browser();
    assert_not_found_page(&complete(&site, &without).await, "no flow cookie");
    let malformed = site.browser();
    malformed.plant_cookie(crate::support::FLOW_COOKIE, "not-a-flow");
    assert_not_found_page(&complete(&site, &malformed).await, "a malformed flow");
    let forged = asker
        .post_form(
            &site.path("login/flow/complete/"),
            &[("csrfmiddlewaretoken", "0123.4567")],
        )
        .await;
    forged.expect(StatusCode::FORBIDDEN);
}

/// 64 clients complete one approved flow at once over the API: exactly one is logged in
/// (200), the others get 401.
pub async fn one_of_64_concurrent_api_completes_logs_in<A: Adapter>() {
    const RACERS: usize = 64;
    let site = Site::standard::<A>();
    let (_, link, flow, number) = ask_api(&site, "alice", Some("/once")).await;
    pick(&site, &site.browser(), &link, number)
        .await
        .expect(StatusCode::OK);
    let start = Arc::new(Barrier::new(RACERS));
    let mut tasks = JoinSet::new();
    for _ in 0..RACERS {
        let client = site.browser();
        let (url, flow, start) = (
            site.url("api/login/flow/complete/"),
            flow.clone(),
            Arc::clone(&start),
        );
        tasks.spawn(async move {
            start.wait().await;
            let reply = client.post_json(&url, &json!({ "flow": flow })).await;
            (reply, client)
        });
    }
    let mut winners = Vec::new();
    let mut losers = 0;
    while let Some(joined) = tasks.join_next().await {
        let (reply, client) = joined.expect("task");
        match reply.status {
            StatusCode::OK => {
                assert_eq!(reply.json(), json!({ "next": "/once" }));
                winners.push(client);
            }
            StatusCode::UNAUTHORIZED => {
                assert_not_approved(&reply, "a racer");
                losers += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one login");
    assert_eq!(losers, RACERS - 1);
    assert_eq!(winners[0].whoami().await.as_deref(), Some("alice"));
}

/// In Spanish (`Accept-Language: es`): the approval page's choice, the page after the right
/// pick, and the waiting page after an early "Continue".
pub async fn the_approval_pages_speak_spanish<A: Adapter>() {
    const CONFIRM_LOGIN: &str = "Confirmar inicio de sesión";
    const CONFIRM_THERE: &str = "Iniciar sesión en el dispositivo donde lo pediste";
    const LOGIN_APPROVED: &str = "Inicio de sesión aprobado";
    const NOT_APPROVED: &str = "Inicio de sesión no aprobado";
    const FLOW_NOT_APPROVED: &str = "Este inicio de sesión aún no se ha aprobado.";
    let site = Site::standard::<A>();
    let asker = site.browser_in("es");
    let waiting = ask_waiting(&site, &asker, "alice", None).await;
    let number = number_on(&waiting);
    let link = site.local(&site.new_message_for("alice", 0).await.url);
    let early = complete(&site, &asker).await;
    early.expect(StatusCode::OK);
    assert!(
        html::unescape(&early.body).contains(FLOW_NOT_APPROVED),
        "{}",
        early.body
    );
    let phone = site.browser_in("es");
    let page = phone.get(&link).await;
    page.expect(StatusCode::OK);
    assert_eq!(html::title(&page.body).as_deref(), Some(CONFIRM_LOGIN));
    assert!(
        html::unescape(&page.body).contains(CONFIRM_THERE),
        "{}",
        page.body
    );
    assert_eq!(page.header("content-language"), Some("es"));
    let approved = pick(&site, &phone, &link, number).await;
    approved.expect(StatusCode::OK);
    assert_eq!(html::title(&approved.body).as_deref(), Some(LOGIN_APPROVED));
    let (_, link, _, number) = ask_api(&site, "alice", None).await;
    let refused = pick(&site, &phone, &link, wrong(number)).await;
    refused.expect(StatusCode::BAD_REQUEST);
    assert_eq!(html::title(&refused.body).as_deref(), Some(NOT_APPROVED));
    let reply = phone
        .post_json(&site.url("api/login/flow/complete/"), &json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json(),
        json!({ "detail": FLOW_NOT_APPROVED, "code": "flow_not_approved" })
    );
}
