//! Helpers shared by the suites: login codes, and the real SMTP sink that `cargo xtask test`
//! starts.

// Each suite uses a different subset.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use nopassword_core::{
    Settings,
    code::{LoginCode, Recipient, UrlConfig},
    secret::PlaintextCode,
};

pub(crate) const SMTP_URL_ENV: &str = "NOPASSWORD_TEST_SMTP_URL";
pub(crate) const MAILDIR_ENV: &str = "NOPASSWORD_TEST_SMTP_MAILDIR";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: this test sends mail through a real SMTP server. \
             Run it with `cargo xtask test`, which starts one and sets \
             {SMTP_URL_ENV} and {MAILDIR_ENV}."
        )
    })
}

/// `smtp://127.0.0.1:P` of the sink.
pub(crate) fn smtp_url() -> String {
    required_env(SMTP_URL_ENV)
}

/// Where the sink keeps what it received.
pub(crate) fn maildir() -> PathBuf {
    PathBuf::from(required_env(MAILDIR_ENV))
}

/// A string no other test (in this or another process) uses.
pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A login code for `username` with `email`, as the service would hand it to a sender.
pub(crate) fn login_code(settings: &Settings, username: &str, email: Option<&str>) -> LoginCode {
    let code: String = unique("c")
        .bytes()
        .map(|b| char::from(b'a' + b % 6))
        .collect();
    LoginCode::new(
        Recipient {
            id: "42".into(),
            username: username.into(),
            email: email.map(str::to_owned),
            phone: None,
        },
        PlaintextCode::new(format!("0123{}", &code[..16])),
        None,
        SystemTime::now() + Duration::from_secs(settings.login_code_timeout),
        Duration::from_secs(settings.login_code_timeout),
        Arc::new(UrlConfig::from_settings(settings)),
    )
}

/// One message the sink received.
pub(crate) struct Received {
    pub(crate) mail_from: String,
    pub(crate) rcpt_tos: Vec<String>,
    pub(crate) raw: Vec<u8>,
}

/// Waits (up to 10 s) for the sink to have received a message for `rcpt`.
pub(crate) fn received_for(rcpt: &str) -> Received {
    let dir = maildir();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = find(&dir, rcpt) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "the SMTP sink received no message for {rcpt} in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Panics if the sink has received a message for `rcpt` (call it after the send returned: the
/// sink writes a message before it acknowledges `DATA`).
pub(crate) fn assert_nothing_received_for(rcpt: &str) {
    let dir = maildir();
    assert!(
        find(&dir, rcpt).is_none(),
        "the SMTP sink received a message for {rcpt} in {}",
        dir.display()
    );
}

fn find(dir: &Path, rcpt: &str) -> Option<Received> {
    for entry in std::fs::read_dir(dir)
        .expect("maildir is readable")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json")
            || path.file_name()?.to_str()?.starts_with('.')
        {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).ok()?).expect("sidecar is JSON");
        let rcpt_tos: Vec<String> = meta["rcpt_tos"]
            .as_array()
            .expect("rcpt_tos")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if !rcpt_tos.iter().any(|r| r == rcpt) {
            continue;
        }
        // The sink writes the .json first: the .eml may still be on its way.
        let raw = std::fs::read(path.with_extension("eml")).ok()?;
        return Some(Received {
            mail_from: meta["mail_from"].as_str().expect("mail_from").to_owned(),
            rcpt_tos,
            raw,
        });
    }
    None
}

/// A local port with nothing listening on it.
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// What the tests check in a received login mail.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) subject: String,
    /// `type/subtype` of the top-level part.
    pub(crate) content_type: String,
    /// The `text/plain` part, decoded.
    pub(crate) text: String,
    /// The `text/html` part, decoded.
    pub(crate) html: String,
}

/// Parses a raw message with mail-parser, requiring exactly one real `text/plain` and one
/// `text/html` part (mail-parser would otherwise synthesise one from the other).
pub(crate) fn parse(raw: &[u8]) -> Parsed {
    use mail_parser::{MessageParser, MimeHeaders};

    let message = MessageParser::default()
        .parse(raw)
        .expect("the message parses");
    let kind = |part: &mail_parser::MessagePart<'_>| {
        part.content_type().map(|ct| {
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()
        })
    };
    let part_text = |wanted: &str| {
        let parts: Vec<_> = message
            .parts
            .iter()
            .filter(|p| kind(p).as_deref() == Some(wanted))
            .collect();
        assert_eq!(
            parts.len(),
            1,
            "one {wanted} part in:\n{}",
            String::from_utf8_lossy(raw)
        );
        parts[0].text_contents().expect("a text part").to_owned()
    };
    let first = |a: Option<&mail_parser::Address<'_>>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .expect("an address")
            .to_owned()
    };
    Parsed {
        from: first(message.from()),
        to: first(message.to()),
        subject: message.subject().expect("a subject").to_owned(),
        content_type: kind(message.root_part()).expect("a content type"),
        text: part_text("text/plain"),
        html: part_text("text/html"),
    }
}
