//! The suites every implementation of nopassword-rs passes, written once: the HTTP contract
//! (docs/HTTP.md) for web adapters, and the [`store`] checks for `CodeStore`s.
//!
//! An adapter's test file implements [`support::Adapter`] (serve a [`NoPassword`] service on a
//! listener, with sessions, plus an app route `GET /whoami`) and instantiates every test with
//! one macro call:
//!
//! ```no_run
//! use nopassword_conformance::{
//!     conformance_tests,
//!     support::{Adapter, ServerHandle},
//! };
//! use nopassword_core::{NoPassword, user::User};
//!
//! struct MyFramework;
//!
//! impl Adapter for MyFramework {
//!     fn serve(service: NoPassword<User>, listener: std::net::TcpListener) -> ServerHandle {
//!         // Start the app on `listener` here; the handle stops it when dropped. Optionally,
//!         // say how to count the server's sessions, so the suite also checks that anonymous
//!         // visitors create none.
//!         let _ = (service, listener);
//!         ServerHandle::new(|| {}).with_session_count(|| 0)
//!     }
//! }
//!
//! conformance_tests!(MyFramework);
//! # fn main() {}
//! ```
//!
//! `support` is the harness (sites on free ports, users that can be deactivated, a store and a
//! sender that can be switched into an outage or a slow mode, a manual clock, a cookie-keeping
//! client that asks for codes as a person does and keeps its login flow); `contract` holds the
//! tests, one module per group of routes plus `flows` for docs/HTTP.md, Login flows. Nothing here knows a
//! web framework.
//!
//! [`store`] is the `CodeStore` conformance suite ([`store_suite!`] makes one test per check);
//! [`redirect`] holds the open-redirect payloads the contract replays.
//!
//! [`NoPassword`]: nopassword_core::NoPassword

pub mod contract;
pub mod redirect;
pub mod store;
pub mod support;

use std::future::Future;

/// Runs one contract test on a fresh two-thread tokio runtime (what `conformance_tests!`
/// expands to), so adapter crates need no tokio macros of their own.
pub fn run<F: Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(test);
}
