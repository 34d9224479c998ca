//! Naming the device that asked for a code, for the approval page (docs/HTTP.md,
//! Cross-device approval): its browser and system as its `User-Agent` says, and nothing more
//! precise (no version, no address, no location).

/// Browsers by a token of their `User-Agent`, most specific first (Edge and Opera say
/// "Chrome" too, Chrome says "Safari").
const BROWSERS: &[(&str, &str)] = &[
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Systems by a token of their `User-Agent`, most specific first (Android says "Linux",
/// iOS says "like Mac OS X").
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
];

/// The browser and system a `User-Agent` names, as `"Firefox, Linux"` (either alone when
/// only one is known), or `None` when it names neither. Names only, in no language: the
/// pages show them as they are.
///
/// ```
/// use nopassword_core::device::describe;
///
/// let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
/// assert_eq!(describe(firefox).as_deref(), Some("Firefox, Linux"));
/// let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
///     (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
/// assert_eq!(describe(iphone).as_deref(), Some("Safari, iPhone"));
/// assert_eq!(describe("curl/8.5.0"), None);
/// ```
pub fn describe(user_agent: &str) -> Option<String> {
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(token, _)| user_agent.contains(token))
            .map(|(_, name)| *name)
    };
    match (find(BROWSERS), find(SYSTEMS)) {
        (Some(browser), Some(system)) => Some(format!("{browser}, {system}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_browsers_are_named() {
        for (agent, expected) in [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge, Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome, macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome, Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
                "Chrome, Linux",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari, macOS",
            ),
        ] {
            assert_eq!(describe(agent).as_deref(), Some(expected), "{agent}");
        }
    }

    #[test]
    fn nothing_precise_is_kept() {
        // Versions, models and anything an attacker writes into the header stay out.
        let agent = "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A) <script>alert(1)</script> Firefox/133.0";
        assert_eq!(describe(agent).as_deref(), Some("Firefox, Android"));
        assert_eq!(describe(""), None);
        assert_eq!(describe(&"A".repeat(10_000)), None);
    }
}
