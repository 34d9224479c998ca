//! The service's error type.

use std::time::Duration;

use crate::{SendError, SettingsError, StoreError};

/// A boxed error from an app's own code (a user directory, a custom sender).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a [`NoPassword`](crate::NoPassword) call did not complete.
///
/// Invalid, expired or used codes are not errors: `authenticate` returns `Ok(None)` for them.
/// Adapters map these variants to HTTP status codes in one place: `RateLimited` → 429,
/// `MissingUsername` → 400 (or the form again), `Store`, `Send`, `Directory` and `Busy` → 503,
/// `Settings` → a start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Too many requests from this client address, or too many codes sent to this username.
    #[error("too many requests; try again in {} seconds", retry_after.as_secs())]
    RateLimited {
        /// When the current window ends, at the latest.
        retry_after: Duration,
    },
    /// The username field was empty.
    #[error("the username field is required")]
    MissingUsername,
    /// The code store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sender could not deliver the code (the code was withdrawn).
    #[error("could not deliver the login code: {0}")]
    Send(#[from] SendError),
    /// The user directory failed.
    #[error("user directory unavailable: {0}")]
    Directory(#[source] BoxError),
    /// The service was built with invalid or incomplete settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The background delivery queue is full: every code request is refused alike (503)
    /// until deliveries catch up.
    #[error("the delivery queue is full ({in_flight} deliveries in flight)")]
    Busy {
        /// Deliveries running when the request came.
        in_flight: usize,
    },
}

impl Error {
    /// Whether this is an outage of a backing service (store, sender, directory): adapters
    /// answer 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Store(_) | Self::Send(_) | Self::Directory(_) | Self::Busy { .. }
        )
    }
}
