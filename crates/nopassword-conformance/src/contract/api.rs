//! The JSON API: `api/login/`, `api/login/code/`, `api/logout/`. `api/login/` answers with the
//! flow too, which `api/login/code/` takes as `"flow"` (docs/HTTP.md, Login flows).

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::text;
use crate::support::{Adapter, Reply, Site};

#[track_caller]
fn assert_json(reply: &Reply, status: StatusCode, body: Value) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json")),
        "{:?}",
        reply.header("content-type")
    );
    assert_eq!(reply.json(), body);
}

/// The `"flow"` of an `api/login/` answer: 64 lower-case hex digits.
#[track_caller]
fn flow_of(reply: &Reply) -> String {
    let flow = reply.json()["flow"]
        .as_str()
        .unwrap_or_else(|| panic!("no \"flow\" in {}", reply.body))
        .to_owned();
    assert!(
        flow.len() == 64 && flow.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "flow {flow:?}"
    );
    flow
}

/// `POST api/login/` → 200 `{"detail": "Login code has been sent.", "flow": "..."}`, and
/// alice's message.
pub async fn login_sends_a_code<A: Adapter>() {
    let site = Site::standard::<A>();
    let reply = site
        .browser()
        .post_json(&site.url("api/login/"), &json!({ "username": "alice" }))
        .await;
    let flow = flow_of(&reply);
    assert_json(
        &reply,
        StatusCode::OK,
        json!({ "detail": text::CODE_SENT, "code": "code_sent", "flow": flow, "number": super::approval::number_of(&reply) }),
    );
    let message = site.new_message_for("alice", 0).await;
    assert!(
        message
            .url
            .starts_with(&format!("{}/alice/", site.url("login-code"))),
        "{}",
        message.url
    );
}

/// Unknown and inactive users get the same answer (a flow of the same shape), and no message.
pub async fn login_answers_alike_for_unknown_and_inactive_users<A: Adapter>() {
    let site = Site::standard::<A>();
    for username in ["mallory", "bob", "ALICE"] {
        let reply = site
            .browser()
            .post_json(
                &site.url("api/login/"),
                &json!({ "username": username, "next": "/x" }),
            )
            .await;
        let flow = flow_of(&reply);
        assert_json(
            &reply,
            StatusCode::OK,
            json!({ "detail": text::CODE_SENT, "code": "code_sent", "flow": flow, "number": super::approval::number_of(&reply) }),
        );
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// A missing, null or blank username → 400 `{"username": ["This field is required."]}`.
pub async fn login_requires_a_username<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for body in [
        json!({}),
        json!({ "username": null }),
        json!({ "username": "" }),
        json!({ "username": "  ", "next": "/x" }),
    ] {
        let reply = browser.post_json(&site.url("api/login/"), &body).await;
        assert_json(
            &reply,
            StatusCode::BAD_REQUEST,
            json!({ "username": [text::REQUIRED], "codes": { "username": ["required"] } }),
        );
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// `POST api/login/code/` with the flow → 200 `{"next": ...}` with the session cookie; the
/// client is logged in. The flow comes as `"flow"` (a client without a cookie jar) or as the
/// flow cookie.
pub async fn login_code_logs_in<A: Adapter>() {
    let site = Site::standard::<A>();
    for (next, expected, by_field) in [
        (Some("/after?x=1"), "/after?x=1", true),
        (None, "/", true),
        (Some("/cookie"), "/cookie", false),
    ] {
        let (asker, message, flow) = site.ask_api("alice", next).await;
        let (browser, body) = if by_field {
            // Another client: only the "flow" field ties it to the request.
            let body = json!({ "username": "alice", "code": message.code.expose(), "flow": flow });
            (site.browser(), body)
        } else {
            (
                asker,
                json!({ "username": "alice", "code": message.code.expose() }),
            )
        };
        let reply = browser.post_json(&site.url("api/login/code/"), &body).await;
        assert_json(&reply, StatusCode::OK, json!({ "next": expected }));
        assert!(reply.session_set_cookie().is_some(), "{:?}", reply.headers);
        assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
        // Used up.
        let again = site
            .browser()
            .post_json(
                &site.url("api/login/code/"),
                &json!({ "username": "alice", "code": message.code.expose(), "flow": flow }),
            )
            .await;
        assert_json(
            &again,
            StatusCode::BAD_REQUEST,
            json!({ "__all__": [text::INVALID_CODE], "codes": { "__all__": ["invalid_code"] } }),
        );
    }
}

/// Wrong code, another user's code, unknown user, a malformed flow, with and without the
/// flow → 400 `{"__all__": [...]}`, no session user.
pub async fn login_code_invalid_is_400<A: Adapter>() {
    let site = Site::standard::<A>();
    let (_, message, flow) = site.ask_api("alice", None).await;
    let code = message.code.expose();
    let wrong: String = code.chars().rev().collect();
    let browser = site.browser();
    for flow in [Some(flow.as_str()), None] {
        for mut body in [
            json!({ "username": "alice", "code": wrong }),
            json!({ "username": "bob", "code": code }),
            json!({ "username": "mallory", "code": code }),
            json!({ "username": "alice", "code": "zz" }),
        ] {
            if let Some(flow) = flow {
                body["flow"] = flow.into();
            }
            let reply = browser.post_json(&site.url("api/login/code/"), &body).await;
            assert_json(
                &reply,
                StatusCode::BAD_REQUEST,
                json!({ "__all__": [text::INVALID_CODE], "codes": { "__all__": ["invalid_code"] } }),
            );
            assert_eq!(browser.whoami().await, None);
        }
    }
    for bad_flow in ["", "zz", &"g".repeat(64), &flow[..63]] {
        let body = json!({ "username": "alice", "code": code, "flow": bad_flow });
        let reply = browser.post_json(&site.url("api/login/code/"), &body).await;
        assert_json(
            &reply,
            StatusCode::BAD_REQUEST,
            json!({ "__all__": [text::INVALID_CODE], "codes": { "__all__": ["invalid_code"] } }),
        );
    }
}

/// With `hide_username` the code (and its flow) alone logs in.
pub async fn login_code_with_hide_username_needs_only_the_code<A: Adapter>() {
    let site = Site::start::<A>(|s| s.hide_username = true);
    let (_, message, flow) = site.ask_api("alice", Some("/h")).await;
    let browser = site.browser();
    let reply = browser
        .post_json(
            &site.url("api/login/code/"),
            &json!({ "code": message.code.expose(), "flow": flow }),
        )
        .await;
    assert_json(&reply, StatusCode::OK, json!({ "next": "/h" }));
    assert_eq!(browser.whoami().await.as_deref(), Some("alice"));
}

/// Missing fields → 400 with the field errors.
pub async fn login_code_requires_fields<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for (body, errors) in [
        (
            json!({ "username": "alice" }),
            json!({ "code": [text::REQUIRED], "codes": { "code": ["required"] } }),
        ),
        (
            json!({ "code": "0123456789abcdef0123" }),
            json!({ "username": [text::REQUIRED], "codes": { "username": ["required"] } }),
        ),
        (
            json!({}),
            json!({ "username": [text::REQUIRED], "code": [text::REQUIRED], "codes": { "username": ["required"], "code": ["required"] } }),
        ),
    ] {
        let reply = browser.post_json(&site.url("api/login/code/"), &body).await;
        assert_json(&reply, StatusCode::BAD_REQUEST, errors);
    }
}

/// `POST api/logout/` → 200 `{"detail": "Successfully logged out."}`, and the session ends.
pub async fn logout_ends_the_session<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.logged_in("alice").await;
    let reply = browser
        .post_json(&site.url("api/logout/"), &json!({}))
        .await;
    assert_json(
        &reply,
        StatusCode::OK,
        json!({ "detail": text::LOGGED_OUT, "code": "logged_out" }),
    );
    assert_eq!(browser.whoami().await, None);
}

/// The API takes `application/json` only: forms and text get 415 with a JSON `detail`, and
/// nothing happens.
pub async fn wrong_content_type_is_415<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for route in ["api/login/", "api/login/code/", "api/logout/"] {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", "username=alice&code=x"),
            ("text/plain", r#"{"username": "alice", "code": "x"}"#),
            ("multipart/form-data; boundary=x", "--x--"),
        ] {
            let reply = browser.post_raw(&site.url(route), content_type, body).await;
            assert_eq!(
                reply.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{route} {content_type}: {}",
                reply.body
            );
            assert!(
                reply.json()["detail"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
            assert_eq!(
                reply.json()["code"],
                "expected_json",
                "{route}: {}",
                reply.body
            );
        }
        // No Content-Type at all.
        let request = browser
            .request(reqwest::Method::POST, &site.url(route))
            .body(r#"{"username": "alice"}"#);
        let reply = browser.send(request).await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{route}");
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// Malformed JSON, or JSON of the wrong shape: 400 with a JSON `detail` that says so.
pub async fn malformed_json_is_400<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();
    for route in ["api/login/", "api/login/code/"] {
        for body in [
            r#"{"username": "#,
            "not json",
            r#"{"username": 5}"#,
            r#""alice""#,
            // An array is not an object, even though serde would read it by position.
            r#"["alice", "/next"]"#,
            // `next` is wrong for api/login/, `code` for api/login/code/.
            r#"{"username": "alice", "next": 5, "code": {"a": 1}}"#,
        ] {
            let reply = browser
                .post_raw(&site.url(route), "application/json", body)
                .await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{route} {body}: {}",
                reply.body
            );
            let detail = reply.json()["detail"].as_str().map(str::to_owned);
            assert!(
                detail.as_ref().is_some_and(|d| d.len() > 10),
                "a clear message: {}",
                reply.body
            );
            let code = reply.json()["code"].as_str().map(str::to_owned);
            assert!(
                matches!(
                    code.as_deref(),
                    Some("bad_request" | "expected_json_object")
                ),
                "a code: {}",
                reply.body
            );
        }
    }
    assert_eq!(site.sent_settled().await, 0);
}

/// The app's routes that need a login (`CurrentUser`) answer 401 `{"detail": "Authentication
/// credentials were not provided."}` without one.
pub async fn current_user_without_login_is_401<A: Adapter>() {
    let site = Site::standard::<A>();
    let reply = site.browser().get("/whoami").await;
    assert_json(
        &reply,
        StatusCode::UNAUTHORIZED,
        json!({ "detail": text::UNAUTHENTICATED, "code": "unauthenticated" }),
    );
}
