//! What a misconfigured app hears: a page template with a typo stops `router()` at start-up,
//! and serving without client addresses (no `into_make_service_with_connect_info`) logs one
//! warning at the first request, since the per-address rate limit is then off.
//!
//! Its own test binary: the warning is given once per process, so no other test may make
//! requests here.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header::CONTENT_TYPE},
};
use nopassword_axum::{MemorySessionStore, login_layer, router};
use nopassword_core::{
    NoPassword, Outbox, Settings,
    user::{MemoryDirectory, User},
};
use tower::ServiceExt;

/// A subscriber that keeps the message of every `WARN` event, for this test only
/// (`tracing::subscriber::with_default`): no other test's events can reach it.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    fn taken(&self) -> Vec<String> {
        self.0.lock().expect("the warnings").clone()
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() != tracing::Level::WARN {
            return;
        }
        let mut message = String::new();
        event.record(
            &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                if field.name() == "message" {
                    message = format!("{value:?}");
                }
            },
        );
        self.0.lock().expect("the warnings").push(message);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

fn service(settings: Settings) -> NoPassword<User> {
    let settings = Settings {
        secret_key: Some("0123456789abcdef0123456789abcdef".into()),
        ..settings
    };
    NoPassword::builder(settings, MemoryDirectory::new([User::new("1", "alice")]))
        .sender(Outbox::new(10))
        .build()
        .expect("a service")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn a_template_typo_stops_the_router_at_start_up_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("nopassword-axum-start-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a template dir");
    let file = dir.join("login_form.html");
    std::fs::write(&file, "<input value=\"{{ csrf_tokn }}\">").expect("an override");
    let settings = Settings {
        template_dir: Some(dir.clone()),
        ..Settings::default()
    };
    let err = runtime()
        .block_on(async { router(service(settings)) })
        .expect_err("the typo stops start-up");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(err.name, file.display().to_string());
    assert!(err.reason.contains("`csrf_tokn` is undefined"), "{err}");
}

#[test]
fn a_request_without_a_client_address_is_warned_about_once() {
    let warnings = Warnings::default();
    tracing::subscriber::with_default(warnings.clone(), || {
        runtime().block_on(async {
            let service = service(Settings::default());
            let app = router(service.clone())
                .expect("built-in templates")
                .layer(login_layer(&service, MemorySessionStore::default()));
            let request = |peer: Option<SocketAddr>| {
                let mut request = Request::post("/accounts/api/login/")
                    .header("host", "localhost")
                    .header(CONTENT_TYPE, "application/json")
                    .body(Body::from(r#"{"username": "alice"}"#))
                    .expect("a request");
                if let Some(peer) = peer {
                    request.extensions_mut().insert(ConnectInfo(peer));
                }
                request
            };
            let peer = "203.0.113.5:5000".parse().ok();
            for peer in [peer, None, None, peer] {
                let status = app
                    .clone()
                    .oneshot(request(peer))
                    .await
                    .expect("an answer")
                    .status();
                assert_eq!(status, StatusCode::OK, "from {peer:?}");
            }
        });
    });
    let warnings = warnings.taken();
    let about_addresses: Vec<_> = warnings
        .iter()
        .filter(|w| w.contains("without a client address"))
        .collect();
    assert_eq!(about_addresses.len(), 1, "{warnings:#?}");
    assert!(
        about_addresses[0].contains("into_make_service_with_connect_info"),
        "{about_addresses:?}"
    );
    assert!(
        about_addresses[0].contains("trusted_proxies"),
        "{about_addresses:?}"
    );
}
