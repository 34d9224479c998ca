//! Delivery: the `LoginCodeSender` trait, and the development senders.

use std::{
    collections::VecDeque,
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::SystemTime,
};

use async_trait::async_trait;

use crate::{code::LoginCode, error::BoxError, secret::PlaintextCode};

/// Why a code could not be delivered. Sender crates put their own typed error inside; find it
/// with [`SendError::downcast_ref`].
///
/// Two kinds matter to the service: an outage (the mail server is down: the request answers
/// 503) and an unreachable recipient (this user has no e-mail address or phone number for this
/// sender): the service then answers as it does for an unknown user, so the answer does not
/// reveal which accounts exist.
///
/// ```
/// use nopassword_core::SendError;
///
/// assert!(!SendError::new("connection refused").is_unreachable_recipient());
/// assert!(SendError::unreachable_recipient("user 7 has no phone number").is_unreachable_recipient());
/// ```
#[derive(Debug)]
pub struct SendError {
    error: BoxError,
    unreachable: bool,
}

impl SendError {
    /// Wraps a sender's error: delivery failed (an outage, a refusal).
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self {
            error: error.into(),
            unreachable: false,
        }
    }

    /// Wraps a sender's error meaning this user cannot be reached by this sender (no address,
    /// or an invalid one). Nothing was sent, and retrying will not help.
    pub fn unreachable_recipient(error: impl Into<BoxError>) -> Self {
        Self {
            error: error.into(),
            unreachable: true,
        }
    }

    /// Whether the user cannot be reached by this sender (see
    /// [`SendError::unreachable_recipient`]).
    pub fn is_unreachable_recipient(&self) -> bool {
        self.unreachable
    }

    /// The sender's own error, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.error.downcast_ref()
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// Delivers a login code to its user: the original's `send_login_code(code, secure, host)`.
///
/// Build the link with [`LoginCode::login_url`]`(secure, host)`, which takes care of allowed
/// hosts and `hide_username`. Usable as `Arc<dyn LoginCodeSender>`.
///
/// ```
/// use async_trait::async_trait;
/// use nopassword_core::{LoginCodeSender, SendError, code::LoginCode};
///
/// /// Posts the link to a chat webhook instead of mailing it.
/// struct Chat;
///
/// #[async_trait]
/// impl LoginCodeSender for Chat {
///     async fn send_login_code(&self, code: &LoginCode, secure: bool, host: Option<&str>) -> Result<(), SendError> {
///         let _message = format!("Log in as {}: {}", code.user().username, code.login_url(secure, host));
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait LoginCodeSender: Send + Sync {
    /// Sends `code`; `secure` and `host` describe the request that asked for it.
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError>;

    /// The channel's name in metrics and health reports: `"email"`, `"sms"`, ... (short,
    /// lowercase, a fixed set: it becomes a metric label). Default: `"custom"`.
    fn channel(&self) -> &'static str {
        "custom"
    }

    /// Whether the sender could deliver now: a cheap check of its backend (the SMTP server
    /// answers, the SMS API accepts the credentials), without sending anything to anyone.
    /// [`NoPassword::readiness`](crate::NoPassword::readiness) calls it under a time limit.
    /// Default: `Ok(())`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use nopassword_core::{LoginCodeSender, Outbox};
    /// let outbox = Outbox::new(10);
    /// assert!(outbox.health().await.is_ok());
    /// assert_eq!(outbox.channel(), "outbox");
    /// # });
    /// ```
    async fn health(&self) -> Result<(), SendError> {
        Ok(())
    }

    /// Whether this sender fans out to other senders and records the delivery metrics of each
    /// itself (as [`AllSenders`] does), so the service must not record them once more under
    /// [`channel`](Self::channel). Default: `false`.
    fn records_channel_metrics(&self) -> bool {
        false
    }
}

#[async_trait]
impl<S: LoginCodeSender + ?Sized> LoginCodeSender for Arc<S> {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        (**self).send_login_code(code, secure, host).await
    }

    fn channel(&self) -> &'static str {
        (**self).channel()
    }

    async fn health(&self) -> Result<(), SendError> {
        (**self).health().await
    }

    fn records_channel_metrics(&self) -> bool {
        (**self).records_channel_metrics()
    }
}

/// Sends through `sender`, recording the delivery metrics ([`crate::metrics`]) under its
/// channel: codes sent, delivery failures (a user no sender can reach is not a failure) and
/// delivery time. The service calls it for every code; fan-outs like [`AllSenders`] call it
/// for each of their senders.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::{sync::Arc, time::{Duration, SystemTime}};
/// use nopassword_core::{
///     Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode,
///     sender::{NullSender, send_metered},
/// };
/// let code = LoginCode::new(
///     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
///     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
///     Arc::new(UrlConfig::from_settings(&Settings::default())),
/// );
/// send_metered(&NullSender, &code, false, None).await.unwrap();
/// # });
/// ```
pub async fn send_metered(
    sender: &dyn LoginCodeSender,
    code: &LoginCode,
    secure: bool,
    host: Option<&str>,
) -> Result<(), SendError> {
    let started = std::time::Instant::now();
    let result = sender.send_login_code(code, secure, host).await;
    crate::metrics::delivery(sender.channel(), &result, started.elapsed());
    result
}

/// Sends each code through every sender it holds, as the original called every configured
/// backend: e-mail and SMS together, say.
///
/// It succeeds when at least one sender delivered, so a user without a phone number still gets
/// the e-mail; failures are logged. When every sender fails, the first outage is returned (and
/// the service withdraws the code); when every sender found the user unreachable, that is
/// returned.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::{sync::Arc, time::{Duration, SystemTime}};
/// use nopassword_core::{
///     LoginCodeSender, Outbox, Settings,
///     code::{LoginCode, Recipient, UrlConfig},
///     secret::PlaintextCode,
///     sender::{AllSenders, NullSender},
/// };
///
/// let outbox = Outbox::new(10).quiet();
/// let both = AllSenders::new().with(outbox.clone()).with(NullSender);
/// let code = LoginCode::new(
///     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: None },
///     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
///     Arc::new(UrlConfig::from_settings(&Settings::default())),
/// );
/// both.send_login_code(&code, false, None).await.unwrap();
/// assert_eq!(outbox.messages().len(), 1);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct AllSenders {
    senders: Vec<Arc<dyn LoginCodeSender>>,
}

impl fmt::Debug for AllSenders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllSenders")
            .field("senders", &self.senders.len())
            .finish()
    }
}

impl AllSenders {
    /// No senders yet (sending through none fails).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sender.
    pub fn with(mut self, sender: impl LoginCodeSender + 'static) -> Self {
        self.senders.push(Arc::new(sender));
        self
    }

    /// Adds a shared sender.
    pub fn with_shared(mut self, sender: Arc<dyn LoginCodeSender>) -> Self {
        self.senders.push(sender);
        self
    }

    /// How many senders it holds.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }
}

/// Sending through an empty [`AllSenders`].
#[derive(Debug, thiserror::Error)]
#[error("no login code sender is configured")]
pub struct NoSenders;

#[async_trait]
impl LoginCodeSender for AllSenders {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        let (mut outage, mut unreachable) = (None, None);
        let mut delivered = false;
        for sender in &self.senders {
            let sent = if sender.records_channel_metrics() {
                sender.send_login_code(code, secure, host).await
            } else {
                send_metered(&**sender, code, secure, host).await
            };
            match sent {
                Ok(()) => delivered = true,
                Err(error) if error.is_unreachable_recipient() => {
                    tracing::debug!(%error, "one of several senders cannot reach this user");
                    unreachable.get_or_insert(error);
                }
                Err(error) => {
                    tracing::warn!(%error, "one of several senders failed");
                    outage.get_or_insert(error);
                }
            }
        }
        if delivered {
            return Ok(());
        }
        Err(outage
            .or(unreachable)
            .unwrap_or_else(|| SendError::new(NoSenders)))
    }

    /// Its one sender's channel, else `"all"`; each sender's deliveries are recorded under
    /// its own channel either way.
    fn channel(&self) -> &'static str {
        match self.senders.as_slice() {
            [one] => one.channel(),
            _ => "all",
        }
    }

    /// Healthy when at least one sender is, as a send succeeds when one delivers. Every
    /// unhealthy sender is logged at `warn` with its channel; when none is healthy the first
    /// error is returned, prefixed with its channel.
    async fn health(&self) -> Result<(), SendError> {
        let mut first = None;
        let mut healthy = false;
        for sender in &self.senders {
            match sender.health().await {
                Ok(()) => healthy = true,
                Err(error) => {
                    tracing::warn!(channel = sender.channel(), %error, "a sender is unhealthy");
                    first.get_or_insert_with(|| {
                        SendError::new(ChannelError {
                            channel: sender.channel(),
                            error,
                        })
                    });
                }
            }
        }
        if healthy {
            return Ok(());
        }
        Err(first.unwrap_or_else(|| SendError::new(NoSenders)))
    }

    fn records_channel_metrics(&self) -> bool {
        true
    }
}

/// One sender's failed health check, in [`AllSenders::health`]'s error.
#[derive(Debug, thiserror::Error)]
#[error("{channel}: {error}")]
pub struct ChannelError {
    /// The sender's [`LoginCodeSender::channel`].
    pub channel: &'static str,
    /// Its error.
    #[source]
    pub error: SendError,
}

/// Discards every code. For benchmarks and tests that do not read messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSender;

#[async_trait]
impl LoginCodeSender for NullSender {
    async fn send_login_code(
        &self,
        _: &LoginCode,
        _: bool,
        _: Option<&str>,
    ) -> Result<(), SendError> {
        Ok(())
    }

    fn channel(&self) -> &'static str {
        "null"
    }
}

/// One message in the development [`Outbox`].
#[derive(Clone)]
pub struct OutboxMessage {
    /// The user's username.
    pub username: String,
    /// Where it would have gone: the e-mail address, else the phone number, else the username.
    pub to: String,
    /// The login link.
    pub url: String,
    /// The code, for the typed-code form.
    pub code: PlaintextCode,
    /// When it was sent.
    pub sent_at: SystemTime,
}

impl fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboxMessage")
            .field("username", &self.username)
            .field("to", &self.to)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// A development sender: shows each message in the terminal and keeps the latest ones in
/// memory for a demo page, so a demo needs no mail server. Never use it in production: it
/// prints login links.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::{sync::Arc, time::{Duration, SystemTime}};
/// use nopassword_core::{
///     LoginCodeSender, Outbox, Settings,
///     code::{LoginCode, Recipient, UrlConfig},
///     secret::PlaintextCode,
/// };
///
/// let outbox = Outbox::new(10).quiet();
/// let code = LoginCode::new(
///     Recipient { id: "1".into(), username: "alice".into(), email: Some("alice@example.com".into()), phone: None },
///     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
///     Arc::new(UrlConfig::from_settings(&Settings::default())),
/// );
/// outbox.send_login_code(&code, false, Some("localhost:8000")).await.unwrap();
/// let latest = outbox.latest_for("alice").unwrap();
/// assert_eq!(latest.to, "alice@example.com");
/// assert_eq!(latest.url, "http://localhost:8000/accounts/login-code/alice/0123456789abcdef0123/");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Outbox {
    messages: Arc<Mutex<VecDeque<OutboxMessage>>>,
    capacity: usize,
    print: bool,
}

impl Outbox {
    /// An outbox keeping the latest `capacity` messages, printing each to standard output.
    pub fn new(capacity: usize) -> Self {
        Self {
            messages: Arc::default(),
            capacity: capacity.max(1),
            print: true,
        }
    }

    /// Stops printing to the terminal (tests).
    pub fn quiet(mut self) -> Self {
        self.print = false;
        self
    }

    /// The kept messages, newest first.
    pub fn messages(&self) -> Vec<OutboxMessage> {
        let messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        messages.iter().rev().cloned().collect()
    }

    /// The newest message for `username`.
    pub fn latest_for(&self, username: &str) -> Option<OutboxMessage> {
        let messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        messages
            .iter()
            .rev()
            .find(|m| m.username == username)
            .cloned()
    }
}

#[async_trait]
impl LoginCodeSender for Outbox {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        let user = code.user();
        let message = OutboxMessage {
            username: user.username.clone(),
            to: user
                .email
                .clone()
                .or_else(|| user.phone.clone())
                .unwrap_or_else(|| user.username.clone()),
            url: code.login_url(secure, host),
            code: code.code().clone(),
            sent_at: SystemTime::now(),
        };
        if self.print {
            println!(
                "\n----- login code (development outbox) -----\nTo: {}\nLog in: {}\nOr type the code: {}\nValid for {} seconds.\n-------------------------------------------\n",
                message.to,
                message.url,
                message.code.expose(),
                code.valid_for().as_secs(),
            );
        }
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        if messages.len() == self.capacity {
            messages.pop_front();
        }
        messages.push_back(message);
        Ok(())
    }

    fn channel(&self) -> &'static str {
        "outbox"
    }
}
