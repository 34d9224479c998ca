//! Why a demo could not start.

use nopassword_core::error::BoxError;

/// Why the demo could not start, whatever its web framework.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Settings were invalid.
    #[error(transparent)]
    Settings(#[from] nopassword_core::SettingsError),
    /// The service could not be built.
    #[error(transparent)]
    Service(#[from] nopassword_core::Error),
    /// A page template did not parse (the web adapter's `TemplateError`; see
    /// [`DemoError::template`]).
    #[error(transparent)]
    Template(BoxError),
    /// `NOPASSWORD_BIND` is not an address.
    #[error("invalid NOPASSWORD_BIND {0:?}: expected an address such as 127.0.0.1:8000")]
    Bind(String),
    /// `NOPASSWORD_USERS_FILE` could not be read.
    #[error("could not read the users file: {0}")]
    Users(#[from] Box<figment::Error>),
    /// The Twilio settings are incomplete or invalid.
    #[error(transparent)]
    Twilio(#[from] nopassword_twilio::TwilioError),
    /// The e-mail settings are invalid.
    #[error(transparent)]
    Email(#[from] nopassword_email::EmailError),
    /// Redis could not be reached.
    #[error(transparent)]
    Redis(#[from] nopassword_store::RedisStoreError),
    /// The Redis session store could not connect.
    #[error("could not connect the session store to Redis: {0}")]
    Sessions(#[from] redis::RedisError),
    /// PostgreSQL (`database_url`) could not be reached, or the store's migrations failed.
    #[error(transparent)]
    Postgres(#[from] nopassword_sqlx::PgStoreError),
    /// The demo's users or sessions table could not be created or filled.
    #[error("could not set up the demo's tables in PostgreSQL: {0}")]
    Database(#[source] nopassword_sqlx::sqlx::Error),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl DemoError {
    /// A web adapter's template error (each adapter has its own type), for `map_err`.
    pub fn template(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Template(Box::new(error))
    }
}
