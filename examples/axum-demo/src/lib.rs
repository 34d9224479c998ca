//! The nopassword-rs demo login site, as a library so tests and benchmarks build the same app
//! the binary serves.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = axum_demo::DemoConfig::from_env()?;
//! let demo = axum_demo::Demo::build(config.settings, config.users)?;
//! let listener = tokio::net::TcpListener::bind(config.bind).await?;
//! axum_demo::serve(listener, demo.app).await?;
//! # Ok(()) }
//! ```

mod sessions;

use std::{fmt::Write as _, net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    Json, Router,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use figment::{
    Figment,
    providers::{Format, Toml},
};
use nopassword_axum::{CurrentUser, MaybeUser, login_layer, router};
use nopassword_core::{
    AllSenders, CodeRng, CodeStore, LoginCodeSender, MemoryDirectory, NoPassword, Outbox,
    SecretString, Settings, SystemRng, User,
};
use serde::Deserialize;
use serde_json::json;
pub use sessions::RedisSessions;

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Settings were invalid.
    #[error(transparent)]
    Settings(#[from] nopassword_core::SettingsError),
    /// The service could not be built.
    #[error(transparent)]
    Service(#[from] nopassword_core::Error),
    /// A page template did not parse.
    #[error(transparent)]
    Template(#[from] nopassword_axum::TemplateError),
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
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// What the demo reads from its environment.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// nopassword settings (`nopassword.toml`, `NOPASSWORD_*`), with a generated `secret_key`
    /// when none was given.
    pub settings: Settings,
    /// `NOPASSWORD_BIND`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// `NOPASSWORD_USERS_FILE` (`[[users]]` with username, email, phone, active), or the
    /// built-in demo users.
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
struct UserEntry {
    #[serde(default)]
    id: Option<String>,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

/// The built-in users: alice (e-mail and phone), bob (e-mail), carol (an address as username),
/// and dave, who is inactive and so never gets a code.
pub fn demo_users() -> Vec<User> {
    vec![
        User::new("1", "alice")
            .with_email("alice@example.com")
            .with_phone("+15005550006"),
        User::new("2", "bob").with_email("bob@example.com"),
        User::new("3", "carol+test@example.com").with_email("carol+test@example.com"),
        User::new("4", "dave")
            .with_email("dave@example.com")
            .inactive(),
    ]
}

impl DemoConfig {
    /// Reads the settings and the demo's own variables.
    pub fn from_env() -> Result<Self, DemoError> {
        let mut settings = Settings::load()?;
        if settings.secret_key.is_none() {
            let mut key = [0u8; 32];
            SystemRng.fill_bytes(&mut key);
            let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
            tracing::warn!(
                "NOPASSWORD_SECRET_KEY is not set: generated a key for this run; \
                 codes and sessions end when the demo stops"
            );
            settings.secret_key = Some(SecretString::new(key));
        }
        let bind = std::env::var("NOPASSWORD_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
        let bind = bind.parse().map_err(|_| DemoError::Bind(bind))?;
        let users = match std::env::var_os("NOPASSWORD_USERS_FILE") {
            Some(path) => read_users(PathBuf::from(path))?,
            None => demo_users(),
        };
        Ok(Self {
            settings,
            bind,
            users,
        })
    }
}

fn read_users(path: PathBuf) -> Result<Vec<User>, DemoError> {
    let file: UsersFile = Figment::from(Toml::file_exact(path))
        .extract()
        .map_err(Box::new)?;
    Ok(file
        .users
        .into_iter()
        .enumerate()
        .map(|(i, u)| User {
            id: u.id.unwrap_or_else(|| (i + 1).to_string()),
            username: u.username,
            email: u.email,
            phone: u.phone,
            active: u.active,
        })
        .collect())
}

/// The assembled demo.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The whole site.
    pub app: Router,
    /// The service behind it.
    pub service: NoPassword<User>,
    /// The development outbox the `/outbox` page shows.
    pub outbox: Outbox,
}

impl Demo {
    /// The demo with the senders its settings configure: real e-mail when `smtp_url` is set,
    /// else the development outbox (printing to the terminal and shown at `/outbox`); plus SMS
    /// through Twilio when `twilio_sid` is set (for users with a phone number).
    pub fn build(settings: Settings, users: Vec<User>) -> Result<Self, DemoError> {
        let outbox = Outbox::new(50);
        let senders = configured_senders(&settings, &outbox)?;
        Self::assemble(settings, users, outbox, Some(Arc::new(senders)), None, None)
    }

    /// [`Demo::build`], plus Redis when `redis_url` is set: codes in a
    /// [`RedisStore`](nopassword_store::RedisStore) and sessions in [`RedisSessions`], so several
    /// instances sharing one Redis and one `secret_key` accept each other's codes and logins.
    pub async fn connect(settings: Settings, users: Vec<User>) -> Result<Self, DemoError> {
        let Some(url) = settings.redis_url.clone() else {
            return Self::build(settings, users);
        };
        let store = nopassword_store::RedisStore::from_settings(&settings).await?;
        let sessions = RedisSessions::connect(url.expose(), &settings.namespace).await?;
        tracing::info!(
            endpoints = store.endpoints(),
            "codes and sessions live in Redis"
        );
        let outbox = Outbox::new(50);
        let senders = configured_senders(&settings, &outbox)?;
        Self::assemble(
            settings,
            users,
            outbox,
            Some(Arc::new(senders)),
            Some(Arc::new(store)),
            Some(sessions),
        )
    }

    /// The demo with a given outbox, and optionally another sender used instead of it (a
    /// benchmark's null sender, say).
    pub fn build_with(
        settings: Settings,
        users: Vec<User>,
        outbox: Outbox,
        sender: Option<Arc<dyn LoginCodeSender>>,
    ) -> Result<Self, DemoError> {
        Self::assemble(settings, users, outbox, sender, None, None)
    }

    fn assemble(
        settings: Settings,
        users: Vec<User>,
        outbox: Outbox,
        sender: Option<Arc<dyn LoginCodeSender>>,
        store: Option<Arc<dyn CodeStore>>,
        sessions: Option<RedisSessions>,
    ) -> Result<Self, DemoError> {
        let sender = sender.unwrap_or_else(|| Arc::new(AllSenders::new().with(outbox.clone())));
        let mut builder =
            NoPassword::builder(settings, MemoryDirectory::new(users)).shared_sender(sender);
        if let Some(store) = store {
            builder = builder.shared_store(store);
        }
        let service = builder.build()?;
        let mount = service.settings().mount_path.clone();
        let outbox_page = outbox.clone();
        let outbox_json = outbox.clone();
        let app = Router::new()
            .route("/", get(move |user| home(user, mount.clone())))
            .route("/whoami", get(whoami))
            .route("/outbox", get(move || outbox_html(outbox_page.clone())))
            .route(
                "/outbox.json",
                get(move || outbox_list(outbox_json.clone())),
            )
            .merge(router(service.clone())?);
        let app = match sessions {
            Some(sessions) => app.layer(login_layer(&service, sessions)),
            None => app.layer(login_layer(
                &service,
                tower_sessions::MemoryStore::default(),
            )),
        };
        Ok(Self {
            app,
            service,
            outbox,
        })
    }
}

/// Every sender the settings ask for, composed with [`AllSenders`] (a code goes out when at
/// least one delivers).
fn configured_senders(settings: &Settings, outbox: &Outbox) -> Result<AllSenders, DemoError> {
    let mut senders = AllSenders::new();
    if settings.smtp_url.is_some() {
        senders = senders.with(nopassword_email::EmailSender::from_settings(settings)?);
        tracing::info!("login codes go by e-mail through smtp_url");
    } else {
        senders = senders.with(outbox.clone());
    }
    if settings.twilio_sid.is_some() {
        let sms = nopassword_twilio::TwilioSender::from_settings(settings)?;
        tracing::info!(
            api = sms.messages_url(),
            "login codes also go by SMS through Twilio"
        );
        senders = senders.with(sms);
    }
    Ok(senders)
}

/// Serves `app` with client addresses (for rate limits) until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>";

async fn home(MaybeUser(user): MaybeUser<User>, mount: String) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<p id=\"status\">Logged in as <strong id=\"username\">{}</strong>.</p>\
             <p><a href=\"{mount}/logout/\">Log out</a></p>",
            escape(&user.username)
        ),
        None => format!(
            "<p id=\"status\">Not logged in.</p><p><a href=\"{mount}/login/\">Log in</a></p>"
        ),
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nopassword demo</title>{STYLE}</head>\
         <body><h1>nopassword-rs demo</h1>{body}<p><a href=\"/outbox\">Development outbox</a></p></body></html>"
    ))
}

async fn whoami(user: Result<CurrentUser<User>, Response>) -> Response {
    match user {
        Ok(CurrentUser(user)) => Json(json!({ "username": user.username })).into_response(),
        Err(_) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "detail": "Not logged in." })),
        )
            .into_response(),
    }
}

async fn outbox_html(outbox: Outbox) -> Response {
    let mut rows = String::new();
    for m in outbox.messages() {
        let _ = write!(
            rows,
            "<li><strong>{}</strong> ({}): <a class=\"login-link\" href=\"{}\">{}</a> code <code>{}</code></li>",
            escape(&m.username),
            escape(&m.to),
            escape(&m.url),
            escape(&m.url),
            escape(m.code.expose()),
        );
    }
    if rows.is_empty() {
        rows.push_str("<li>No messages yet.</li>");
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outbox</title>{STYLE}</head>\
         <body><h1>Development outbox</h1><p>Login messages sent by this demo, newest first.</p><ul id=\"messages\">{rows}</ul>\
         <p><a href=\"/\">Home</a></p></body></html>"
    );
    (
        [
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
        ],
        Html(page),
    )
        .into_response()
}

async fn outbox_list(outbox: Outbox) -> Response {
    let list: Vec<_> = outbox
        .messages()
        .into_iter()
        .map(|m| json!({ "username": m.username, "to": m.to, "url": m.url, "code": m.code.expose() }))
        .collect();
    ([("cache-control", "no-store")], Json(list)).into_response()
}
