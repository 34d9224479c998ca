//! What a demo site is built from, whatever its web framework: the settings, users, outbox,
//! sender and code store that become its service. Each demo turns [`DemoParts`] into a site
//! with its own routes and sessions.

use std::sync::Arc;

use nopassword_core::{
    CodeStore, LoginCodeSender, NoPassword, Outbox, sender::AllSenders, user::User,
};

use crate::{
    DemoError, DemoPostgres, DemoSettings, code_store, configured_senders, connect_postgres,
    demo_service, outbox_served,
};

/// How many messages a demo's development outbox keeps.
const OUTBOX_SIZE: usize = 50;

/// The framework-free half of a demo site: everything its service is made of. A demo's
/// `Demo::build`, `Demo::connect` and `Demo::from_parts` differ only in how these are chosen.
///
/// ```
/// use demo_common::{DemoParts, demo_users};
/// use nopassword_core::{Outbox, Settings};
///
/// let settings = Settings {
///     secret_key: Some("0123456789abcdef0123456789abcdef".into()),
///     ..Settings::default()
/// };
/// let parts = DemoParts::with_sender(settings, demo_users(), Outbox::new(10).quiet(), None);
/// assert!(parts.outbox_served());
/// let (service, _outbox) = parts.into_service().unwrap();
/// assert_eq!(service.settings().mount_path, "/accounts");
/// ```
#[derive(Clone)]
pub struct DemoParts {
    /// The settings of the service and of its senders and store.
    pub settings: DemoSettings,
    /// Who may log in.
    pub users: Vec<User>,
    /// The development outbox the `/outbox` page shows.
    pub outbox: Outbox,
    /// Where codes go; `None` sends them to [`DemoParts::outbox`] alone.
    pub sender: Option<Arc<dyn LoginCodeSender>>,
    /// Where codes live; `None` keeps them in the service's memory.
    pub store: Option<Arc<dyn CodeStore>>,
    /// With `database_url`: codes, users and sessions in PostgreSQL (then `store` is its
    /// `PgStore` and the users are read from its table).
    pub postgres: Option<DemoPostgres>,
}

impl std::fmt::Debug for DemoParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoParts")
            .field("settings", &self.settings)
            .field("users", &self.users.len())
            .field("sender", &self.sender.is_some())
            .field("store", &self.store.is_some())
            .field("postgres", &self.postgres.is_some())
            .finish_non_exhaustive()
    }
}

impl DemoParts {
    /// The senders the settings configure ([`configured_senders`]: real e-mail when
    /// `smtp_url` is set, else the development outbox; plus SMS through Twilio when
    /// `twilio_sid` is set), codes in memory.
    pub fn configured(
        settings: impl Into<DemoSettings>,
        users: Vec<User>,
    ) -> Result<Self, DemoError> {
        let settings = settings.into();
        let outbox = Outbox::new(OUTBOX_SIZE);
        let senders = configured_senders(&settings, &outbox)?;
        Ok(Self::with_sender(
            settings,
            users,
            outbox,
            Some(Arc::new(senders)),
        ))
    }

    /// [`DemoParts::configured`], with codes in Redis when `redis_url` is set
    /// ([`code_store`]); the demos put their sessions there too
    /// ([`DemoParts::shared_sessions`]).
    ///
    /// The Redis connection runs on the async runtime this is awaited on, which must keep
    /// running while the demo serves.
    pub async fn connected(
        settings: impl Into<DemoSettings>,
        users: Vec<User>,
    ) -> Result<Self, DemoError> {
        let settings = settings.into();
        if let Some(postgres) = connect_postgres(&settings, &users).await? {
            return Ok(Self {
                store: Some(Arc::new(postgres.store.clone())),
                postgres: Some(postgres),
                ..Self::configured(settings, users)?
            });
        }
        let store = code_store(&settings).await?;
        Ok(Self {
            store,
            ..Self::configured(settings, users)?
        })
    }

    /// Where the demo's sessions go with `database_url`: its PostgreSQL sessions table, so
    /// several instances share their logins ([`SessionPg`](crate::SessionPg)).
    pub fn postgres_sessions(&self) -> Option<crate::SessionPg> {
        self.postgres.as_ref().map(crate::SessionPg::new)
    }

    /// Where the demo's sessions go with these parts: the Redis URL (one node, or a cluster as
    /// comma-separated URLs) and the key namespace when `redis_url` is set, so several
    /// instances share their logins; `None` keeps them in memory.
    pub fn shared_sessions(&self) -> Option<(&str, &str)> {
        let url = self.settings.redis.redis_url.as_ref()?;
        Some((url.expose(), &self.settings.core.namespace))
    }

    /// A given outbox, and optionally another sender used instead of it (a benchmark's null
    /// sender, say); codes in memory.
    pub fn with_sender(
        settings: impl Into<DemoSettings>,
        users: Vec<User>,
        outbox: Outbox,
        sender: Option<Arc<dyn LoginCodeSender>>,
    ) -> Self {
        Self {
            settings: settings.into(),
            users,
            outbox,
            sender,
            store: None,
            postgres: None,
        }
    }

    /// Whether the site shows the development outbox at `/outbox`: only while no real sender
    /// is configured ([`outbox_served`]).
    pub fn outbox_served(&self) -> bool {
        outbox_served(&self.settings)
    }

    /// The service over these parts ([`demo_service`]), and the outbox its site shows.
    pub fn into_service(self) -> Result<(NoPassword<User>, Outbox), DemoError> {
        if let Some(postgres) = self.postgres {
            let sender = self
                .sender
                .unwrap_or_else(|| Arc::new(AllSenders::new().with(self.outbox.clone())));
            let service = NoPassword::builder(self.settings.core, postgres.users)
                .shared_sender(sender)
                .store(postgres.store)
                .build()?;
            return Ok((service, self.outbox));
        }
        let service = demo_service(
            self.settings.core,
            self.users,
            &self.outbox,
            self.sender,
            self.store,
        )?;
        Ok((service, self.outbox))
    }
}
