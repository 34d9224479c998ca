//! `TwilioSender`: a login code by SMS, through Twilio's Messages API.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use nopassword_core::{
    LoginCodeSender, SendError, Settings, async_trait, code::LoginCode, locale::Locale,
    secret::SecretString,
};
use reqwest::{Response, StatusCode, Url, header::RETRY_AFTER, redirect};
use serde::Deserialize;

use crate::{
    DEFAULT_API_BASE, RetryPolicy, TwilioError, TwilioSettings, is_e164,
    retry::{is_retryable_status, parse_retry_after},
    template::SmsTemplate,
};

/// The default `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default `timeout` of one request, from connecting to the end of the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most of an answer's body that is read: Twilio's are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// Sends login codes by SMS: `POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json` with
/// HTTP Basic auth and the form fields `To` (the user's phone number), `From` and `Body`
/// (rendered from `login_sms.txt`).
///
/// Cheap to clone: clones share one HTTP client (and so its connection pool). A user without a
/// phone number gets [`TwilioError::NoPhoneNumber`] at once, with no request.
///
/// ```
/// use std::time::Duration;
/// use nopassword_core::Settings;
/// use nopassword_twilio::{RetryPolicy, TwilioSender, TwilioSettings};
///
/// let settings = Settings::default();
/// let twilio = TwilioSettings {
///     twilio_sid: Some("AC00000000000000000000000000000000".into()),
///     twilio_auth_token: Some("your-auth-token".into()),
///     default_from_number: Some("+15005550006".into()),
///     ..TwilioSettings::default()
/// };
/// // Everything from the settings:
/// let sms = TwilioSender::from_settings(&settings, &twilio)?;
/// // Or with the builder's options on top:
/// let sms = TwilioSender::builder_from_settings(&settings, &twilio)?
///     .timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy { max_retries: 1, ..RetryPolicy::default() })
///     .build()?;
/// # Ok::<_, nopassword_twilio::TwilioError>(())
/// ```
#[derive(Clone)]
pub struct TwilioSender {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    messages_url: Url,
    account_sid: String,
    auth_token: SecretString,
    from_number: String,
    template: SmsTemplate,
    retry: RetryPolicy,
}

impl fmt::Debug for TwilioSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("TwilioSender")
            .field("messages_url", &inner.messages_url.as_str())
            .field("account_sid", &inner.account_sid)
            .field("auth_token", &inner.auth_token)
            .field("from_number", &inner.from_number)
            .field("retry", &inner.retry)
            .finish_non_exhaustive()
    }
}

/// What Twilio said when it accepted a message.
///
/// ```
/// use nopassword_twilio::SentMessage;
///
/// let sent = SentMessage::new(Some("SM0123".into()), 1);
/// assert_eq!(sent.sid.as_deref(), Some("SM0123"));
/// assert_eq!(sent.attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The message's SID (`SM...`), when the answer carried one.
    pub sid: Option<String>,
    /// Requests made, retries included.
    pub attempts: u32,
}

impl SentMessage {
    /// A record of an accepted message (for tests of code that handles one).
    ///
    /// ```
    /// let sent = nopassword_twilio::SentMessage::new(Some("SM1".into()), 2);
    /// assert_eq!(sent.attempts, 2);
    /// ```
    pub fn new(sid: Option<String>, attempts: u32) -> Self {
        Self { sid, attempts }
    }
}

impl TwilioSender {
    /// A builder from the three values the API needs: the account SID, the auth token and the
    /// `From` number (E.164). The other options have defaults: Twilio's API at
    /// `https://api.twilio.com`, the [default timeouts](DEFAULT_REQUEST_TIMEOUT), the default
    /// [`RetryPolicy`] and the built-in template.
    ///
    /// ```
    /// use nopassword_twilio::TwilioSender;
    ///
    /// let sms = TwilioSender::builder("AC00000000000000000000000000000000", "token", "+15005550006")
    ///     .api_base("http://127.0.0.1:4010")
    ///     .build()?;
    /// # Ok::<_, nopassword_twilio::TwilioError>(())
    /// ```
    pub fn builder(
        account_sid: impl Into<String>,
        auth_token: impl Into<SecretString>,
        from_number: impl Into<String>,
    ) -> TwilioSenderBuilder {
        TwilioSenderBuilder {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            from_number: from_number.into(),
            api_base: DEFAULT_API_BASE.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
            template_dir: None,
            default_locale: Locale::en(),
        }
    }

    /// A builder from the settings: [`TwilioSettings`]' `twilio_sid`, `twilio_auth_token`,
    /// `default_from_number` (all three required) and `twilio_api_base`, and core's
    /// `template_dir`.
    ///
    /// ```
    /// use nopassword_core::Settings;
    /// use nopassword_twilio::{TwilioError, TwilioSender, TwilioSettings};
    ///
    /// let twilio = TwilioSettings {
    ///     twilio_sid: Some("AC00000000000000000000000000000000".into()),
    ///     twilio_auth_token: Some("token".into()),
    ///     ..TwilioSettings::default()
    /// };
    /// let err = TwilioSender::builder_from_settings(&Settings::default(), &twilio).unwrap_err();
    /// assert!(matches!(err, TwilioError::MissingSetting { key: "default_from_number" }));
    /// ```
    pub fn builder_from_settings(
        settings: &Settings,
        twilio: &TwilioSettings,
    ) -> Result<TwilioSenderBuilder, TwilioError> {
        let account_sid = twilio
            .twilio_sid
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(TwilioError::MissingSetting { key: "twilio_sid" })?;
        let auth_token = twilio
            .twilio_auth_token
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or(TwilioError::MissingSetting {
                key: "twilio_auth_token",
            })?;
        let from_number = twilio
            .default_from_number
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(TwilioError::MissingSetting {
                key: "default_from_number",
            })?;
        let mut builder = Self::builder(account_sid, auth_token, from_number)
            .api_base(twilio.twilio_api_base.clone());
        builder.template_dir = settings.template_dir.clone();
        builder.default_locale = settings.default_locale.clone();
        Ok(builder)
    }

    /// The sender the settings describe; see [`TwilioSender::builder_from_settings`].
    ///
    /// ```
    /// use nopassword_core::Settings;
    /// use nopassword_twilio::{TwilioSender, TwilioSettings};
    ///
    /// let twilio = TwilioSettings {
    ///     twilio_sid: Some("AC00000000000000000000000000000000".into()),
    ///     twilio_auth_token: Some("token".into()),
    ///     default_from_number: Some("+15005550006".into()),
    ///     twilio_api_base: "http://127.0.0.1:4010".into(),
    /// };
    /// let sms = TwilioSender::from_settings(&Settings::default(), &twilio)?;
    /// assert_eq!(
    ///     sms.messages_url(),
    ///     "http://127.0.0.1:4010/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    /// );
    /// # Ok::<_, nopassword_twilio::TwilioError>(())
    /// ```
    pub fn from_settings(
        settings: &Settings,
        twilio: &TwilioSettings,
    ) -> Result<Self, TwilioError> {
        Self::builder_from_settings(settings, twilio)?.build()
    }

    /// The URL messages are posted to.
    ///
    /// ```
    /// use nopassword_twilio::TwilioSender;
    ///
    /// let sms = TwilioSender::builder("AC1", "token", "+15005550006").build()?;
    /// assert_eq!(sms.messages_url(), "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
    /// # Ok::<_, nopassword_twilio::TwilioError>(())
    /// ```
    pub fn messages_url(&self) -> &str {
        self.inner.messages_url.as_str()
    }

    /// The SMS text for `code`, as [`send_login_sms`](Self::send_login_sms) would send it.
    ///
    /// ```
    /// use std::{sync::Arc, time::{Duration, SystemTime}};
    /// use nopassword_core::{Settings, code::{LoginCode, Recipient, UrlConfig}, secret::PlaintextCode};
    /// use nopassword_twilio::TwilioSender;
    ///
    /// let sms = TwilioSender::builder("AC1", "token", "+15005550006").build()?;
    /// let code = LoginCode::new(
    ///     Recipient { id: "1".into(), username: "alice".into(), email: None, phone: Some("+15005550010".into()) },
    ///     PlaintextCode::new("0123456789abcdef0123"), None, SystemTime::now(), Duration::from_secs(900),
    ///     Arc::new(UrlConfig::from_settings(&Settings::default())),
    /// );
    /// assert_eq!(
    ///     sms.render_message(&code, true, Some("localhost:8000"))?,
    ///     "0123456789abcdef0123 is your login code.\n\
    ///      Log in: https://localhost:8000/accounts/login-code/alice/0123456789abcdef0123/\n\
    ///      It expires in 15 minutes."
    /// );
    /// # Ok::<_, nopassword_twilio::TwilioError>(())
    /// ```
    pub fn render_message(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<String, TwilioError> {
        self.inner.template.render_code(code, secure, host)
    }

    /// Texts `code` to its user's phone number, retrying as the [`RetryPolicy`] says, and
    /// returns what Twilio said. The typed form of
    /// [`LoginCodeSender::send_login_code`].
    ///
    /// ```no_run
    /// # async fn demo(sms: nopassword_twilio::TwilioSender, code: nopassword_core::code::LoginCode) {
    /// use nopassword_twilio::TwilioError;
    ///
    /// match sms.send_login_sms(&code, true, Some("app.example.com")).await {
    ///     Ok(sent) => println!("queued as {:?}", sent.sid),
    ///     Err(TwilioError::NoPhoneNumber { .. }) => println!("no phone: send an e-mail instead"),
    ///     Err(e) if e.twilio_code() == Some(21211) => println!("Twilio says the number is invalid"),
    ///     Err(e) => println!("SMS failed: {e}"),
    /// }
    /// # }
    /// ```
    #[tracing::instrument(
        name = "twilio_sms",
        skip_all,
        fields(user_id = %code.user().id)
    )]
    pub async fn send_login_sms(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<SentMessage, TwilioError> {
        let user = code.user();
        let to = user
            .phone
            .as_deref()
            .ok_or_else(|| TwilioError::NoPhoneNumber {
                user_id: user.id.clone(),
            })?;
        if !is_e164(to) {
            return Err(TwilioError::InvalidPhoneNumber {
                user_id: user.id.clone(),
                number: to.to_owned(),
            });
        }
        let body = self.render_message(code, secure, host)?;
        self.post_message(to, &body).await
    }

    /// The Account resource's URL, `{api_base}/2010-04-01/Accounts/{sid}.json`.
    pub fn account_url(&self) -> String {
        let messages = self.inner.messages_url.as_str();
        format!(
            "{}.json",
            messages.strip_suffix("/Messages.json").unwrap_or(messages)
        )
    }

    /// Fetches the Account resource (`GET .../Accounts/{sid}.json`, one request, no retry,
    /// within the sender's timeouts): Twilio answers 200 when it is reachable and accepts the
    /// credentials. Sends no SMS; Twilio does not charge for the read. This is the sender's
    /// [`LoginCodeSender::health`].
    ///
    /// ```no_run
    /// # async fn demo(sms: nopassword_twilio::TwilioSender) -> Result<(), nopassword_twilio::TwilioError> {
    /// sms.check_account().await?; // e.g. a 401 (code 20003) for a wrong auth token
    /// # Ok(()) }
    /// ```
    pub async fn check_account(&self) -> Result<(), TwilioError> {
        let inner = &*self.inner;
        let answer = inner
            .client
            .get(self.account_url())
            .basic_auth(&inner.account_sid, Some(inner.auth_token.expose()))
            .send()
            .await;
        let response = answer.map_err(|e| TwilioError::Transport {
            attempts: 1,
            source: e.into(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(api_error(status, response, 1).await)
    }

    async fn post_message(&self, to: &str, body: &str) -> Result<SentMessage, TwilioError> {
        let inner = &*self.inner;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let may_retry = attempts <= inner.retry.max_retries;
            let answer = inner
                .client
                .post(inner.messages_url.clone())
                // reqwest marks this header sensitive: it never shows in a Debug of the request.
                .basic_auth(&inner.account_sid, Some(inner.auth_token.expose()))
                .form(&[("To", to), ("From", &inner.from_number), ("Body", body)])
                .send()
                .await;
            let response = match answer {
                Ok(response) => response,
                // Nothing reached Twilio, so trying again cannot send the SMS twice (a timeout
                // after sending might have).
                Err(e) if e.is_connect() && may_retry => {
                    let delay = inner.retry.backoff(attempts - 1);
                    tracing::warn!(attempt = attempts, ?delay, error = %e, "could not connect to Twilio; retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(attempts, error = %e, "could not reach Twilio");
                    return Err(TwilioError::Transport {
                        attempts,
                        source: e.into(),
                    });
                }
            };
            let status = response.status();
            if status.is_success() {
                let sid = read_body(response)
                    .await
                    .and_then(|b| serde_json::from_slice::<MessageResource>(&b).ok())
                    .and_then(|m| m.sid);
                tracing::info!(
                    message_sid = sid.as_deref().unwrap_or("unknown"),
                    status = status.as_u16(),
                    attempts,
                    "login SMS accepted by Twilio"
                );
                return Ok(SentMessage { sid, attempts });
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let error = api_error(status, response, attempts).await;
            if is_retryable_status(status.as_u16()) && may_retry {
                let delay = inner.retry.delay(attempts - 1, retry_after);
                tracing::warn!(
                    status = status.as_u16(),
                    twilio_code = error.twilio_code(),
                    attempt = attempts,
                    ?delay,
                    "Twilio refused the SMS for now; retrying"
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            tracing::warn!(
                status = status.as_u16(),
                twilio_code = error.twilio_code(),
                attempts,
                "Twilio refused the SMS"
            );
            return Err(error);
        }
    }
}

#[async_trait]
impl LoginCodeSender for TwilioSender {
    async fn send_login_code(
        &self,
        code: &LoginCode,
        secure: bool,
        host: Option<&str>,
    ) -> Result<(), SendError> {
        self.send_login_sms(code, secure, host)
            .await
            .map(drop)
            .map_err(|error| {
                if error.is_unreachable_user() {
                    SendError::unreachable_recipient(error)
                } else {
                    SendError::new(error)
                }
            })
    }

    fn channel(&self) -> &'static str {
        "sms"
    }

    /// [`TwilioSender::check_account`].
    async fn health(&self) -> Result<(), SendError> {
        self.check_account().await.map_err(SendError::new)
    }
}

/// Options for a [`TwilioSender`]; from [`TwilioSender::builder`] or
/// [`TwilioSender::builder_from_settings`].
///
/// ```
/// use std::time::Duration;
/// use nopassword_twilio::{RetryPolicy, TwilioSender};
///
/// let sms = TwilioSender::builder("AC00000000000000000000000000000000", "token", "+15005550006")
///     .api_base("http://127.0.0.1:4010")
///     .connect_timeout(Duration::from_secs(2))
///     .timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy::none())
///     .template_dir("templates")
///     .build()?;
/// # Ok::<_, nopassword_twilio::TwilioError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TwilioSenderBuilder {
    account_sid: String,
    auth_token: SecretString,
    from_number: String,
    api_base: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    template_dir: Option<PathBuf>,
    default_locale: Locale,
}

impl TwilioSenderBuilder {
    /// The language of a code whose own locale the catalog lacks (`default_locale`; from the
    /// settings with [`TwilioSender::builder_from_settings`]). Default `en`.
    ///
    /// ```
    /// let sms = nopassword_twilio::TwilioSender::builder("AC1", "t", "+15005550006")
    ///     .default_locale("es".parse()?)
    ///     .build()?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn default_locale(mut self, locale: Locale) -> Self {
        self.default_locale = locale;
        self
    }

    /// Where Twilio's API is reached (`twilio_api_base`): an `http://` or `https://` URL,
    /// optionally with a path prefix. A local mock in tests.
    ///
    /// ```
    /// let sms = nopassword_twilio::TwilioSender::builder("AC1", "t", "+15005550006")
    ///     .api_base("http://127.0.0.1:4010/twilio/")
    ///     .build()?;
    /// assert_eq!(sms.messages_url(), "http://127.0.0.1:4010/twilio/2010-04-01/Accounts/AC1/Messages.json");
    /// # Ok::<_, nopassword_twilio::TwilioError>(())
    /// ```
    pub fn api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into();
        self
    }

    /// How long connecting may take. Default 5 s.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = nopassword_twilio::TwilioSender::builder("AC1", "t", "+15005550006")
    ///     .connect_timeout(Duration::from_secs(1));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, connecting included, until the whole answer is in.
    /// Retries get this again each. Default 10 s.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = nopassword_twilio::TwilioSender::builder("AC1", "t", "+15005550006")
    ///     .timeout(Duration::from_secs(3));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When and how often to retry. Default [`RetryPolicy::default`].
    ///
    /// ```
    /// use nopassword_twilio::{RetryPolicy, TwilioSender};
    ///
    /// let builder = TwilioSender::builder("AC1", "t", "+15005550006").retry_policy(RetryPolicy::none());
    /// ```
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A directory whose `login_sms.txt`, when present, replaces the built-in template
    /// (overrides `template_dir` from the settings).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("nopassword-twilio-doc-template");
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("login_sms.txt"), "Your code: {{ code }}")?;
    /// let sms = nopassword_twilio::TwilioSender::builder("AC1", "t", "+15005550006")
    ///     .template_dir(&dir)
    ///     .build()?;
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn template_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.template_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Checks everything and builds the sender: the SID, the `From` number (E.164), the API
    /// base, and the template (loaded and rendered once, so a broken one is a start-up error
    /// naming its file).
    ///
    /// ```
    /// use nopassword_twilio::{TwilioError, TwilioSender};
    ///
    /// let err = TwilioSender::builder("AC1", "t", "555-0100").build().unwrap_err();
    /// assert!(matches!(err, TwilioError::InvalidSetting { key: "default_from_number", .. }));
    /// ```
    pub fn build(self) -> Result<TwilioSender, TwilioError> {
        if self.account_sid.is_empty()
            || !self.account_sid.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TwilioError::InvalidSetting {
                key: "twilio_sid",
                value: self.account_sid,
                accepted: "an account SID of ASCII letters and digits, like AC followed by 32 hex digits",
            });
        }
        if self.auth_token.is_empty() {
            return Err(TwilioError::MissingSetting {
                key: "twilio_auth_token",
            });
        }
        if !is_e164(&self.from_number) {
            return Err(TwilioError::InvalidSetting {
                key: "default_from_number",
                value: self.from_number,
                accepted: "a phone number in E.164 form, like +14155550100",
            });
        }
        let messages_url = messages_url(&self.api_base, &self.account_sid).ok_or_else(|| {
            TwilioError::InvalidSetting {
                key: "twilio_api_base",
                value: self.api_base.clone(),
                accepted: "an http:// or https:// URL without query or fragment, like https://api.twilio.com",
            }
        })?;
        if messages_url.scheme() == "https"
            && !cfg!(any(feature = "rustls", feature = "rustls-native-roots"))
        {
            return Err(TwilioError::InvalidSetting {
                key: "twilio_api_base",
                value: self.api_base.clone(),
                accepted: "an http:// URL: nopassword-twilio was built without TLS (enable its `rustls` feature for https://)",
            });
        }
        if messages_url.scheme() == "http" && !is_loopback(&messages_url) {
            tracing::warn!(
                api_base = %self.api_base,
                "twilio_api_base is plain http on a non-local host: the auth token travels unencrypted"
            );
        }
        let template = SmsTemplate::load(self.template_dir.as_deref(), &self.default_locale)?;
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            // Twilio's API does not redirect; following one could send the form elsewhere.
            .redirect(redirect::Policy::none())
            .user_agent(concat!("nopassword-twilio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Transport {
                attempts: 0,
                source: e.into(),
            })?;
        Ok(TwilioSender {
            inner: Arc::new(Inner {
                client,
                messages_url,
                account_sid: self.account_sid,
                auth_token: self.auth_token,
                from_number: self.from_number,
                template,
                retry: self.retry,
            }),
        })
    }
}

fn messages_url(api_base: &str, account_sid: &str) -> Option<Url> {
    let base = Url::parse(api_base).ok()?;
    if !matches!(base.scheme(), "http" | "https")
        || base.query().is_some()
        || base.fragment().is_some()
        || !base.username().is_empty()
        || base.password().is_some()
    {
        return None;
    }
    let prefix = base.as_str().trim_end_matches('/');
    Url::parse(&format!(
        "{prefix}/2010-04-01/Accounts/{account_sid}/Messages.json"
    ))
    .ok()
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The fields of Twilio's Message resource that are used.
#[derive(Deserialize)]
struct MessageResource {
    sid: Option<String>,
}

/// Twilio's error answer: `{"code", "message", "more_info", "status"}`.
#[derive(Deserialize)]
struct ApiErrorBody {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
}

/// At most [`MAX_BODY`] bytes of an answer; `None` if it broke off.
async fn read_body(mut response: Response) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        let room = MAX_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_BODY {
            break;
        }
    }
    Some(body)
}

async fn api_error(status: StatusCode, response: Response, attempts: u32) -> TwilioError {
    // Only Twilio's own fields are kept: a non-JSON body (a proxy's page) is dropped rather
    // than copied into errors and logs.
    let parsed = read_body(response)
        .await
        .and_then(|b| serde_json::from_slice::<ApiErrorBody>(&b).ok());
    let reason = || status.canonical_reason().unwrap_or("error").to_owned();
    match parsed {
        Some(body) => TwilioError::Api {
            status: status.as_u16(),
            code: body.code,
            message: body.message.unwrap_or_else(reason),
            more_info: body.more_info,
            attempts,
        },
        None => TwilioError::Api {
            status: status.as_u16(),
            code: None,
            message: reason(),
            more_info: None,
            attempts,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_urls() {
        let url = |base| messages_url(base, "AC1").map(String::from);
        assert_eq!(
            url("https://api.twilio.com").as_deref(),
            Some("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
        );
        assert_eq!(
            url("http://127.0.0.1:4010/").as_deref(),
            Some("http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json")
        );
        assert_eq!(
            url("http://[::1]:4010/mock").as_deref(),
            Some("http://[::1]:4010/mock/2010-04-01/Accounts/AC1/Messages.json")
        );
        for bad in [
            "api.twilio.com",
            "ftp://api.twilio.com",
            "https://api.twilio.com/?x=1",
            "https://api.twilio.com/#f",
            "https://user:pass@api.twilio.com",
            "",
        ] {
            assert_eq!(url(bad), None, "{bad}");
        }
    }

    #[test]
    fn sid_must_be_a_path_segment() {
        for sid in ["", "AC1/../x", "AC 1", "AC1?x"] {
            let err = TwilioSender::builder(sid, "t", "+15005550006")
                .build()
                .expect_err(sid);
            assert!(
                matches!(
                    err,
                    TwilioError::InvalidSetting {
                        key: "twilio_sid",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn loopback_hosts() {
        let local = |u: &str| is_loopback(&Url::parse(u).expect("url"));
        assert!(local("http://localhost:1"));
        assert!(local("http://127.0.0.2:1"));
        assert!(local("http://[::1]:1"));
        assert!(!local("http://api.twilio.com"));
        assert!(!local("http://10.0.0.1"));
    }
}
