//! What a misconfigured app hears: a page template with a typo stops `configure()` at
//! start-up, and requests without a peer address (a server on a Unix socket) log one warning
//! at the first such request, since the per-address rate limit is then off.
//!
//! Its own test binary: the warning is given once per process, so no other test may make
//! requests here.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use actix_web::{App, http::StatusCode, rt::System, test};
use nopassword_actix::{MemorySessionStore, configure, login_middleware};
use nopassword_core::{
    NoPassword, Outbox, Settings,
    user::{MemoryDirectory, User},
};

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

#[test]
fn a_template_typo_stops_configure_at_start_up_naming_the_file() {
    let dir =
        std::env::temp_dir().join(format!("nopassword-actix-start-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a template dir");
    let file = dir.join("login_form.html");
    std::fs::write(&file, "<input value=\"{{ csrf_tokn }}\">").expect("an override");
    let settings = Settings {
        template_dir: Some(dir.clone()),
        ..Settings::default()
    };
    let result = System::new().block_on(async { configure(service(settings)).map(|_| ()) });
    std::fs::remove_dir_all(&dir).ok();
    let err = result.expect_err("the typo stops start-up");
    assert_eq!(err.name, file.display().to_string());
    assert!(err.reason.contains("`csrf_tokn` is undefined"), "{err}");
}

#[test]
fn a_request_without_a_client_address_is_warned_about_once() {
    let warnings = Warnings::default();
    // actix-rt's System is a current-thread runtime: every event of the requests is logged on
    // this thread, to this test's subscriber.
    tracing::subscriber::with_default(warnings.clone(), || {
        System::new().block_on(async {
            let service = service(Settings::default());
            let routes = configure(service.clone()).expect("built-in templates");
            let app = test::init_service(
                App::new()
                    .configure(routes)
                    .wrap(login_middleware(&service, MemorySessionStore::default())),
            )
            .await;
            let peer: Option<SocketAddr> = "203.0.113.5:5000".parse().ok();
            for peer in [peer, None, None, peer] {
                let mut request = test::TestRequest::post()
                    .uri("/accounts/api/login/")
                    .insert_header(("host", "localhost"))
                    .insert_header(("content-type", "application/json"))
                    .set_payload(r#"{"username": "alice"}"#);
                if let Some(peer) = peer {
                    request = request.peer_addr(peer);
                }
                let status = test::call_service(&app, request.to_request())
                    .await
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
        about_addresses[0].contains("HttpServer::bind"),
        "{about_addresses:?}"
    );
    assert!(
        about_addresses[0].contains("trusted_proxies"),
        "{about_addresses:?}"
    );
}
