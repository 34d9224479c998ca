//! Open-redirect payloads: what a `next` parameter must never turn into a redirect. Core's
//! [`safe_next`] refuses each; the HTTP contract ([`contract::security`]) replays them through
//! every route that takes a `next`.
//!
//! [`safe_next`]: nopassword_core::redirect::safe_next
//! [`contract::security`]: crate::contract::security

/// Open-redirect payloads from the usual cheat sheets (absolute URLs, scheme-relative and
/// backslash tricks, control characters, encoded slashes, look-alike Unicode, script schemes):
/// [`safe_next`] refuses every one, and the HTTP contract replays them through each route that
/// takes a `next`.
///
/// ```
/// use nopassword_conformance::redirect::OPEN_REDIRECT_PAYLOADS;
/// use nopassword_core::redirect::safe_next;
///
/// assert!(OPEN_REDIRECT_PAYLOADS.iter().all(|p| safe_next(p).is_none()));
/// ```
///
/// [`safe_next`]: nopassword_core::redirect::safe_next
pub const OPEN_REDIRECT_PAYLOADS: &[&str] = &[
    "https://evil.com",
    "http://evil.com/",
    "HTTPS://EVIL.COM",
    "//evil.com",
    "///evil.com",
    "////evil.com/",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "evil.com",
    "evil.com/path",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "\t//evil.com",
    " //evil.com",
    "/ /evil.com",
    "/%2F/evil.com",
    "/%2f%2fevil.com",
    "/%5Cevil.com",
    "/%09/evil.com",
    "/%0d%0aLocation:%20https://evil.com",
    "/\u{0000}//evil.com",
    "/\u{3000}/evil.com",
    "\u{ff0f}\u{ff0f}evil.com",
    "http:/evil.com",
    "https:evil.com",
    "http:\\\\evil.com",
    "@evil.com",
    "http://localhost@evil.com",
    "https://evil.com#@localhost",
    "//evil.com\\@localhost",
    "/\\\\evil.com",
    "%2F%2Fevil.com",
    "?next=//evil.com",
    "#//evil.com",
    "",
    "/ok\x7f",
    // Dot segments and encoded dots: a browser resolves each to `//evil.com`.
    "/.//evil.com",
    "/x/..//evil.com",
    "/%2e//evil.com",
    "/%2E%2E//evil.com",
    "/./%2e/.//evil.com",
    "/a/b/../..//evil.com",
    "/..//evil.com",
    "/x/%2e%2e//evil.com",
    "/x/.%2E//evil.com",
    "/x/.././/evil.com",
    "/%2e/%2e%2e///evil.com",
    "/.%2f/evil.com",
    "/%%32%66/evil.com",
];

#[cfg(test)]
mod tests {
    use nopassword_core::redirect::safe_next;

    use super::*;

    #[test]
    fn safe_next_refuses_every_payload() {
        assert!(OPEN_REDIRECT_PAYLOADS.len() >= 30);
        for payload in OPEN_REDIRECT_PAYLOADS {
            assert_eq!(safe_next(payload), None, "{payload:?} was accepted");
        }
    }
}
