//! The service behind a demo: senders and code store from the settings.

use std::sync::Arc;

use nopassword_core::{
    CodeStore, LoginCodeSender, NoPassword, Outbox, Settings,
    sender::AllSenders,
    user::{MemoryDirectory, User},
};

use crate::{DemoError, DemoSettings};

/// Every sender the settings ask for, composed with [`AllSenders`] (a code goes out when at
/// least one delivers): real e-mail when `smtp_url` is set, else the development `outbox`
/// (printing to the terminal and shown at `/outbox`); plus SMS through Twilio when
/// `twilio_sid` is set (for users with a phone number).
pub fn configured_senders(
    settings: &DemoSettings,
    outbox: &Outbox,
) -> Result<AllSenders, DemoError> {
    let mut senders = AllSenders::new();
    if settings.email.smtp_url.is_some() {
        senders = senders.with(nopassword_email::EmailSender::from_settings(
            &settings.core,
            &settings.email,
        )?);
        tracing::info!("login codes go by e-mail through smtp_url");
    } else {
        senders = senders.with(outbox.clone());
    }
    if settings.twilio.twilio_sid.is_some() {
        let sms = nopassword_twilio::TwilioSender::from_settings(&settings.core, &settings.twilio)?;
        tracing::info!(
            api = sms.messages_url(),
            "login codes also go by SMS through Twilio"
        );
        senders = senders.with(sms);
    }
    Ok(senders)
}

/// Whether the demo serves its development outbox (`/outbox`, `/outbox.json`): only while no
/// real sender is configured, since the page shows live login codes.
///
/// ```
/// use demo_common::DemoSettings;
/// use nopassword_email::EmailSettings;
///
/// assert!(demo_common::outbox_served(&DemoSettings::default()));
/// let mut smtp = DemoSettings::default();
/// smtp.email.smtp_url = Some("smtp://127.0.0.1:2525".into());
/// assert!(!demo_common::outbox_served(&smtp));
/// ```
pub fn outbox_served(settings: &DemoSettings) -> bool {
    settings.email.smtp_url.is_none() && settings.twilio.twilio_sid.is_none()
}

/// A [`RedisStore`](nopassword_store::RedisStore) when `redis_url` is set (one node, or a
/// cluster given as several comma-separated URLs), else `None` (the service's in-memory store).
///
/// The connection runs on the async runtime this is awaited on, which must keep running while
/// the store is used.
pub async fn code_store(settings: &DemoSettings) -> Result<Option<Arc<dyn CodeStore>>, DemoError> {
    if settings.redis.redis_url.is_none() {
        return Ok(None);
    }
    let store =
        nopassword_store::RedisStore::from_settings(&settings.core, &settings.redis).await?;
    tracing::info!(
        endpoints = store.endpoints(),
        "login codes and sessions live in Redis"
    );
    Ok(Some(Arc::new(store)))
}

/// The demo's service over `users`: codes go through `sender`, or to `outbox` alone when it is
/// `None`, and live in `store`, or in memory when it is `None`.
pub fn demo_service(
    settings: Settings,
    users: Vec<User>,
    outbox: &Outbox,
    sender: Option<Arc<dyn LoginCodeSender>>,
    store: Option<Arc<dyn CodeStore>>,
) -> Result<NoPassword<User>, DemoError> {
    let sender = sender.unwrap_or_else(|| Arc::new(AllSenders::new().with(outbox.clone())));
    let mut builder =
        NoPassword::builder(settings, MemoryDirectory::new(users)).shared_sender(sender);
    if let Some(store) = store {
        builder = builder.shared_store(store);
    }
    Ok(builder.build()?)
}
