//! What the demo login sites share, whatever their web framework: the configuration they read
//! from the environment, the built-in users, the senders and Redis code store the settings
//! switch on, the service assembled from them, and the HTML of the home and outbox pages.
//!
//! `axum-demo` and `actix-demo` add only their framework's glue: routes, sessions, serving.
//!
//! ```
//! use demo_common::{demo_service, demo_users, home_html};
//! use nopassword_core::{Outbox, Settings};
//!
//! let settings = Settings {
//!     secret_key: Some("0123456789abcdef0123456789abcdef".into()),
//!     ..Settings::default()
//! };
//! let outbox = Outbox::new(10).quiet();
//! let service = demo_service(settings, demo_users(), &outbox, None, None).unwrap();
//!
//! let alice = demo_users().into_iter().next();
//! let page = home_html(alice.as_ref(), &service.settings().mount_path, true);
//! assert!(page.contains("Logged in as <strong id=\"username\">alice</strong>"));
//! assert!(page.contains("href=\"/accounts/logout/\""));
//! ```

mod config;
// The end-to-end scenarios both demos run (feature `e2e`); documented in the module.
#[cfg(feature = "e2e")]
pub mod e2e;
mod error;
/// The load benchmark the demos' `benches/load.rs` share (feature `load`).
#[cfg(feature = "load")]
pub mod load;
mod metrics;
mod pages;
mod parts;
mod postgres;
mod redis_sessions;
mod service;
/// The soak run `cargo xtask soak` drives through axum-demo's `benches/soak.rs` (feature `load`).
#[cfg(feature = "load")]
pub mod soak;

pub use config::{DemoConfig, DemoSettings, demo_users, read_users};
pub use error::DemoError;
pub use metrics::{HEALTHZ_BODY, METRICS_CONTENT_TYPE, metrics_text, prometheus};
pub use pages::{
    OUTBOX_HEADERS, home_html, not_logged_in_json, outbox_html, outbox_json, whoami_json,
};
pub use parts::DemoParts;
pub use postgres::{
    DemoPostgres, SessionPg, SharedSessions, SharedSessionsError, connect_postgres,
};
pub use redis_sessions::{PutIf, SessionRedis};
pub use service::{code_store, configured_senders, demo_service, outbox_served};
