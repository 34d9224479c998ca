//! The README's and the guides' Rust snippets, compiled (and run, unless marked `no_run`) as
//! doctests of this crate: `cargo test -p docs-snippets --doc`, part of `cargo xtask test`.
//! A snippet that stops compiling fails the suite, so the docs cannot drift from the API.
//!
//! Each document is included whole; its `toml`, `sh` and `jinja` blocks are not Rust and
//! are not run.

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct Readme;

#[cfg(doctest)]
#[doc = include_str!("../../../crates/nopassword-axum/README.md")]
pub struct ReadmeAxum;

#[cfg(doctest)]
#[doc = include_str!("../../../crates/nopassword-actix/README.md")]
pub struct ReadmeActix;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/axum.md")]
pub struct GuideAxum;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/actix.md")]
pub struct GuideActix;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/email.md")]
pub struct GuideEmail;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/operations.md")]
pub struct GuideOperations;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/redis.md")]
pub struct GuideRedis;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/postgres.md")]
pub struct GuidePostgres;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/twilio.md")]
pub struct GuideTwilio;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide/i18n.md")]
pub struct GuideI18n;
