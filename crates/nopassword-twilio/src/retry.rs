//! When to try a message again: 429 and 5xx, a bounded number of times, with backoff.

use std::time::Duration;

/// How [`TwilioSender`](crate::TwilioSender) retries a message that Twilio answered with 429
/// (too many requests) or a 5xx, or that could not connect. Other answers, 4xx above all, are
/// final: they would fail again.
///
/// Retry `n` (from 0) waits `base_delay * 2^n`, capped at `max_delay`; when the answer has a
/// `Retry-After` of some seconds, that is waited instead, capped at `max_retry_after` (the
/// user is waiting for the login page meanwhile). The default: 3 retries, 200 ms doubling to at
/// most 2 s, `Retry-After` up to 5 s.
///
/// ```
/// use std::time::Duration;
/// use nopassword_twilio::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_retries, 3);
/// assert_eq!(policy.backoff(0), Duration::from_millis(200));
/// assert_eq!(policy.backoff(2), Duration::from_millis(800));
/// assert_eq!(policy.backoff(10), Duration::from_secs(2));
///
/// // In tests: no waiting.
/// let fast = RetryPolicy { base_delay: Duration::ZERO, ..RetryPolicy::default() };
/// assert_eq!(fast.backoff(1), Duration::ZERO);
/// // No retries at all.
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first request; `0` sends once. Default `3`.
    pub max_retries: u32,
    /// The first retry's wait; each later one doubles it. Default 200 ms.
    pub base_delay: Duration,
    /// The longest backoff wait. Default 2 s.
    pub max_delay: Duration,
    /// The longest wait a `Retry-After` header may ask for. Default 5 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every message is sent once.
    ///
    /// ```
    /// assert_eq!(nopassword_twilio::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The backoff before retry `retry` (from 0), without `Retry-After`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nopassword_twilio::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::default().backoff(1), Duration::from_millis(400));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// The wait before retry `retry`: `Retry-After` (capped) when the answer had one, else
    /// the backoff.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// Whether an answer with this status may succeed when sent again.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// A `Retry-After` header in seconds. The HTTP-date form is ignored (Twilio sends seconds);
/// the backoff applies then.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let waits: Vec<_> = (0..6).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(2));
        let uncapped = RetryPolicy {
            max_delay: Duration::MAX,
            ..p
        };
        // No overflow panic however large the retry number.
        assert!(uncapped.backoff(40) > Duration::from_secs(86_400 * 365));
        assert!(uncapped.backoff(u32::MAX) > Duration::from_secs(86_400 * 365));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
        assert_eq!(p.delay(0, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(p.delay(1, None), Duration::from_millis(400));
    }

    #[test]
    fn parses_retry_after_seconds_only() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 201, 301, 400, 401, 403, 404, 409, 422, 600] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }
}
