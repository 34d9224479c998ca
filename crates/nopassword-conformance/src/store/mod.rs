//! The conformance suite of [`CodeStore`]: every implementation (the memory store, Redis, Redis
//! Cluster, a store of your own) passes the same checks, one `#[test]` per check, so a failure
//! names the check and the other checks still run.
//!
//! A test file calls [`store_suite!`](crate::store_suite) with an async closure that makes a
//! fresh store for each check:
//!
//! ```
//! use std::sync::Arc;
//!
//! use nopassword_conformance::{store::Subject, store_suite};
//! use nopassword_core::MemoryStore;
//!
//! store_suite!(async || Subject::real_time(Arc::new(MemoryStore::new())));
//! # fn main() {}
//! ```
//!
//! That expands to `put_get_take`, `get_does_not_consume`, ... `combined_ops_respect_expiry` in
//! the calling module, each running one function of [`checks`] on its own multi-threaded Tokio
//! runtime ([`run`]), so the concurrent checks really race. Put each call in its own module to run the
//! suite against several stores in one file.
//!
//! [`CodeStore`]: nopassword_core::CodeStore

pub mod checks;

use std::{fmt, future::Future, sync::Arc, time::Duration};

use nopassword_core::{CodeStore, clock::ManualClock};

/// How the suite makes time pass for expiry checks.
#[derive(Debug, Clone)]
pub enum TimeControl {
    /// The store measures time on this clock; the suite advances it.
    Manual(ManualClock),
    /// The store uses real time (Redis TTLs); the suite sleeps past short TTLs.
    Real,
}

impl TimeControl {
    /// Lets `by` pass: advances the manual clock, or sleeps.
    pub async fn pass(&self, by: Duration) {
        match self {
            Self::Manual(clock) => clock.advance(by),
            Self::Real => tokio::time::sleep(by).await,
        }
    }
}

/// The store one check runs against, how time passes for it, and what to verify once the check
/// has passed.
pub struct Subject {
    /// The store under test.
    pub store: Arc<dyn CodeStore>,
    /// How the checks make its entries expire.
    pub time: TimeControl,
    after: Option<Box<dyn FnOnce() + Send>>,
    held: Vec<Box<dyn Send>>,
}

impl Subject {
    /// A store that measures real time (Redis TTLs): the expiry checks sleep about 1.6 s.
    pub fn real_time(store: Arc<dyn CodeStore>) -> Self {
        Self {
            store,
            time: TimeControl::Real,
            after: None,
            held: Vec::new(),
        }
    }

    /// A store that measures time on `clock`: the expiry checks advance it.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use nopassword_conformance::store::Subject;
    /// use nopassword_core::{MemoryStore, clock::ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let subject = Subject::manual_clock(Arc::new(MemoryStore::with_clock(clock.clone())), clock);
    /// # drop(subject);
    /// ```
    pub fn manual_clock(store: Arc<dyn CodeStore>, clock: ManualClock) -> Self {
        Self {
            store,
            time: TimeControl::Manual(clock),
            after: None,
            held: Vec::new(),
        }
    }

    /// Adds a verification that runs after the check has passed, with the check's leftovers
    /// still in the store (for example: everything expires once the clock moves on).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    ///
    /// use nopassword_conformance::store::Subject;
    /// use nopassword_core::{MemoryStore, clock::ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let store = Arc::new(MemoryStore::with_clock(clock.clone()));
    /// let subject = Subject::manual_clock(store.clone(), clock.clone()).after(move || {
    ///     clock.advance(Duration::from_secs(3600));
    ///     assert_eq!(store.len(), 0, "everything the check left behind expires");
    /// });
    /// # drop(subject);
    /// ```
    #[must_use]
    pub fn after(mut self, verify: impl FnOnce() + Send + 'static) -> Self {
        self.after = Some(Box::new(verify));
        self
    }

    /// Keeps `guard` (say, a server this store talks to, stopped on drop) alive until the
    /// check and its verification are over, passed or failed.
    #[must_use]
    pub fn hold(mut self, guard: impl Send + 'static) -> Self {
        self.held.push(Box::new(guard));
        self
    }

    /// Runs the verification given to [`Subject::after`], if any, then drops what
    /// [`Subject::hold`] kept.
    pub fn finish(self) {
        if let Some(verify) = self.after {
            verify();
        }
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("time", &self.time)
            .field("after", &self.after.is_some())
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

/// Runs one store check on a fresh four-thread Tokio runtime (what [`store_suite!`] expands
/// to), so store crates need no Tokio macros and the concurrent checks race on real threads.
///
/// [`store_suite!`]: crate::store_suite
pub fn run<F: Future<Output = ()>>(check: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(check);
}

/// One `#[test]` per store check, in the calling module, each against a fresh store made by
/// `$make` (an async closure or an async fn without arguments returning a
/// [`Subject`](crate::store::Subject)). See the [module docs](crate::store) for an example.
#[macro_export]
macro_rules! store_suite {
    ($make:expr) => {
        $crate::store_suite!(@emit $make;
            put_get_take,
            get_does_not_consume,
            put_replaces,
            expiry,
            code_failures,
            user_failures,
            capped_user_failures,
            rate_counters,
            concurrent_hits,
            concurrent_user_failures,
            concurrent_takes,
            healthy_while_serving,
            combined_reads_and_hits,
            put_counted_limits,
            user_tries,
            code_uses,
            concurrent_code_uses,
            approvals,
            approval_keeps_expiry,
            concurrent_approvals,
            concurrent_multi_bucket_hits,
            concurrent_put_counted,
            concurrent_take_and_reset,
            combined_ops_respect_expiry,
            a_failure_at_the_cap_is_never_reset,
        );
    };
    (@emit $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::store::run(async {
                    let subject: $crate::store::Subject = ($make)().await;
                    $crate::store::checks::$check(&subject).await;
                    subject.finish();
                });
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    /// Every `pub async fn name(subject: &Subject)` of `checks` is listed in `store_suite!`
    /// once: a check missing from the macro would silently never run.
    #[test]
    fn every_check_is_in_the_macro() {
        let checks: Vec<&str> = include_str!("checks.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub async fn "))
            .map(|rest| rest.split('(').next().expect("a name"))
            .collect();
        assert!(checks.len() >= 11, "found only {checks:?}");
        let source = include_str!("mod.rs");
        let listing = &source[source.find("@emit $make;").expect("the list")..];
        let listing = &listing[..listing.find(");").expect("the list's end")];
        let listed: Vec<&str> = listing
            .lines()
            .skip(1)
            .map(|line| line.trim().trim_end_matches(','))
            .filter(|name| !name.is_empty())
            .collect();
        let mut sorted_checks = checks.clone();
        sorted_checks.sort_unstable();
        let mut sorted_listed = listed.clone();
        sorted_listed.sort_unstable();
        assert_eq!(
            sorted_listed, sorted_checks,
            "store_suite! lists every check once"
        );
    }
}
