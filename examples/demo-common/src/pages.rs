//! The demo's own pages, as strings and JSON values each framework wraps in its response type.

use std::fmt::Write as _;

use nopassword_core::{Outbox, user::User};
use serde_json::{Value, json};

/// Headers of the outbox page and its JSON: it shows live login codes, so nothing may cache
/// it or leak it in a `Referer`.
pub const OUTBOX_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
];

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>";

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

/// The home page `/`: who is logged in (`user`), with a link to log in or out under
/// `mount_path`, and one to the outbox when it is served (see
/// [`outbox_served`](crate::outbox_served)).
pub fn home_html(user: Option<&User>, mount_path: &str, outbox: bool) -> String {
    let mount = escape(mount_path);
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
    let outbox = if outbox {
        "<p><a href=\"/outbox\">Development outbox</a></p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nopassword demo</title>{STYLE}</head>\
         <body><h1>nopassword-rs demo</h1>{body}{outbox}</body></html>"
    )
}

/// The outbox page `/outbox`: the login messages the demo sent, newest first, each with its
/// link (class `login-link`) and code. Serve it with [`OUTBOX_HEADERS`].
pub fn outbox_html(outbox: &Outbox) -> String {
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
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outbox</title>{STYLE}</head>\
         <body><h1>Development outbox</h1><p>Login messages sent by this demo, newest first.</p><ul id=\"messages\">{rows}</ul>\
         <p><a href=\"/\">Home</a></p></body></html>"
    )
}

/// `/outbox.json`: the same messages as `[{"username", "to", "url", "code"}]`, newest first.
/// Serve it with [`OUTBOX_HEADERS`].
pub fn outbox_json(outbox: &Outbox) -> Value {
    outbox
        .messages()
        .into_iter()
        .map(|m| json!({ "username": m.username, "to": m.to, "url": m.url, "code": m.code.expose() }))
        .collect()
}

/// `/whoami` for a logged-in `user`: `{"username": "..."}`.
pub fn whoami_json(user: &User) -> Value {
    json!({ "username": user.username })
}

/// `/whoami` without a login, served with 401: `{"detail": "Not logged in."}`.
pub fn not_logged_in_json() -> Value {
    json!({ "detail": "Not logged in." })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_page_escapes_the_username() {
        let user = User::new("9", "<script>&\"'");
        let page = home_html(Some(&user), "/accounts", true);
        assert!(page.contains("&lt;script&gt;&amp;&quot;&#x27;"), "{page}");
        assert!(!page.contains("<script>"));
        assert!(page.contains("href=\"/outbox\""));
        let page = home_html(None, "/accounts", false);
        assert!(page.contains("Not logged in."));
        assert!(page.contains("href=\"/accounts/login/\""));
        assert!(
            !page.contains("/outbox"),
            "no outbox link when it is not served"
        );
    }

    #[test]
    fn an_empty_outbox_says_so() {
        let outbox = Outbox::new(10).quiet();
        assert!(outbox_html(&outbox).contains("<li>No messages yet.</li>"));
        assert_eq!(outbox_json(&outbox), json!([]));
    }
}
