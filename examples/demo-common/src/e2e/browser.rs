//! The demo site in a real browser (headless Chromium through chromedriver, driven with
//! fantoccini), used as a person would: ask for a link, take it from the outbox page, follow
//! it, end up logged in; once with the page's script submitting the form, once with
//! JavaScript off and the `<noscript>` button, once from another browser profile that must
//! confirm, and twice across two profiles for cross-device approval (the second profile picks
//! the number the first one shows; the first logs in by its script, or with JavaScript off by
//! its "Continue" button). Screenshots of the pages land in `target/browser-test/{demo}/`.
//!
//! The pages are sent with a strict Content-Security-Policy (`default-src 'self'`): the
//! scenario with the page's script also checks that the pages' stylesheet applied, that their
//! script ran (the login needs no click), and that Chromium reported no violation of the
//! policy on any page of the login (the pages' script records each in
//! `sessionStorage["nopassword.csp-violations"]`), then that a violation is reported when
//! one is made, so that check can fail.
//!
//! `cargo xtask test` starts chromedriver and exports `NOPASSWORD_TEST_WEBDRIVER_URL`,
//! `NOPASSWORD_TEST_CHROMIUM_BIN` and `NOPASSWORD_TEST_CHROMIUM_ARGS`; without them every
//! scenario fails naming them.

use std::{
    future::Future,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, error::CmdError};
use hyper_util::client::legacy::connect::HttpConnector;
use nopassword_core::{forms::messages, http::CONTENT_SECURITY_POLICY};
use serde_json::{Value, json};

use super::{Instance, Site, block_on, service_env, settings};

/// The longest any page may take to show what we wait for.
const WAIT: Duration = Duration::from_secs(10);

/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);

/// How long chromedriver may take to load a page before the command fails.
const PAGE_LOAD: Duration = Duration::from_secs(60);

/// Declares one `#[test]` per browser scenario against the [`Site`] `$site`, each named after
/// its scenario. Put it in the demo's `tests/browser.rs`.
#[macro_export]
macro_rules! browser_tests {
    ($site:ty) => {
        $crate::browser_tests!(
            @each $site,
            the_link_logs_in_when_the_page_script_submits_it,
            the_link_logs_in_with_the_noscript_button_when_javascript_is_off,
            a_link_opened_in_another_browser_asks_to_confirm_and_spends_nothing_until_the_click,
            a_spanish_browser_gets_the_login_pages_in_spanish,
            a_phone_approves_the_waiting_browser_by_its_number,
            without_javascript_the_waiting_browser_continues_with_its_button,
        );
    };
    (@each $site:ty, $($scenario:ident,)+) => {
        $(
            #[test]
            fn $scenario() {
                $crate::e2e::browser::run::<$site, _, _>(
                    stringify!($scenario),
                    option_env!("CARGO_TARGET_TMPDIR"),
                    $crate::e2e::browser::$scenario::<$site>,
                );
            }
        )+
    };
}

/// Runs one browser scenario on a runtime of its own, then closes every browser it opened,
/// also when it panicked (the panic goes on afterwards).
///
/// `target_tmpdir` is the test's `CARGO_TARGET_TMPDIR`: screenshots go next to it, in
/// `browser-test/{demo}/`; without it, in the system's temporary directory.
pub fn run<S: Site, F, Fut>(name: &str, target_tmpdir: Option<&str>, scenario: F)
where
    F: FnOnce(Browsers) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let screenshots = match target_tmpdir {
        Some(dir) => PathBuf::from(dir)
            .parent()
            .map_or_else(std::env::temp_dir, PathBuf::from),
        None => std::env::temp_dir(),
    }
    .join("browser-test")
    .join(S::NAME);
    let browsers = Browsers {
        env: BrowserEnv::from_env(),
        screenshots,
        opened: Arc::default(),
    };
    let started = Instant::now();
    block_on(async {
        let outcome = tokio::spawn(scenario(browsers.clone())).await;
        browsers.close_all().await;
        if let Err(error) = outcome {
            std::panic::resume_unwind(error.into_panic());
        }
    });
    eprintln!(
        "browser scenario {name} on {} took {:.1?}",
        S::NAME,
        started.elapsed()
    );
}

/// What `cargo xtask test` exports for browser tests.
#[derive(Debug, Clone)]
struct BrowserEnv {
    webdriver_url: String,
    chromium_bin: String,
    chromium_args: Vec<String>,
}

impl BrowserEnv {
    /// Reads the variables; panics naming them when one is missing (never skips).
    fn from_env() -> Self {
        let var = |name| service_env(name, "chromedriver and Chromium (the `browser` service)");
        Self {
            webdriver_url: var("NOPASSWORD_TEST_WEBDRIVER_URL"),
            chromium_bin: var("NOPASSWORD_TEST_CHROMIUM_BIN"),
            chromium_args: var("NOPASSWORD_TEST_CHROMIUM_ARGS")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Whether a browser runs the pages' scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaScript {
    /// Scripts run (Chromium's default).
    Enabled,
    /// Scripts never run: `<noscript>` content shows.
    Disabled,
}

/// The browsers of one scenario: [`Browsers::open`] starts one, and [`run`] closes them all.
#[derive(Debug, Clone)]
pub struct Browsers {
    env: BrowserEnv,
    screenshots: PathBuf,
    opened: Arc<Mutex<Vec<Opened>>>,
}

/// A browser session and its profile, kept until the session is closed.
#[derive(Debug)]
struct Opened {
    client: Client,
    _profile: tempfile::TempDir,
}

impl Browsers {
    /// Starts Chromium through chromedriver, with a fresh profile (its own cookies) and a
    /// 1024×768 window.
    pub async fn open(&self, javascript: JavaScript) -> Browser {
        self.open_in(javascript, None).await
    }

    /// [`open`](Self::open) with Chromium's languages set to `language` (its UI language and
    /// the `Accept-Language` it sends), as a browser set up in that language.
    pub async fn open_in(&self, javascript: JavaScript, language: Option<&str>) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("nopassword-browser-test-")
            .tempdir()
            .expect("cannot create a temporary Chromium profile directory");
        let mut args = self.env.chromium_args.clone();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push("--window-size=1024,768".to_owned());
        let mut prefs = match javascript {
            JavaScript::Enabled => json!({}),
            JavaScript::Disabled => {
                json!({ "profile.managed_default_content_settings.javascript": 2 })
            }
        };
        if let Some(language) = language {
            args.push(format!("--lang={language}"));
            prefs["intl.accept_languages"] = json!(language);
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.env.chromium_bin,
                "args": args,
                "prefs": prefs,
            },
            "timeouts": { "pageLoad": PAGE_LOAD.as_millis() },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("the capabilities are a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.env.webdriver_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver at {} could not start {}: {error}",
                    self.env.webdriver_url, self.env.chromium_bin
                )
            });
        self.opened.lock().expect("the browser list").push(Opened {
            client: client.clone(),
            _profile: profile,
        });
        Browser {
            client,
            screenshots: self.screenshots.clone(),
        }
    }

    /// Ends every session (chromedriver closes its Chromium), then removes the profiles.
    async fn close_all(&self) {
        let opened = std::mem::take(&mut *self.opened.lock().expect("the browser list"));
        for Opened { client, _profile } in opened {
            if let Err(error) = client.close().await {
                eprintln!("could not close a browser session: {error}");
            }
        }
    }
}

/// One browser session. Every failing command panics with what it was doing, and every wait
/// is bounded.
#[derive(Debug, Clone)]
pub struct Browser {
    client: Client,
    screenshots: PathBuf,
}

impl Browser {
    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("the browser could not open {url}: {error}"));
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        must(self.client.current_url().await, "the current URL").into()
    }

    /// The title of the current page.
    pub async fn title(&self) -> String {
        must(self.client.title().await, "the title")
    }

    /// The HTML of the current page.
    pub async fn source(&self) -> String {
        must(self.client.source().await, "the page source")
    }

    /// The first element matching `css`, if there is one now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Some(element),
            Err(error) if error.is_no_such_element() => None,
            Err(error) => panic!("finding {css:?} failed: {error}"),
        }
    }

    /// The text of the first element matching `css`, if there is one now (`None` also when
    /// the page changed between finding it and reading it).
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let element = self.try_find(css).await?;
        match element.text().await {
            Ok(text) => Some(text),
            Err(error) if error.is_stale_element_reference() => None,
            Err(error) => panic!("reading the text of {css:?} failed: {error}"),
        }
    }

    /// The first element matching `css`, waiting up to `WAIT` for it to appear.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_until(&format!("an element matching {css:?}"), || {
            self.try_find(css)
        })
        .await
    }

    /// Polls `probe` until it gives a value; after `WAIT`, panics with `what` and what the
    /// browser shows.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if started.elapsed() >= WAIT {
                panic!(
                    "timed out after {WAIT:.0?} waiting for {what}; the browser shows {}",
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The current address, title and the start of the visible text, for failure messages.
    pub async fn describe(&self) -> String {
        let url = self.url().await;
        let title = self.title().await;
        let text = self.text_of("body").await.unwrap_or_default();
        let text: String = text.chars().take(600).collect();
        format!("{url} titled {title:?}, reading: {text:?}")
    }

    /// The value `script` (the body of a function) returns in the current page.
    pub async fn execute(&self, script: &str) -> Value {
        must(
            self.client.execute(script, Vec::new()).await,
            &format!("the value of {script:?}"),
        )
    }

    /// `sessionStorage[key]` of the current page's origin in this tab.
    pub async fn session_storage(&self, key: &str) -> Option<String> {
        let value = self
            .execute(&format!("return sessionStorage.getItem({});", json!(key)))
            .await;
        value.as_str().map(str::to_owned)
    }

    /// The Content-Security-Policy violations the pages' script recorded on the current page
    /// (its `data-csp-violations` attribute), if any.
    pub async fn csp_violations(&self) -> Option<String> {
        let value = self
            .execute("return document.documentElement.getAttribute('data-csp-violations');")
            .await;
        value.as_str().map(str::to_owned)
    }

    /// Saves a PNG of the viewport as `name` in the demo's screenshot folder.
    pub async fn screenshot(&self, name: &str) {
        let png = must(self.client.screenshot().await, "a screenshot");
        let dir = &self.screenshots;
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(name);
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// The value of a command, or a panic naming what it was for.
fn must<T>(result: Result<T, CmdError>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("the browser could not give {what}: {error}"))
}

/// An element command's value, or a panic naming the command.
async fn element<T>(result: impl Future<Output = Result<T, CmdError>>, what: &str) -> T {
    must(result.await, what)
}

/// Where the pages' script records violations of the Content-Security-Policy (it outlives
/// the "Logging in..." page, which submits itself).
const CSP_VIOLATIONS: &str = "nopassword.csp-violations";

/// The link logs in when the "Logging in..." page's script submits it, under the pages'
/// strict Content-Security-Policy: the stylesheet applies, the script runs (no click), and
/// the browser reports no violation on any page, while it does report one that a script makes.
pub async fn the_link_logs_in_when_the_page_script_submits_it<S: Site>(browsers: Browsers) {
    let site = S::start(settings().into()).await;
    let browser = browsers.open(JavaScript::Enabled).await;

    // The pages come with the policy the browser enforces below.
    let form = reqwest::get(site.mounted("/login/"))
        .await
        .expect("GET login/");
    assert_eq!(
        form.headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok()),
        Some(CONTENT_SECURITY_POLICY)
    );

    let link = request_link(&browser, &site, "alice").await;
    browser.goto(&link).await;
    assert_logged_in_as(&browser, &site, "alice").await;
    browser.screenshot("logged-in-with-script.png").await;
    // The home page is the demo's, on the same origin: the tab's sessionStorage holds what
    // the login pages recorded.
    assert_eq!(
        browser.session_storage(CSP_VIOLATIONS).await,
        None,
        "the browser reported violations of the Content-Security-Policy on the login pages"
    );

    // nopassword.css applied (body { max-width: 28rem }, 448px) on the login form, with no
    // violation there either.
    browser.goto(&site.mounted("/login/")).await;
    browser.wait_for("input[name=username]").await;
    assert_eq!(
        browser
            .execute("return getComputedStyle(document.body).maxWidth;")
            .await,
        json!("448px"),
        "nopassword.css did not apply"
    );
    assert_eq!(browser.csp_violations().await, None);
    // The check can fail: an inline style attribute (what an override's `style=` is) is
    // refused by the browser under the policy, and the page's script records it.
    browser
        .execute("document.body.setAttribute('style', 'color: red'); return null;")
        .await;
    let recorded = browser
        .wait_until("the violation of the inline style to be recorded", || {
            browser.csp_violations()
        })
        .await;
    assert!(recorded.contains("style-src"), "{recorded}");
    assert!(
        browser
            .session_storage(CSP_VIOLATIONS)
            .await
            .is_some_and(|all| all.contains("style-src")),
        "the violation is not in sessionStorage"
    );

    assert_used_link_is_gone(&browser, &link).await;
}

/// With JavaScript off, the page shows its `<noscript>` button, stays put, and logs in when
/// the button is clicked.
pub async fn the_link_logs_in_with_the_noscript_button_when_javascript_is_off<S: Site>(
    browsers: Browsers,
) {
    let site = S::start(settings().into()).await;
    let browser = browsers.open(JavaScript::Disabled).await;

    let link = request_link(&browser, &site, "alice").await;
    browser.goto(&link).await;
    let button = browser.wait_for("form#nopassword-login button").await;
    assert!(
        element(button.is_displayed(), "whether the button shows").await,
        "the <noscript> button is not visible with JavaScript off; the browser shows {}",
        browser.describe().await
    );
    assert_eq!(
        element(button.text(), "the button's text").await,
        messages::CLICK_TO_LOGIN
    );
    assert!(
        browser.source().await.contains("<noscript><button"),
        "the button is not the page's <noscript> button"
    );
    // Without a script nothing submits the form: the page stays.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        browser.url().await,
        link,
        "the page left the login link by itself with JavaScript off"
    );
    assert_eq!(browser.title().await, messages::LOGGING_IN);
    assert_eq!(
        browser.text_of("h1").await.as_deref(),
        Some(messages::LOGGING_IN)
    );
    browser.screenshot("noscript-button.png").await;

    element(button.click(), "a click on the button").await;
    assert_logged_in_as(&browser, &site, "alice").await;
    browser.screenshot("logged-in-without-script.png").await;

    assert_used_link_is_gone(&browser, &link).await;
}

/// A link opened in a second browser profile (another device, or a mail scanner that runs
/// JavaScript) shows "Confirm login" naming the account, spends nothing however long it stays
/// open, and logs in that browser only when its button is clicked.
pub async fn a_link_opened_in_another_browser_asks_to_confirm_and_spends_nothing_until_the_click<
    S: Site,
>(
    browsers: Browsers,
) {
    let site = S::start(settings().into()).await;
    let asking = browsers.open(JavaScript::Enabled).await;
    let link = request_link(&asking, &site, "alice").await;

    let other = browsers.open(JavaScript::Enabled).await;
    other.goto(&link).await;
    other
        .wait_until("the confirmation page", || async {
            (other.title().await == messages::CONFIRM_LOGIN).then_some(())
        })
        .await;
    let text = other.text_of("body").await.unwrap_or_default();
    assert!(
        text.contains("alice"),
        "the confirmation page does not name the account: {text}"
    );
    assert!(
        !other.source().await.contains("<script"),
        "the confirmation page must not carry a script"
    );
    // nopassword.css applied there too, under the policy.
    assert_eq!(
        other
            .execute("return getComputedStyle(document.body).maxWidth;")
            .await,
        json!("448px"),
        "nopassword.css did not apply to the confirmation page"
    );
    // JavaScript is on, and still nothing submits the page: the link stays live.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        other.url().await,
        link,
        "the confirmation page left by itself"
    );
    let head = reqwest::Client::new()
        .head(&link)
        .send()
        .await
        .expect("HEAD the link")
        .status();
    assert_eq!(
        head,
        reqwest::StatusCode::OK,
        "the link was spent before the click"
    );
    other.screenshot("confirm-login.png").await;

    let button = other.wait_for("form button[type=submit]").await;
    assert_eq!(
        element(button.text(), "the button's text").await,
        messages::LOG_IN
    );
    element(button.click(), "a click on the button").await;
    assert_logged_in_as(&other, &site, "alice").await;
    // The browser that asked is not logged in by someone else's click.
    asking.goto(&site.url("/")).await;
    assert_eq!(
        asking.text_of("#status").await.as_deref(),
        Some("Not logged in.")
    );
    assert_used_link_is_gone(&other, &link).await;
}

/// Fills in the login form for `username`, waits for the "sent" page, and returns the newest
/// login link from the demo's outbox page.
/// A browser set up in Spanish gets the login pages in Spanish: `<html lang="es">`, the
/// title, the form's labels and button, the "sent" page with the code's validity in Spanish
/// words; and the link still logs in.
pub async fn a_spanish_browser_gets_the_login_pages_in_spanish<S: Site>(browsers: Browsers) {
    let site = S::start(settings().into()).await;
    let browser = &browsers.open_in(JavaScript::Enabled, Some("es")).await;
    browser.goto(&site.mounted("/login/")).await;
    let field = browser.wait_for("input[name=username]").await;
    assert_eq!(browser.title().await, "Iniciar sesión");
    assert_eq!(
        browser
            .execute("return [document.documentElement.lang, document.documentElement.dir];")
            .await,
        json!(["es", "ltr"])
    );
    assert_eq!(
        browser.text_of("h1").await.as_deref(),
        Some("Iniciar sesión")
    );
    assert_eq!(
        browser.text_of("label[for=id_username]").await.as_deref(),
        Some("Nombre de usuario")
    );
    assert_eq!(
        browser.text_of("form button[type=submit]").await.as_deref(),
        Some("Enviar enlace de acceso")
    );
    browser.screenshot("login-form-in-spanish.png").await;

    element(field.send_keys("alice"), "typing the username").await;
    let submit = browser.wait_for("form button[type=submit]").await;
    element(submit.click(), "a click on the login button").await;
    browser
        .wait_until("the Spanish \"sent\" page", || async move {
            let heading = browser.text_of("h1").await?;
            (heading == "Te hemos enviado un correo con un enlace de acceso").then_some(())
        })
        .await;
    let body = browser.text_of("body").await.unwrap_or_default();
    assert!(body.contains("durante 15 minutos"), "{body}");
    browser.screenshot("sent-in-spanish.png").await;

    let sent = site.message_for("alice").await;
    browser.goto(&sent.url).await;
    assert_logged_in_as(browser, &site, "alice").await;
}

/// Cross-device approval (docs/HTTP.md): browser A asks for a link and waits on the "sent"
/// page, which shows a number; browser B (another profile: the phone) opens the link from the
/// mail, picks that number among three and sees "Login approved". A then shows the logged-in
/// home page within 3 s, with no click; B stays logged out.
pub async fn a_phone_approves_the_waiting_browser_by_its_number<S: Site>(browsers: Browsers) {
    let site = S::start(settings().into()).await;
    let laptop = browsers.open(JavaScript::Enabled).await;
    let number = ask_and_wait(&laptop, &site, "alice").await;
    laptop.screenshot("waiting-for-approval.png").await;
    let link = site.message_for("alice").await.url;

    let phone = browsers.open(JavaScript::Enabled).await;
    approve(&phone, &link, number).await;
    let approved = Instant::now();
    phone.screenshot("login-approved.png").await;

    assert_logged_in_as(&laptop, &site, "alice").await;
    let took = approved.elapsed();
    assert!(
        took <= Duration::from_secs(3),
        "the waiting page took {took:.1?} to log in after the approval"
    );
    laptop.screenshot("logged-in-after-approval.png").await;
    phone.goto(&site.url("/")).await;
    assert_eq!(
        phone.text_of("#status").await.as_deref(),
        Some("Not logged in."),
        "the phone that approved is logged in"
    );
    assert_used_link_is_gone(&phone, &link).await;
}

/// With JavaScript off in the waiting browser nothing polls: after the phone approved, the
/// page stays until its "Continue" button is clicked, which logs it in.
pub async fn without_javascript_the_waiting_browser_continues_with_its_button<S: Site>(
    browsers: Browsers,
) {
    let site = S::start(settings().into()).await;
    let laptop = browsers.open(JavaScript::Disabled).await;
    let number = ask_and_wait(&laptop, &site, "alice").await;
    let waiting = laptop.url().await;
    let link = site.message_for("alice").await.url;

    let phone = browsers.open(JavaScript::Enabled).await;
    approve(&phone, &link, number).await;

    // Nothing polls without a script: the page stays put.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(laptop.url().await, waiting, "the page left by itself");
    assert!(
        laptop.text_of("#username").await.is_none(),
        "logged in without a click"
    );
    let button = laptop.wait_for("form#nopassword-complete button").await;
    assert_eq!(
        element(button.text(), "the button's text").await,
        "Continue"
    );
    element(button.click(), "a click on Continue").await;
    assert_logged_in_as(&laptop, &site, "alice").await;
    phone.goto(&site.url("/")).await;
    assert_eq!(
        phone.text_of("#status").await.as_deref(),
        Some("Not logged in.")
    );
}

/// Fills in the login form for `username` and waits for the "sent" page; returns the matching
/// number it shows in `#nopassword-number`. The browser stays on that page.
async fn ask_and_wait(browser: &Browser, site: &Instance, username: &str) -> u8 {
    browser.goto(&site.mounted("/login/")).await;
    let field = browser.wait_for("input[name=username]").await;
    element(field.send_keys(username), "typing the username").await;
    let submit = browser.wait_for("form button[type=submit]").await;
    element(submit.click(), "a click on the login button").await;
    let shown = browser
        .wait_until("the number on the \"sent\" page", || async move {
            browser.text_of("#nopassword-number strong").await
        })
        .await;
    assert_eq!(shown.len(), 2, "a two-digit number: {shown:?}");
    shown
        .parse()
        .unwrap_or_else(|_| panic!("the waiting page shows {shown:?}, not a number"))
}

/// Opens `link` in `phone` (another profile than the one that asked), picks `number` among
/// the three the approval form offers, and waits for "Login approved".
async fn approve(phone: &Browser, link: &str, number: u8) {
    phone.goto(link).await;
    phone
        .wait_until("the confirmation page", || async {
            (phone.title().await == messages::CONFIRM_LOGIN).then_some(())
        })
        .await;
    let offered = phone
        .execute(
            "return Array.from(document.querySelectorAll('#nopassword-approve button[name=number]'))\
             .map(function (b) { return b.value; });",
        )
        .await;
    let offered: Vec<String> = serde_json::from_value(offered).expect("a list of numbers");
    assert_eq!(offered.len(), 3, "three numbers: {offered:?}");
    assert!(
        offered.contains(&number.to_string()),
        "{number} is not among {offered:?}"
    );
    phone.screenshot("approval-choices.png").await;
    let button = phone
        .wait_for(&format!("#nopassword-approve button[value='{number}']"))
        .await;
    element(button.click(), "a click on the right number").await;
    phone
        .wait_until("the \"Login approved\" page", || async {
            (phone.title().await == messages::LOGIN_APPROVED).then_some(())
        })
        .await;
}

async fn request_link(browser: &Browser, site: &Instance, username: &str) -> String {
    browser.goto(&site.mounted("/login/")).await;
    let field = browser.wait_for("input[name=username]").await;
    element(field.send_keys(username), "typing the username").await;
    let submit = browser.wait_for("form button[type=submit]").await;
    element(submit.click(), "a click on the login button").await;
    browser
        .wait_until(
            "the \"sent\" page after submitting the login form",
            || async move {
                let heading = browser.text_of("h1").await?;
                heading.contains(messages::SENT_PAGE).then_some(())
            },
        )
        .await;

    // Delivery runs in the background: let it reach the outbox before the page is read.
    let sent = site.message_for(username).await;
    browser.goto(&site.url("/outbox")).await;
    let newest = browser
        .wait_for("#messages li:first-child a.login-link")
        .await;
    let link = element(newest.attr("href"), "the login link's href")
        .await
        .expect("the outbox's login link has an href");
    assert_eq!(
        browser
            .text_of("#messages li:first-child strong")
            .await
            .as_deref(),
        Some(username),
        "the newest outbox message is for someone else"
    );
    assert_eq!(
        link, sent.url,
        "the outbox page shows another link than it sent"
    );
    assert!(
        link.starts_with(&site.mounted("/login-code/")),
        "the link {link} does not point at this site's login-code route"
    );
    link
}

/// Waits for the home page to say who is logged in.
async fn assert_logged_in_as(browser: &Browser, site: &Instance, username: &str) {
    browser
        .wait_until(
            &format!("the home page to show {username} logged in"),
            || async move {
                let shown = browser.text_of("#username").await?;
                (shown == username).then_some(())
            },
        )
        .await;
    assert_eq!(browser.url().await, site.url("/"));
    assert_eq!(
        browser.text_of("#status").await.as_deref(),
        Some(format!("Logged in as {username}.").as_str())
    );
}

/// Opens a used link again: the "not valid" page, with status 404.
async fn assert_used_link_is_gone(browser: &Browser, link: &str) {
    browser.goto(link).await;
    browser
        .wait_until("the 404 page for a used link", || async move {
            let text = browser.text_of("body").await?;
            text.contains(messages::CODE_NOT_FOUND).then_some(())
        })
        .await;
    assert_eq!(browser.title().await, "Login link not valid");
    assert!(
        browser.try_find("form#nopassword-login").await.is_none(),
        "a used link still offers the login form"
    );
    let status = reqwest::get(link)
        .await
        .expect("the demo answers a plain GET")
        .status();
    assert_eq!(
        status,
        reqwest::StatusCode::NOT_FOUND,
        "a used link is not a 404"
    );
}
