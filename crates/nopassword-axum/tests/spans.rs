//! Every handler runs in a span named as nopassword-actix names it; a login records the user's
//! id, and no span field ever holds a code or a flow token.
//!
//! The subscriber is this test's own (`with_default`) and the runtime is current-thread, so
//! every span of the requests lands here and no other test's can.

mod support;

use std::sync::{Arc, Mutex, PoisonError};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use nopassword_axum::{MemorySessionStore, login_layer, router};
use serde_json::{Value, json};
use tracing::{
    Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};
use tracing_subscriber::{Registry, layer::Context, prelude::*, registry::LookupSpan};

/// A span as the test saw it: its name and every field recorded, as text.
#[derive(Debug, Clone, Default)]
struct Seen {
    name: String,
    fields: Vec<(String, String)>,
}

/// Keeps every span of the test.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<(Id, Seen)>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut seen = Seen {
            name: attrs.metadata().name().to_owned(),
            fields: Vec::new(),
        };
        attrs.record(&mut Fields(&mut seen.fields));
        let mut spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        spans.push((id.clone(), seen));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, seen)) = spans.iter_mut().rev().find(|(known, _)| known == id) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }
}

impl Spans {
    fn named(&self, name: &str) -> Vec<Seen> {
        let spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        spans
            .iter()
            .filter(|(_, seen)| seen.name == name)
            .map(|(_, seen)| seen.clone())
            .collect()
    }

    fn all(&self) -> Vec<Seen> {
        let spans = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        spans.iter().map(|(_, seen)| seen.clone()).collect()
    }
}

#[test]
fn an_api_login_runs_in_named_spans_that_hold_no_secret() {
    let spans = Spans::default();
    let subscriber = Registry::default().with(spans.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (code, flow) = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (service, outbox) = support::service();
            let app: Router = router(service.clone())
                .expect("templates parse")
                .layer(login_layer(&service, MemorySessionStore::default()));
            let asked = support::send(
                &app,
                support::post_json("/accounts/api/login/", &json!({ "username": "alice" }), &[]),
            )
            .await;
            assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
            let flow = serde_json::from_str::<Value>(&asked.body).expect("JSON")["flow"]
                .as_str()
                .expect("a flow")
                .to_owned();
            let code = outbox
                .latest_for("alice")
                .expect("delivered inline")
                .code
                .expose()
                .to_owned();
            let body = json!({ "username": "alice", "code": code, "flow": flow });
            let logged_in = support::send(
                &app,
                support::post_json("/accounts/api/login/code/", &body, &[]),
            )
            .await;
            assert_eq!(logged_in.status, StatusCode::OK, "{}", logged_in.body);
            (code, flow)
        })
    });

    assert_eq!(spans.named("nopassword.api.login").len(), 1);
    let login = spans.named("nopassword.api.login_code");
    assert_eq!(login.len(), 1, "{:?}", spans.all());
    assert!(
        login[0]
            .fields
            .contains(&("user.id".to_owned(), "1".to_owned())),
        "{:?}",
        login[0]
    );
    for seen in spans.all() {
        for (name, value) in &seen.fields {
            assert!(
                !value.contains(&code) && !value.contains(&flow),
                "span {} field {name} holds a secret",
                seen.name
            );
        }
    }
}

/// A login approved from another device: the pick runs in `nopassword.link` and records no
/// user (it logs nobody in), the completion in `nopassword.api.flow_complete` records the
/// user's id, and no span field holds the code, the link or the flow.
#[test]
fn an_approved_flow_completes_in_named_spans_that_hold_no_secret() {
    let spans = Spans::default();
    let subscriber = Registry::default().with(spans.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (code, flow) = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (service, outbox) = support::service();
            let app: Router = router(service.clone())
                .expect("templates parse")
                .layer(login_layer(&service, MemorySessionStore::default()));
            let asked = support::send(
                &app,
                support::post_json("/accounts/api/login/", &json!({ "username": "alice" }), &[]),
            )
            .await;
            assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
            let asked: Value = serde_json::from_str(&asked.body).expect("JSON");
            let flow = asked["flow"].as_str().expect("a flow").to_owned();
            let number = asked["number"].as_u64().expect("a number");
            let message = outbox.latest_for("alice").expect("delivered inline");
            let path = message
                .url
                .split_once("/accounts/")
                .map(|(_, rest)| format!("/accounts/{rest}"))
                .expect("a link path");
            let csrf = service.new_csrf_token();
            let pick = Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("nopassword_csrf={csrf}"))
                .body(Body::from(format!(
                    "csrfmiddlewaretoken={csrf}&number={number}"
                )))
                .expect("a request");
            let picked = support::send(&app, pick).await;
            assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
            let done = support::send(
                &app,
                support::post_json(
                    "/accounts/api/login/flow/complete/",
                    &json!({ "flow": flow }),
                    &[],
                ),
            )
            .await;
            assert_eq!(done.status, StatusCode::OK, "{}", done.body);
            (message.code.expose().to_owned(), flow)
        })
    });

    let link = spans.named("nopassword.link");
    assert_eq!(link.len(), 1, "{:?}", spans.all());
    assert!(
        !link[0].fields.iter().any(|(name, _)| name == "user.id"),
        "the pick logs nobody in: {:?}",
        link[0]
    );
    let complete = spans.named("nopassword.api.flow_complete");
    assert_eq!(complete.len(), 1, "{:?}", spans.all());
    assert!(
        complete[0]
            .fields
            .contains(&("user.id".to_owned(), "1".to_owned())),
        "{:?}",
        complete[0]
    );
    for seen in spans.all() {
        for (name, value) in &seen.fields {
            assert!(
                !value.contains(&code) && !value.contains(&flow),
                "span {} field {name} holds a secret",
                seen.name
            );
        }
    }
}

/// A request of `method` with a urlencoded or JSON body (what the handler's extractor takes).
fn request(method: Method, uri: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request
        .body(Body::from(body.to_owned()))
        .expect("a request")
}

#[test]
fn every_route_runs_in_its_span() {
    let spans = Spans::default();
    let subscriber = Registry::default().with(spans.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let form = Some("application/x-www-form-urlencoded");
    let json = Some("application/json");
    let link = "/accounts/login-code/alice/not-a-code/";
    let requests = [
        (
            Method::GET,
            "/accounts/login/",
            None,
            "",
            "nopassword.login_form",
        ),
        (
            Method::POST,
            "/accounts/login/",
            form,
            "username=alice",
            "nopassword.login",
        ),
        (Method::GET, link, None, "", "nopassword.link"),
        (Method::HEAD, link, None, "", "nopassword.link"),
        (Method::POST, link, form, "x=1", "nopassword.link"),
        (
            Method::GET,
            "/accounts/login/code/",
            None,
            "",
            "nopassword.code_form",
        ),
        (
            Method::POST,
            "/accounts/login/code/",
            form,
            "code=1",
            "nopassword.code",
        ),
        (
            Method::GET,
            "/accounts/logout/",
            None,
            "",
            "nopassword.logout",
        ),
        (
            Method::HEAD,
            "/accounts/logout/",
            None,
            "",
            "nopassword.logout",
        ),
        (
            Method::POST,
            "/accounts/logout/",
            form,
            "x=1",
            "nopassword.logout",
        ),
        (
            Method::POST,
            "/accounts/api/login/",
            json,
            "{}",
            "nopassword.api.login",
        ),
        (
            Method::POST,
            "/accounts/api/login/code/",
            json,
            "{}",
            "nopassword.api.login_code",
        ),
        (
            Method::POST,
            "/accounts/api/logout/",
            json,
            "{}",
            "nopassword.api.logout",
        ),
        (Method::POST, link, form, "number=42", "nopassword.link"),
        (
            Method::POST,
            "/accounts/login/flow/complete/",
            form,
            "x=1",
            "nopassword.flow_complete",
        ),
        (
            Method::GET,
            "/accounts/api/login/flow/",
            None,
            "",
            "nopassword.api.flow",
        ),
        (
            Method::POST,
            "/accounts/api/login/flow/complete/",
            json,
            "{}",
            "nopassword.api.flow_complete",
        ),
    ];
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let (service, _) = support::service();
            let app: Router = router(service.clone())
                .expect("templates parse")
                .layer(login_layer(&service, MemorySessionStore::default()));
            for (method, uri, content_type, body, name) in &requests {
                let before = spans.named(name).len();
                let answer =
                    support::send(&app, request(method.clone(), uri, *content_type, body)).await;
                assert!(
                    !answer.status.is_server_error(),
                    "{method} {uri}: {}",
                    answer.status
                );
                assert_eq!(
                    spans.named(name).len(),
                    before + 1,
                    "{method} {uri} in {name}"
                );
            }
        });
    });
}
