//! Readiness reports: what [`NoPassword::readiness`](crate::NoPassword::readiness) found, for
//! the adapters' readiness handlers (`/readyz`).
//!
//! A report names each check and its outcome, never the error (an error may name internal
//! hosts; the service logs it at `warn` instead), so a readiness route may face the network.
//!
//! ```
//! use std::time::Duration;
//! use nopassword_core::health::{Check, Outcome, Readiness};
//! let report = Readiness {
//!     checks: vec![
//!         Check { name: "store", channel: None, outcome: Outcome::Ok, elapsed: Duration::from_millis(1) },
//!         Check { name: "sender", channel: Some("email"), outcome: Outcome::TimedOut, elapsed: Duration::from_secs(2) },
//!     ],
//! };
//! assert!(!report.is_ready());
//! assert_eq!(report.status(), 503);
//! assert_eq!(report.to_json(), r#"{"status":"unavailable","checks":{"store":"ok","sender:email":"timeout"}}"#);
//! ```

use std::{fmt::Write as _, time::Duration};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It answered in time.
    Ok,
    /// It answered with an error (logged by the service).
    Failed,
    /// It did not answer within the time limit.
    TimedOut,
}

impl Outcome {
    /// `"ok"`, `"failed"` or `"timeout"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::TimedOut => "timeout",
        }
    }
}

/// One check of a readiness report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `"store"` or `"sender"`.
    pub name: &'static str,
    /// The sender's [`channel`](crate::LoginCodeSender::channel), for sender checks.
    pub channel: Option<&'static str>,
    /// How it went.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
}

/// What [`NoPassword::readiness`](crate::NoPassword::readiness) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Every check, the store's first.
    pub checks: Vec<Check>,
}

impl Readiness {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|c| c.outcome == Outcome::Ok)
    }

    /// The HTTP status for a readiness route: 200 when ready, else 503.
    pub fn status(&self) -> u16 {
        if self.is_ready() { 200 } else { 503 }
    }

    /// The JSON body for a readiness route:
    /// `{"status":"ready"|"unavailable","checks":{"store":"ok","sender:email":"timeout"}}`.
    pub fn to_json(&self) -> String {
        let mut out = String::from(r#"{"status":""#);
        out.push_str(if self.is_ready() {
            "ready"
        } else {
            "unavailable"
        });
        out.push_str(r#"","checks":{"#);
        for (i, check) in self.checks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Names and channels are fixed identifiers (`&'static str` from code, never from
            // a request); anything but identifier characters is dropped all the same, so the
            // body is always valid JSON.
            let name = match check.channel {
                Some(channel) => format!("{}:{channel}", check.name),
                None => check.name.to_owned(),
            };
            let name: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
                .collect();
            let _ = write!(out, "\"{name}\":\"{}\"", check.outcome.as_str());
        }
        out.push_str("}}");
        out
    }
}
