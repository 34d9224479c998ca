//! A minimal W3C WebDriver client: just the commands the browser test needs, as plain HTTP +
//! JSON to chromedriver. Every failure panics with the command and chromedriver's answer, and
//! every wait is bounded.

use std::{
    future::Future,
    io::{Read as _, Write as _},
    net::TcpStream,
    path::Path,
    time::{Duration, Instant},
};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long one WebDriver command may take (a navigation waits for the page to load).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a wait polls.
const POLL: Duration = Duration::from_millis(50);

/// What `cargo xtask test` exports for browser tests.
#[derive(Debug, Clone)]
pub(crate) struct BrowserEnv {
    webdriver_url: String,
    chromium_bin: String,
    chromium_args: Vec<String>,
}

impl BrowserEnv {
    /// Reads the variables; panics naming them when one is missing (never skips).
    pub(crate) fn from_env() -> Self {
        fn var(name: &str) -> String {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: the browser tests need NOPASSWORD_TEST_WEBDRIVER_URL, \
                     NOPASSWORD_TEST_CHROMIUM_BIN and NOPASSWORD_TEST_CHROMIUM_ARGS; run them with \
                     `cargo xtask test`, which starts chromedriver and sets all three"
                )
            })
        }
        Self {
            webdriver_url: var("NOPASSWORD_TEST_WEBDRIVER_URL")
                .trim_end_matches('/')
                .to_owned(),
            chromium_bin: var("NOPASSWORD_TEST_CHROMIUM_BIN"),
            chromium_args: var("NOPASSWORD_TEST_CHROMIUM_ARGS")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Chromium preferences for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JavaScript {
    Enabled,
    Disabled,
}

/// One browser session, with its own fresh profile. Dropping it deletes the session (so
/// chromedriver closes Chromium) and then removes the profile, also when a test panics.
pub(crate) struct Session {
    http: reqwest::Client,
    base: String,
    id: String,
    _profile: tempfile::TempDir,
}

/// An element of the current page.
pub(crate) struct Element<'s> {
    session: &'s Session,
    id: String,
    css: String,
}

impl Session {
    /// Starts Chromium through chromedriver.
    pub(crate) async fn start(env: &BrowserEnv, javascript: JavaScript) -> Self {
        let profile = tempfile::Builder::new()
            .prefix("nopassword-browser-test-")
            .tempdir()
            .expect("cannot create a temporary Chromium profile directory");
        let mut args = env.chromium_args.clone();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push("--window-size=1024,768".to_owned());
        let prefs = match javascript {
            JavaScript::Enabled => json!({}),
            JavaScript::Disabled => {
                json!({ "profile.managed_default_content_settings.javascript": 2 })
            }
        };
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": env.chromium_bin,
                        "args": args,
                        "prefs": prefs,
                    },
                },
            },
        });
        let http = reqwest::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("cannot build the WebDriver HTTP client");
        let value = send(
            &http,
            reqwest::Method::POST,
            &format!("{}/session", env.webdriver_url),
            Some(capabilities),
        )
        .await
        .unwrap_or_else(|error| {
            panic!(
                "chromedriver at {} could not start {}: {error}",
                env.webdriver_url, env.chromium_bin
            )
        });
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in the new session's answer: {value}"))
            .to_owned();
        Self {
            http,
            base: env.webdriver_url.clone(),
            id,
            _profile: profile,
        }
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}/session/{}{path}", self.base, self.id);
        send(&self.http, method, &url, body).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None)
            .await
            .unwrap_or_else(|error| panic!("WebDriver GET {path} failed: {error}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap_or_else(|error| panic!("WebDriver POST {path} failed: {error}"))
    }

    /// Opens `url` and waits for it to load.
    pub(crate) async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address of the current page.
    pub(crate) async fn url(&self) -> String {
        string(self.get("/url").await, "current URL")
    }

    /// The title of the current page.
    pub(crate) async fn title(&self) -> String {
        string(self.get("/title").await, "title")
    }

    /// The HTML of the current page.
    pub(crate) async fn source(&self) -> String {
        string(self.get("/source").await, "page source")
    }

    /// The first element matching `css`, if there is one now.
    pub(crate) async fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        match found {
            Ok(value) => Some(Element {
                session: self,
                id: value[ELEMENT_KEY]
                    .as_str()
                    .unwrap_or_else(|| panic!("no element reference for {css:?} in {value}"))
                    .to_owned(),
                css: css.to_owned(),
            }),
            Err(error) if error.code == "no such element" => None,
            Err(error) => panic!("WebDriver find {css:?} failed: {error}"),
        }
    }

    /// The text of the first element matching `css`, if there is one now (`None` also when
    /// the page changed between finding it and reading it).
    pub(crate) async fn text_of(&self, css: &str) -> Option<String> {
        let element = self.try_find(css).await?;
        match self
            .command(reqwest::Method::GET, &element.path("text"), None)
            .await
        {
            Ok(Value::String(text)) => Some(text),
            Ok(other) => panic!("WebDriver answered {other} for the text of {css:?}"),
            Err(error) if error.code == "stale element reference" => None,
            Err(error) => panic!("WebDriver text of {css:?} failed: {error}"),
        }
    }

    /// The first element matching `css`, waiting up to `timeout` for it to appear.
    pub(crate) async fn wait_for(&self, css: &str, timeout: Duration) -> Element<'_> {
        self.wait_until(
            &format!("an element matching {css:?}"),
            timeout,
            move || self.try_find(css),
        )
        .await
    }

    /// Polls `probe` until it gives a value; after `timeout`, panics with `what` and what the
    /// browser shows.
    pub(crate) async fn wait_until<T, F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: F,
    ) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if started.elapsed() >= timeout {
                panic!(
                    "timed out after {:.0?} waiting for {what}; the browser shows {}",
                    timeout,
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The current address, title and the start of the visible text, for failure messages.
    pub(crate) async fn describe(&self) -> String {
        let url = self.url().await;
        let title = self.title().await;
        let text = match self.try_find("body").await {
            Some(body) => body.text().await,
            None => String::new(),
        };
        let text: String = text.chars().take(600).collect();
        format!("{url} titled {title:?}, reading: {text:?}")
    }

    /// Saves a PNG of the viewport to `path`.
    pub(crate) async fn screenshot(&self, path: &Path) {
        let data = string(self.get("/screenshot").await, "screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("the screenshot is not base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

impl Drop for Session {
    /// Synchronous on purpose: it must also run while a panic unwinds out of the runtime.
    fn drop(&mut self) {
        if let Err(error) = delete_session(&self.base, &self.id) {
            eprintln!("could not delete WebDriver session {}: {error}", self.id);
        }
    }
}

impl Element<'_> {
    fn path(&self, command: &str) -> String {
        format!("/element/{}/{command}", self.id)
    }

    /// Types `text` into the element.
    pub(crate) async fn send_keys(&self, text: &str) {
        self.session
            .post(&self.path("value"), json!({ "text": text }))
            .await;
    }

    /// Clicks the element.
    pub(crate) async fn click(&self) {
        self.session.post(&self.path("click"), json!({})).await;
    }

    /// The element's rendered text.
    pub(crate) async fn text(&self) -> String {
        let what = format!("text of {:?}", self.css);
        string(self.session.get(&self.path("text")).await, &what)
    }

    /// The element's attribute `name`, if it has one.
    pub(crate) async fn attribute(&self, name: &str) -> Option<String> {
        self.session
            .get(&self.path(&format!("attribute/{name}")))
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Whether the element is shown on the page.
    pub(crate) async fn is_displayed(&self) -> bool {
        let value = self.session.get(&self.path("displayed")).await;
        value.as_bool().unwrap_or_else(|| {
            panic!(
                "WebDriver answered {value} for whether {:?} is displayed",
                self.css
            )
        })
    }
}

/// An error answer from WebDriver, or no answer.
#[derive(Debug)]
struct WebDriverError {
    /// The WebDriver error code (`"no such element"`, ...), or `"http"` when there was no answer.
    code: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Sends one command and returns its `value`.
async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, WebDriverError> {
    let no_answer = |error: reqwest::Error| WebDriverError {
        code: "http".into(),
        message: format!("{url}: {error}"),
    };
    let request = http.request(method, url);
    // WebDriver wants a JSON body on every POST, `{}` when there is nothing to say.
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.map_err(no_answer)?;
    let status = response.status();
    let mut answer: Value = response.json().await.map_err(no_answer)?;
    let value = answer["value"].take();
    if status.is_success() {
        Ok(value)
    } else {
        Err(WebDriverError {
            code: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned(),
            message: format!(
                "{status}: {}",
                value["message"].as_str().unwrap_or("(no message)")
            ),
        })
    }
}

fn string(value: Value, what: &str) -> String {
    match value {
        Value::String(s) => s,
        other => panic!("WebDriver answered {other} for the {what}"),
    }
}

/// `DELETE /session/{id}` over a plain blocking socket, so that it works in `Drop`.
fn delete_session(base: &str, id: &str) -> std::io::Result<()> {
    let authority = base
        .strip_prefix("http://")
        .unwrap_or(base)
        .split('/')
        .next()
        .unwrap_or_default();
    let address = std::net::ToSocketAddrs::to_socket_addrs(authority)?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("no address for {authority}")))?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    // Closing Chromium can take a few seconds.
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "DELETE /session/{id} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver answers once Chromium is gone, and may keep the connection open whatever
    // we asked: the status line is all we wait for.
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n") && stream.read(&mut byte)? == 1 {
        answer.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&answer);
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(std::io::Error::other(format!(
            "chromedriver answered: {}",
            status_line.trim()
        ))),
    }
}
