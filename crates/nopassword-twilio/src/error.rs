//! `TwilioError`: everything that can go wrong between the settings and Twilio's answer.

use nopassword_core::error::BoxError;

/// Why a [`TwilioSender`](crate::TwilioSender) could not be built or a message not sent.
///
/// No variant carries the auth token, and neither `Display` nor `Debug` can print it. The
/// ones from building ([`MissingSetting`](Self::MissingSetting),
/// [`InvalidSetting`](Self::InvalidSetting), [`Template`](Self::Template)) are start-up
/// errors; the others come from one send. Behind a
/// [`SendError`](nopassword_core::SendError) find it with `downcast_ref::<TwilioError>()`.
///
/// ```
/// use nopassword_core::Settings;
/// use nopassword_twilio::{TwilioError, TwilioSender};
///
/// let err = TwilioSender::from_settings(&Settings::default(), &Default::default()).unwrap_err();
/// assert!(matches!(err, TwilioError::MissingSetting { key: "twilio_sid" }));
/// assert!(err.to_string().contains("NOPASSWORD_TWILIO_SID"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TwilioError {
    /// A setting the sender needs is not set.
    #[error(
        "missing setting `{key}`: set it in nopassword.toml or as NOPASSWORD_{env}",
        env = key.to_ascii_uppercase()
    )]
    MissingSetting {
        /// The settings key: `twilio_sid`, `twilio_auth_token` or `default_from_number`.
        key: &'static str,
    },
    /// A setting or builder value is not usable.
    #[error("invalid setting `{key}` = {value:?}: expected {accepted}")]
    InvalidSetting {
        /// The settings key (`twilio_sid`, `default_from_number`, `twilio_api_base`, ...).
        key: &'static str,
        /// The refused value (never a secret's value).
        value: String,
        /// What the key accepts.
        accepted: &'static str,
    },
    /// The SMS template could not be read, compiled or rendered.
    #[error("SMS template {file}: {source}")]
    Template {
        /// The template file: the path of an override, or the built-in's name.
        file: String,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
    /// The user has no phone number: there is nobody to text. Returned before any request,
    /// so a sender that combines e-mail and SMS can go on with the e-mail.
    #[error("user {user_id} has no phone number")]
    NoPhoneNumber {
        /// The user's id.
        user_id: String,
    },
    /// The user's phone number is not in E.164 form (`+` and 2 to 15 digits, the first not
    /// 0). Returned before any request.
    // The number itself stays out of the message: messages end up in logs.
    #[error("phone number of user {user_id} is not E.164 (like +14155550100)")]
    InvalidPhoneNumber {
        /// The user's id.
        user_id: String,
        /// The refused number.
        number: String,
    },
    /// Twilio (or whatever answered at the API base) refused the message with a non-2xx
    /// status, after the retries the [`RetryPolicy`](crate::RetryPolicy) allows for 429 and
    /// 5xx.
    #[error(
        "Twilio answered HTTP {status}{}: {message} (after {attempts} attempt{})",
        code.map(|c| format!(", error {c}")).unwrap_or_default(),
        if *attempts == 1 { "" } else { "s" }
    )]
    Api {
        /// The HTTP status.
        status: u16,
        /// Twilio's error code (`21211`: invalid `To` number, `20003`: authentication
        /// failed, `20429`: too many requests, ...), when the answer was Twilio's error JSON.
        code: Option<u32>,
        /// Twilio's message, or the status's reason when the answer was not Twilio's JSON.
        message: String,
        /// Twilio's link to the error's documentation.
        more_info: Option<String>,
        /// Requests made, retries included.
        attempts: u32,
    },
    /// The request did not get an answer: connection refused, TLS failure, timeout.
    #[error("could not reach Twilio (after {attempts} attempt{}): {source}",
        if *attempts == 1 { "" } else { "s" })]
    Transport {
        /// Requests made, retries included.
        attempts: u32,
        /// The HTTP client's error (it names the URL, which holds the account SID but never
        /// the token).
        #[source]
        source: BoxError,
    },
}

impl TwilioError {
    /// Twilio's error code, for [`Api`](Self::Api) errors that carried one.
    ///
    /// ```
    /// use nopassword_twilio::TwilioError;
    ///
    /// let err = TwilioError::NoPhoneNumber { user_id: "7".into() };
    /// assert_eq!(err.twilio_code(), None);
    /// ```
    pub fn twilio_code(&self) -> Option<u32> {
        match self {
            Self::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status of an [`Api`](Self::Api) error.
    ///
    /// ```
    /// use nopassword_twilio::TwilioError;
    ///
    /// let err = TwilioError::NoPhoneNumber { user_id: "7".into() };
    /// assert_eq!(err.http_status(), None);
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the user simply cannot get an SMS ([`NoPhoneNumber`](Self::NoPhoneNumber) or
    /// [`InvalidPhoneNumber`](Self::InvalidPhoneNumber)): a fact about the user, not an
    /// outage, and no request was made.
    ///
    /// ```
    /// use nopassword_twilio::TwilioError;
    ///
    /// assert!(TwilioError::NoPhoneNumber { user_id: "7".into() }.is_unreachable_user());
    /// ```
    pub fn is_unreachable_user(&self) -> bool {
        matches!(
            self,
            Self::NoPhoneNumber { .. } | Self::InvalidPhoneNumber { .. }
        )
    }
}
