//! What the service counts, through the [`metrics`](https://docs.rs/metrics) facade.
//!
//! The service records these whether or not the app installed a recorder; without one they
//! cost an atomic load each. To export them, install any `metrics` recorder at start-up
//! (`metrics-exporter-prometheus` for a Prometheus `/metrics`, as the demo does) and call
//! [`describe`] once so each gets its help text.
//!
//! | name | kind | labels | counts |
//! |---|---|---|---|
//! | [`CODE_REQUESTS`] | counter | `outcome` | code requests (`POST login/`, `api/login/`) by answer |
//! | [`CODES_SENT`] | counter | `channel` | codes a sender delivered |
//! | [`DELIVERY_FAILURES`] | counter | `channel` | deliveries that failed (an outage, not an unreachable user) |
//! | [`DELIVERY_SECONDS`] | histogram | `channel` | time each delivery took |
//! | [`LOGINS`] | counter | `method` | logins, by `link`, typed `code`, or `approval` from another device |
//! | [`APPROVALS`] | counter | `outcome` | number picks on the approval page: `approved`, `wrong_number` |
//! | [`FAILED_CODE_TRIES`] | counter | | typed codes refused within their flow |
//! | [`LOCKOUTS`] | counter | | tries refused because the user reached `max_user_failures` |
//! | [`RATE_LIMITED`] | counter | `limit` | requests over a rate limit (`client`, `username`: a 429), or codes not sent (`account`) |
//! | [`LINK_VIEWS_WITHOUT_LOGIN`] | counter | `page` | link `GET`/`HEAD`s that did not log in: what mail scanners look like |
//!
//! Label values form small fixed sets: `outcome` is `accepted`, `rate_limited`, `busy`,
//! `invalid` or `error`; `channel` is a sender's
//! [`LoginCodeSender::channel`](crate::LoginCodeSender::channel); `page` is `submit` (the
//! "Logging in..." page), `confirm`, `denied` or `not_found`.
//!
//! ```
//! // At start-up, after installing a recorder:
//! nopassword_core::metrics::describe();
//! assert_eq!(nopassword_core::metrics::LOGINS, "nopassword_logins_total");
//! ```

use std::time::Duration;

use ::metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use crate::{Error, SendError};

/// Code requests, by `outcome`.
pub const CODE_REQUESTS: &str = "nopassword_code_requests_total";
/// Codes delivered, by `channel`.
pub const CODES_SENT: &str = "nopassword_codes_sent_total";
/// Failed deliveries, by `channel`.
pub const DELIVERY_FAILURES: &str = "nopassword_delivery_failures_total";
/// Delivery time in seconds, by `channel`.
pub const DELIVERY_SECONDS: &str = "nopassword_delivery_seconds";
/// Logins, by `method` (`link`, `code`, `approval`).
pub const LOGINS: &str = "nopassword_logins_total";
/// Number picks on the approval page, by `outcome` (`approved`, `wrong_number`).
pub const APPROVALS: &str = "nopassword_approvals_total";
/// Typed codes refused within their flow.
pub const FAILED_CODE_TRIES: &str = "nopassword_failed_code_tries_total";
/// Tries refused because the user is locked out.
pub const LOCKOUTS: &str = "nopassword_lockouts_total";
/// Requests over a rate limit, by `limit` (`client`, `username`, `account`).
pub const RATE_LIMITED: &str = "nopassword_rate_limited_total";
/// Link views that did not log in, by `page` (`submit`, `confirm`, `denied`, `not_found`).
pub const LINK_VIEWS_WITHOUT_LOGIN: &str = "nopassword_link_views_without_login_total";

/// Gives every metric above its description and unit in the installed recorder. Call once,
/// after installing it; harmless without one.
///
/// ```
/// nopassword_core::metrics::describe();
/// ```
pub fn describe() {
    describe_counter!(CODE_REQUESTS, "Login code requests, by outcome.");
    describe_counter!(CODES_SENT, "Login codes delivered, by channel.");
    describe_counter!(
        DELIVERY_FAILURES,
        "Login code deliveries that failed, by channel."
    );
    describe_histogram!(
        DELIVERY_SECONDS,
        Unit::Seconds,
        "Time each login code delivery took, by channel."
    );
    describe_counter!(
        LOGINS,
        "Logins with a login code, by method (link, code, approval)."
    );
    describe_counter!(
        APPROVALS,
        "Number picks on the approval page, by outcome (approved, wrong_number)."
    );
    describe_counter!(
        FAILED_CODE_TRIES,
        "Typed login codes refused within their flow."
    );
    describe_counter!(
        LOCKOUTS,
        "Typed-code tries refused because the user reached max_user_failures."
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests over a rate limit (client, username), or codes not sent (account)."
    );
    describe_counter!(
        LINK_VIEWS_WITHOUT_LOGIN,
        "Login link views that did not log in (what mail scanners look like), by page."
    );
}

/// One code request's answer.
pub(crate) fn code_request<T>(result: &Result<T, Error>) {
    let outcome = match result {
        Ok(_) => "accepted",
        Err(Error::RateLimited { .. }) => "rate_limited",
        Err(Error::Busy { .. }) => "busy",
        Err(Error::MissingUsername) => "invalid",
        Err(_) => "error",
    };
    counter!(CODE_REQUESTS, "outcome" => outcome).increment(1);
}

/// One delivery through a sender of `channel`.
pub(crate) fn delivery(channel: &'static str, result: &Result<(), SendError>, took: Duration) {
    match result {
        Ok(()) => counter!(CODES_SENT, "channel" => channel).increment(1),
        Err(error) if error.is_unreachable_recipient() => {}
        Err(_) => counter!(DELIVERY_FAILURES, "channel" => channel).increment(1),
    }
    histogram!(DELIVERY_SECONDS, "channel" => channel).record(took.as_secs_f64());
}

/// A login, by `method`.
pub(crate) fn login(method: &'static str) {
    counter!(LOGINS, "method" => method).increment(1);
}

/// A pick on the approval page, by `outcome` (`approved`, `wrong_number`).
pub(crate) fn approval(outcome: &'static str) {
    counter!(APPROVALS, "outcome" => outcome).increment(1);
}

/// A typed code refused within its flow.
pub(crate) fn failed_code_try() {
    counter!(FAILED_CODE_TRIES).increment(1);
}

/// A try refused because the user is locked out.
pub(crate) fn lockout() {
    counter!(LOCKOUTS).increment(1);
}

/// A request over the `limit` rate limit.
pub(crate) fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// A link view that did not log in.
pub(crate) fn link_view(page: &'static str) {
    counter!(LINK_VIEWS_WITHOUT_LOGIN, "page" => page).increment(1);
}
