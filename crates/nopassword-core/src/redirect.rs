//! Validation of the `next` parameter: only same-site paths are ever followed.

use std::borrow::Cow;

/// The longest `next` kept; longer values are dropped.
pub const MAX_NEXT_LENGTH: usize = 2048;

/// Returns `next`, normalised, when it is a safe same-site path; `None` otherwise.
///
/// The path (the part before `?` or `#`) is normalised first, as a browser or server would read
/// it: percent-encoded unreserved characters (letters, digits, `-`, `.`, `_`, `~`) are decoded
/// and dot segments are removed (RFC 3986 sections 6.2.2.2 and 5.2.4). The query and fragment
/// are kept as they are. Both the value given and the normalised one must then be safe, so
/// `/.//evil.com` or `/x/..//evil.com`, which a browser resolves to `//evil.com`, are refused.
/// The normalised value is returned, borrowed when normalising changed nothing.
///
/// Safe means: it starts with a single `/` (not `//` nor `/\`), it is printable ASCII with no
/// space, backslash or control character (browsers strip tabs and newlines and read `\` as `/`,
/// which turns `/\t/evil.com` into `//evil.com`), its path has no percent-encoded slash,
/// backslash or control character and no `%` that does not start a percent-encoding, and it is at
/// most [`MAX_NEXT_LENGTH`] bytes. Absolute URLs are refused even when they name this site: a
/// path says the same without the risk.
///
/// ```
/// use std::borrow::Cow;
///
/// use nopassword_core::redirect::safe_next;
///
/// assert_eq!(safe_next("/dashboard?tab=1#top").as_deref(), Some("/dashboard?tab=1#top"));
/// assert!(matches!(safe_next("/dashboard"), Some(Cow::Borrowed(_))));
/// assert_eq!(safe_next("/a/./b/../c?x=/../1").as_deref(), Some("/a/c?x=/../1"));
/// assert_eq!(safe_next("/%7Euser").as_deref(), Some("/~user"));
/// assert_eq!(safe_next("//evil.com"), None);
/// assert_eq!(safe_next("/.//evil.com"), None);
/// assert_eq!(safe_next("/x/..//evil.com"), None);
/// assert_eq!(safe_next("https://evil.com/"), None);
/// assert_eq!(safe_next("javascript:alert(1)"), None);
/// ```
pub fn safe_next(next: &str) -> Option<Cow<'_, str>> {
    if !is_safe(next) {
        return None;
    }
    let split = next.find(['?', '#']).unwrap_or(next.len());
    let (path, rest) = next.split_at(split);
    let path = remove_dot_segments(&decode_unreserved(path));
    if path == next[..split] {
        return Some(Cow::Borrowed(next));
    }
    let normalised = path + rest;
    is_safe(&normalised).then_some(Cow::Owned(normalised))
}

/// The checks [`safe_next`] makes of the value given and of the normalised value.
fn is_safe(next: &str) -> bool {
    let bytes = next.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_NEXT_LENGTH || bytes[0] != b'/' {
        return false;
    }
    if matches!(bytes.get(1), Some(b'/' | b'\\')) {
        return false;
    }
    if !bytes
        .iter()
        .all(|&b| (0x21..=0x7e).contains(&b) && b != b'\\')
    {
        return false;
    }
    let path = next.split(['?', '#']).next().unwrap_or(next);
    // A `%` must start a percent-encoding: a stray one could pair with decoded characters into
    // a new encoding (`/%%34%31` would become `/%41`), so normalising twice would differ.
    let path_bytes = path.as_bytes();
    let malformed = path_bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !(path_bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && path_bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if malformed {
        return false;
    }
    let lowered = path.to_ascii_lowercase();
    // Encoded `/`, `\`, DEL and every encoded control character (`%00`..`%1f`).
    let encoded_danger = ["%2f", "%5c", "%7f", "%0", "%1"]
        .iter()
        .any(|needle| lowered.contains(needle));
    !encoded_danger
}

/// `path` with every percent-encoded unreserved character (RFC 3986 section 2.3) decoded;
/// other percent-encodings are kept as they are.
fn decode_unreserved(path: &str) -> Cow<'_, str> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            let decoded = hi << 4 | lo;
            if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(decoded));
            } else {
                out.push_str(&path[i..i + 3]);
            }
            i += 3;
        } else {
            // `path` is ASCII here (checked by `is_safe`), so every byte is a character.
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// RFC 3986 section 5.2.4 "Remove Dot Segments", for a path that starts with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            // A: a leading `../` or `./` is dropped.
            input = rest;
        } else if input.starts_with("/./") {
            // B: `/./` becomes `/`.
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            // C: `/../` (or a final `/..`) becomes `/` and the last output segment goes.
            input = if input == "/.." { "/" } else { &input[3..] };
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            // D: a lone `.` or `..` is dropped.
            input = "";
        } else {
            // E: the first segment, with its leading `/`, moves to the output.
            let end = input
                .char_indices()
                .skip(1)
                .find(|&(_, c)| c == '/')
                .map_or(input.len(), |(i, _)| i);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_next_longer_than_the_limit_is_refused() {
        let longest = format!("/{}", "a".repeat(MAX_NEXT_LENGTH - 1));
        assert_eq!(safe_next(&longest).as_deref(), Some(longest.as_str()));
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
            "/~user/",
            "/p?redirect=https://example.com",
            "/p?next=/../..//evil.com#/./x",
            "/a%20b/%C3%A9",
        ] {
            assert_eq!(
                safe_next(path).as_deref(),
                Some(path),
                "{path:?} was refused"
            );
        }
    }

    #[test]
    fn already_normal_paths_are_borrowed() {
        for path in ["/", "/dashboard", "/a/b?x=/../1#./y", "/search?q=%2e%2e"] {
            assert!(
                matches!(safe_next(path), Some(Cow::Borrowed(p)) if p == path),
                "{path:?}"
            );
        }
    }

    #[test]
    fn paths_are_normalised() {
        for (next, normal) in [
            ("/a/./b/../c?x=1", "/a/c?x=1"),
            ("/%7Euser", "/~user"),
            ("/%7euser", "/~user"),
            ("/%41%2d%5F%2E%30", "/A-_.0"),
            ("/./page", "/page"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/..", "/"),
            ("/../../a", "/a"),
            ("/%2e%2e/a", "/a"),
            ("/a/.%2e/b#./c", "/b#./c"),
            ("/a/%2Fb/../c", "/a/%2Fb/../c"),
            ("/x%20y/../z", "/z"),
        ] {
            let got = safe_next(next);
            if normal == next {
                assert_eq!(got, None, "{next:?}");
            } else {
                assert_eq!(got.as_deref(), Some(normal), "{next:?}");
                assert!(matches!(got, Some(Cow::Owned(_))), "{next:?}");
            }
        }
    }

    #[test]
    fn stray_percent_in_the_path_is_refused() {
        for next in ["/%", "/a%", "/a%4", "/%zz", "/%%34%31", "/%4%31"] {
            assert_eq!(safe_next(next), None, "{next:?}");
        }
        assert_eq!(safe_next("/a?q=100%").as_deref(), Some("/a?q=100%"));
    }

    #[test]
    fn remove_dot_segments_follows_rfc_3986_examples() {
        // RFC 3986 section 5.2.4 and the section 5.4 examples that start with `/`.
        for (input, output) in [
            ("/a/b/c/./../../g", "/a/g"),
            ("/b/c/./g", "/b/c/g"),
            ("/b/c/../g", "/b/g"),
            ("/b/c/g/..", "/b/c/"),
            ("/../g", "/g"),
            ("/./g", "/g"),
            ("/g.", "/g."),
            ("/.g", "/.g"),
            ("/g..", "/g.."),
            ("/..g", "/..g"),
            ("/b/c/./../g", "/b/g"),
            ("/b/c/g/./h", "/b/c/g/h"),
            ("/b/c/g/../h", "/b/c/h"),
        ] {
            assert_eq!(remove_dot_segments(input), output, "{input:?}");
        }
    }

    /// Paths built from the pieces that matter: dots, slashes, encodings and plain text.
    fn next_strategy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/"),
            Just("."),
            Just(".."),
            Just("%2e"),
            Just("%2E"),
            Just("%2f"),
            Just("%5c"),
            Just("\\"),
            Just("%"),
            Just("%7e"),
            Just("%41"),
            Just("%20"),
            Just("%3"),
            Just("4"),
            Just("a"),
            Just("evil.com"),
            Just("?"),
            Just("#"),
        ];
        prop_oneof![
            proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat()),
            "/[ -~]{0,40}",
            ".{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn accepted_values_stay_on_site_and_are_normal(next in next_strategy()) {
            if let Some(safe) = safe_next(&next) {
                prop_assert!(safe.starts_with('/'), "{next:?} gave {safe:?}");
                prop_assert!(!safe.starts_with("//"), "{next:?} gave {safe:?}");
                prop_assert!(!safe.starts_with("/\\"), "{next:?} gave {safe:?}");
                prop_assert!(is_safe(&safe), "{next:?} gave {safe:?}");
                let again = safe_next(&safe);
                prop_assert_eq!(again.as_deref(), Some(&*safe), "{:?} is not idempotent", next);
                prop_assert!(matches!(again, Some(Cow::Borrowed(_))));
            }
        }

        #[test]
        fn dot_segments_before_a_double_slash_are_refused(
            prefix in proptest::collection::vec(
                prop_oneof![Just("/."), Just("/%2e"), Just("/a/.."), Just("/a/%2E%2e"), Just("/.%2e")],
                1..5,
            ),
        ) {
            let payload = format!("{}//evil.com", prefix.concat());
            prop_assert_eq!(safe_next(&payload), None, "{:?}", payload);
        }
    }
}
