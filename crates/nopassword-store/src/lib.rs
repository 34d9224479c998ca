//! Redis and Redis Cluster code store for nopassword-rs.
//!
//! [`RedisStore`] implements [`nopassword_core::CodeStore`] on Redis, so several app instances
//! behind a load balancer share outstanding login codes and abuse counters, and a code issued
//! by one instance logs in on another.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nopassword_core::{NoPassword, Settings, settings::Config, user::{MemoryDirectory, User}};
//! use nopassword_store::{RedisSettings, RedisStore};
//!
//! // NOPASSWORD_REDIS_URL=redis://127.0.0.1:6379/ (or rediss://, or a comma-separated list
//! // of cluster node URLs); NOPASSWORD_NAMESPACE prefixes every key.
//! let mut config = Config::load();
//! let settings: Settings = config.section()?;
//! let redis: RedisSettings = config.section()?;
//! config.finish()?;
//! let store = RedisStore::from_settings(&settings, &redis).await?;
//! let users = MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]);
//! let service = NoPassword::builder(settings, users).store(store).build()?;
//! # Ok(()) }
//! ```
//!
//! # Connecting
//!
//! - `redis://[user:password@]host[:port][/db]`: one node; `rediss://` for TLS (rustls with
//!   the system's root certificates, see [TLS](#tls); a private CA through
//!   [`RedisStoreBuilder::tls_root_certificates`]).
//! - `redis://host1:7000/,redis://host2:7000/,redis://host3:7000/`: a Redis Cluster, given as
//!   several comma-separated node URLs (some of its nodes are enough: the client reads the
//!   slot map from them). All nodes share one user, password and TLS mode. To use one seed
//!   URL for a cluster, call [`RedisStoreBuilder::cluster`]. A comma inside a password must be
//!   written `%2C`.
//!
//! # TLS
//!
//! `rediss://` goes through rustls, which takes its cryptography from the process-wide
//! [`rustls::crypto::CryptoProvider`]. Choosing it is the application's business, so this
//! crate never installs one: the application does, once, in `main`, before connecting
//! (with the default `ring` feature, through this crate's re-export of rustls):
//!
//! ```no_run
//! # #[cfg(feature = "ring")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Once, at start-up. Err means a provider was already installed, which is fine too.
//! let _ = nopassword_store::rustls::crypto::ring::default_provider().install_default();
//!
//! let store = nopassword_store::RedisStore::connect("rediss://:password@cache.internal:6380/", "shop").await?;
//! # Ok(()) }
//! ```
//!
//! An application that uses aws-lc-rs (or any other provider) installs that one instead, and
//! can turn this crate's default features off (`features = ["tls-rustls", "cluster"]`) so ring
//! is not compiled. Without a provider, connecting to a `rediss://` node fails with
//! [`RedisStoreError::NoCryptoProvider`] before any network traffic; the store never panics
//! for it and never installs one behind the application's back (after which the
//! application's own `install_default` would fail).
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls-rustls` | yes | `rediss://` through rustls, trusting the system's root certificates; [`rustls`] re-exported |
//! | `ring` | yes | rustls's ring provider, for the application to install (above) |
//! | `tls-rustls-webpki-roots` | no | trust Mozilla's root certificates, compiled in, instead of the system's |
//! | `cluster` | yes | Redis Cluster (several node URLs, [`RedisStoreBuilder::cluster`]) |
//!
//! Without `tls-rustls` a `rediss://` URL fails with [`RedisStoreError::TlsDisabled`], and
//! without `cluster` a cluster fails with [`RedisStoreError::ClusterDisabled`], both before
//! connecting.
//!
//! # Key layout
//!
//! Every key starts with the `namespace` setting (default `nopassword`, written `ns` here):
//!
//! | key | value | TTL |
//! |---|---|---|
//! | `{ns:c:<code key>}` | a code's record: user id, verifier, keyed hashes of the typed code and of the flow that asked for it, `next`, issue and expiry times (binary, typically 70 to 90 bytes) | `login_code_timeout` |
//! | `{ns:c:<code key>}:f` | refused uses of that code, only once there is one | what remains of the code's TTL |
//! | `ns:f:<user id>` | the user's consecutive failed logins, never above `max_user_failures` | the lockout window, renewed by each counted failure |
//! | `ns:r:<kind>:<32 hex>` | hits in a rate-limit window (per username or client address, keyed-hashed) | the window (1 hour or 1 minute), from its first hit |
//!
//! `<code key>` is the first half of the code's HMAC under `secret_key`, 16 bytes in unpadded
//! base64url (22 characters); without the key it reveals nothing, and neither do the rate
//! bucket names. No key or value holds a code, a flow id, an e-mail address or a phone
//! number. A code's two keys share the hash tag in braces, so in a cluster they sit in one slot
//! and are changed together; the binding to the flow that asked for the code lives inside the
//! record, so it needs no key of its own. The layout is tuned for memory: with the default
//! namespace an outstanding code (a 74-byte record) costs Redis about 230 bytes, the same as a
//! bare `SET key value PX ttl` of those sizes.
//!
//! # Atomicity
//!
//! `take` is `GETDEL`: of any number of concurrent takes of one code, on any number of
//! instances, exactly one gets the record. `put`, the failure counters and the rate counters
//! are Lua scripts (each on keys of one slot), so a counter never lives without its TTL and a
//! code's failure counter is never created for a code that is gone. A user's failure count is
//! checked against its cap, incremented and given its window in one script (one `EVALSHA`
//! round trip): N concurrent failures on any number of instances count exactly
//! `min(N, cap - count)` times and the count never passes the cap (docs/HTTP.md, Login flows).
//! A try at a typed code is one script on the code's slot
//! ([`use_code`](nopassword_core::CodeStore::use_code)): it counts the try, judges it against
//! `max_code_attempts` and, for a right code, takes the record, so of concurrent right tries
//! exactly one logs in.
//!
//! # Round trips
//!
//! What can go together goes at once: the client's rate counter with the reads of the codes
//! (one `MGET` for all of a flow's codes), both rate counters of a code request, the account's
//! send counter with the write of the code, the take of a link's code with the reset of its
//! user's failures. The commands travel concurrently on the one multiplexed connection (a
//! pipeline on a single node; on a cluster each goes to its node, in parallel). A login with a
//! typed code costs 3 round trips and 4 commands, with a link 2 and 5, a code request 2 and 4
//! (`tests/round_trips.rs` holds these budgets).
//!
//! # Outages
//!
//! Every call is bounded by the command timeout (default 500 ms, see
//! [`RedisStoreBuilder::command_timeout`]). While Redis is unreachable calls fail fast with
//! [`StoreError::Unavailable`](nopassword_core::StoreError::Unavailable) (connection refused)
//! or [`StoreError::Timeout`](nopassword_core::StoreError::Timeout) (no answer); the web
//! adapters answer 503. The store reconnects by itself: once Redis is back, calls succeed
//! again without restarting the app. Codes stored before a restart of a Redis without
//! persistence are lost; users request a new one.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod connection;
mod error;
mod keys;
mod settings;
mod store;

pub use builder::{DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, RedisStoreBuilder};
use connection::Connection;
pub use error::RedisStoreError;
pub use settings::RedisSettings;
pub use store::RedisStore;

/// The rustls this crate's `rediss://` connections use, for the application to install its
/// crypto provider with (see [TLS](crate#tls)).
///
/// ```no_run
/// # #[cfg(feature = "ring")]
/// let _ = nopassword_store::rustls::crypto::ring::default_provider().install_default();
/// ```
#[cfg(feature = "tls-rustls")]
pub use rustls;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "ring", feature = "cluster"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
