//! `EmailError`: everything that can go wrong between the settings and the SMTP server's answer.

use std::{path::PathBuf, time::Duration};

use nopassword_core::error::BoxError;

/// Why an [`EmailSender`](crate::EmailSender) could not be built or a login mail not sent.
///
/// No variant carries the SMTP password, and neither `Display` nor `Debug` can print it. The
/// ones from building ([`MissingSetting`](Self::MissingSetting),
/// [`InvalidSmtpUrl`](Self::InvalidSmtpUrl), [`InvalidSetting`](Self::InvalidSetting),
/// [`Template`](Self::Template) and a [`File`](Self::File) error for an outbox directory that
/// cannot be created) are start-up errors; the others come from one send. Behind a
/// [`SendError`](nopassword_core::SendError) find it with `downcast_ref::<EmailError>()`.
///
/// ```
/// use nopassword_core::Settings;
/// use nopassword_email::{EmailError, EmailSender};
///
/// let err = EmailSender::from_settings(&Settings::default(), &Default::default()).unwrap_err();
/// assert!(matches!(err, EmailError::MissingSetting { key: "smtp_url" }));
/// assert!(err.to_string().contains("NOPASSWORD_SMTP_URL"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// A setting the sender needs is not set: `smtp_url`, when no file transport was chosen.
    #[error(
        "missing setting `{key}`: set it in nopassword.toml or as NOPASSWORD_{env} \
         (for example smtp://user:password@mail.example.com:587?tls=required), \
         or build the sender with EmailSender::builder(&settings, &email).file_transport(dir)",
        env = key.to_ascii_uppercase()
    )]
    MissingSetting {
        /// The settings key.
        key: &'static str,
    },
    /// `smtp_url` is not a usable SMTP URL. The reason never quotes the URL, which may hold a
    /// password.
    #[error("invalid setting `smtp_url`: {reason}")]
    InvalidSmtpUrl {
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// Another setting cannot be used for mail (`default_from_email` is not an address).
    #[error("invalid setting `{key}` = {value:?}: expected {accepted}")]
    InvalidSetting {
        /// The settings key.
        key: &'static str,
        /// The refused value.
        value: String,
        /// What the key accepts.
        accepted: &'static str,
    },
    /// A template could not be read, compiled or rendered. Building the sender renders both
    /// templates once, so a broken one stops start-up instead of the first login.
    #[error("e-mail template {file}: {source}")]
    Template {
        /// The template file: the path of an override, or `built-in login_email.txt`.
        file: String,
        /// What went wrong (for a template error, with its line).
        #[source]
        source: BoxError,
    },
    /// The user has no e-mail address: there is nobody to mail. Returned before any
    /// connection, so a sender that combines e-mail and SMS can go on with the SMS.
    #[error("user {user_id} has no e-mail address")]
    MissingAddress {
        /// The user's id.
        user_id: String,
    },
    /// The user's e-mail address is not a valid address. Returned before any connection.
    #[error("e-mail address of user {user_id} is not valid: {reason}")]
    InvalidAddress {
        /// The user's id.
        user_id: String,
        /// The refused address.
        address: String,
        /// Why it was refused.
        reason: String,
    },
    /// The message could not be assembled (should not happen with valid addresses).
    #[error("could not build the login e-mail: {source}")]
    Message {
        /// lettre's error.
        #[source]
        source: BoxError,
    },
    /// The SMTP server could not be reached: connection refused, unknown host, network
    /// error, or the connection closed under us.
    #[error("could not reach SMTP server {server}: {source}")]
    Unreachable {
        /// `host:port` (never the credentials).
        server: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The SMTP server answered with a negative reply: 4xx (try again later) or 5xx
    /// (permanent; `550` for an unknown mailbox, `535` for bad credentials).
    #[error("SMTP server {server} answered {code} {message}")]
    Rejected {
        /// `host:port`.
        server: String,
        /// The reply code (`421`, `450`, `550`, ...).
        code: u16,
        /// The server's text after the code (enhanced status code included), lines joined.
        message: String,
    },
    /// The SMTP server did not complete the exchange in time (connecting included).
    #[error("SMTP server {server} did not answer within {after:?}")]
    Timeout {
        /// `host:port`.
        server: String,
        /// The bound that ran out.
        after: Duration,
    },
    /// TLS (STARTTLS or implicit) failed: no STARTTLS offered though required (`tls=required`,
    /// or a bare `smtp://` URL to a host other than the loopback), an invalid certificate, a
    /// handshake failure.
    #[error("TLS with SMTP server {server} failed: {source}")]
    Tls {
        /// `host:port`.
        server: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// Any other SMTP failure: a malformed reply, no common authentication mechanism, an
    /// address the server cannot take (non-ASCII without SMTPUTF8).
    #[error("SMTP exchange with {server} failed: {source}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// lettre's error.
        #[source]
        source: BoxError,
    },
    /// The file transport could not write the `.eml` file, or create its directory.
    #[error("could not write the login e-mail to {}: {source}", dir.display())]
    File {
        /// The outbox directory.
        dir: PathBuf,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl EmailError {
    /// The SMTP reply code of a [`Rejected`](Self::Rejected) error.
    ///
    /// ```
    /// use nopassword_email::EmailError;
    ///
    /// let err = EmailError::Rejected { server: "mx:25".into(), code: 550, message: "5.1.1 Mailbox unavailable".into() };
    /// assert_eq!(err.reply_code(), Some(550));
    /// assert!(!err.is_transient());
    /// ```
    pub fn reply_code(&self) -> Option<u16> {
        match self {
            Self::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether trying again later may work: an unreachable or slow server, or a 4xx reply.
    ///
    /// ```
    /// use std::time::Duration;
    /// use nopassword_email::EmailError;
    ///
    /// assert!(EmailError::Timeout { server: "mx:25".into(), after: Duration::from_secs(10) }.is_transient());
    /// assert!(EmailError::Rejected { server: "mx:25".into(), code: 451, message: "try later".into() }.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } => true,
            Self::Rejected { code, .. } => (400..500).contains(code),
            _ => false,
        }
    }

    /// Whether the user simply cannot get a mail ([`MissingAddress`](Self::MissingAddress)
    /// or [`InvalidAddress`](Self::InvalidAddress)): a fact about the user, not an outage, and
    /// no connection was made.
    ///
    /// ```
    /// use nopassword_email::EmailError;
    ///
    /// assert!(EmailError::MissingAddress { user_id: "7".into() }.is_unreachable_user());
    /// ```
    pub fn is_unreachable_user(&self) -> bool {
        matches!(
            self,
            Self::MissingAddress { .. } | Self::InvalidAddress { .. }
        )
    }
}
