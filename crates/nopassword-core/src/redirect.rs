//! Validation of the `next` parameter: only same-site paths are ever followed.

/// The longest `next` kept; longer values are dropped.
pub const MAX_NEXT_LENGTH: usize = 2048;

/// Returns `next` when it is a safe same-site path, `None` otherwise.
///
/// Safe means: it starts with a single `/` (not `//` nor `/\`), it is printable ASCII with no
/// space, backslash or control character (browsers strip tabs and newlines and read `\` as `/`,
/// which turns `/\t/evil.com` into `//evil.com`), its path has no percent-encoded slash,
/// backslash or control character, and it is at most [`MAX_NEXT_LENGTH`] bytes. Absolute URLs
/// are refused even when they name this site: a path says the same without the risk.
///
/// ```
/// use nopassword_core::safe_next;
///
/// assert_eq!(safe_next("/dashboard?tab=1#top"), Some("/dashboard?tab=1#top"));
/// assert_eq!(safe_next("//evil.com"), None);
/// assert_eq!(safe_next("https://evil.com/"), None);
/// assert_eq!(safe_next("javascript:alert(1)"), None);
/// ```
pub fn safe_next(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_NEXT_LENGTH || bytes[0] != b'/' {
        return None;
    }
    if matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return None;
    }
    if !bytes
        .iter()
        .all(|&b| (0x21..=0x7e).contains(&b) && b != b'\\')
    {
        return None;
    }
    let path = next.split(['?', '#']).next().unwrap_or(next);
    let lowered = path.to_ascii_lowercase();
    // Encoded `/`, `\`, DEL and every encoded control character (`%00`..`%1f`).
    let encoded_danger = ["%2f", "%5c", "%7f", "%0", "%1"]
        .iter()
        .any(|needle| lowered.contains(needle));
    if encoded_danger {
        return None;
    }
    Some(next)
}

/// Open-redirect payloads from the usual cheat sheets (absolute URLs, scheme-relative and
/// backslash tricks, control characters, encoded slashes, look-alike Unicode, script schemes):
/// [`safe_next`] refuses every one. The adapters' conformance suite replays them through each
/// route that takes a `next`.
///
/// ```
/// use nopassword_core::{OPEN_REDIRECT_PAYLOADS, safe_next};
///
/// assert!(OPEN_REDIRECT_PAYLOADS.iter().all(|p| safe_next(p).is_none()));
/// ```
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
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_redirect_payloads_are_refused() {
        assert!(OPEN_REDIRECT_PAYLOADS.len() >= 30);
        for payload in OPEN_REDIRECT_PAYLOADS {
            assert_eq!(safe_next(payload), None, "{payload:?} was accepted");
        }
        assert_eq!(
            safe_next(&format!("/{}", "a".repeat(MAX_NEXT_LENGTH))),
            None
        );
    }

    #[test]
    fn same_site_paths_are_kept() {
        for path in [
            "/",
            "/dashboard",
            "/accounts/profile/",
            "/a/b?x=1&y=2#frag",
            "/search?q=a%20b",
            "/search?q=a%2Fb",
            "/./page",
            "/~user/",
            "/p?redirect=https://example.com",
        ] {
            assert_eq!(safe_next(path), Some(path), "{path:?} was refused");
        }
    }
}
