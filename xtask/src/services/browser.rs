//! `browser`: chromedriver, and the Chromium it drives.
//!
//! Start-up opens one real headless session (load a page, read its title, close it), so a
//! browser that cannot start fails here, with chromedriver's log, rather than in every test.

use std::time::Duration;

use super::{
    Process, Running, Service, free_port,
    http::{self, Response},
};
use crate::{
    cmd::Cmd,
    error::{Error, Result, bail},
    preflight::Need,
};

pub(super) const SERVICE: Service = Service {
    name: "browser",
    // Both demo sites, one on each web adapter, pass the same browser-driven suite
    // (`demo_common::e2e::browser`).
    needed_by: &[
        "examples/axum-demo",
        "examples/actix-demo",
        "examples/demo-common",
    ],
    exports: &[
        "NOPASSWORD_TEST_WEBDRIVER_URL",
        "NOPASSWORD_TEST_CHROMIUM_BIN",
        "NOPASSWORD_TEST_CHROMIUM_ARGS",
    ],
    needs: &[CHROMIUM, CHROMEDRIVER],
    start,
};

/// Debian's Chromium; Google Chrome where that is what the machine has (GitHub's runners,
/// whose Ubuntu packages Chromium only as a snap).
const CHROMIUM: Need = Need::Program {
    names: &["chromium", "google-chrome", "google-chrome-stable"],
    apt: "chromium",
};
const CHROMEDRIVER: Need = Need::Program {
    names: &["chromedriver"],
    apt: "chromium-driver",
};

/// Every session passes these to Chromium (plus a fresh `--user-data-dir`): no sandbox (tests
/// may run as root), and no network of its own (updates, sync, QUIC) to keep runs hermetic.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Containers give /dev/shm 64 MB, which Chromium's renderer can outgrow.
    "--disable-dev-shm-usage",
];

fn start() -> Result<Running> {
    let chromium = CHROMIUM.path()?;
    let chromedriver = CHROMEDRIVER.path()?;
    let port = free_port()?;
    let mut driver = Process::spawn(&format!("chromedriver-{port}"), |_| {
        Cmd::new(chromedriver).arg(format!("--port={port}"))
    })?;
    driver.wait_until("ready status", Duration::from_secs(15), || {
        let status = http::request(port, "GET", "/status", &[], "")?;
        if compact(&status.body).contains("\"ready\":true") {
            Ok(())
        } else {
            Err(format!("GET /status: {} {}", status.status, status.body))
        }
    })?;
    let chromium = chromium.display().to_string();
    smoke_session(port, &chromium, &driver).map_err(|error| {
        Error::new(format!(
            "chromedriver could not drive {chromium}: {error}; chromedriver's output:\n{}",
            driver.log_tail()
        ))
    })?;
    Ok(Running::new(
        "browser",
        vec![
            (
                "NOPASSWORD_TEST_WEBDRIVER_URL",
                format!("http://127.0.0.1:{port}"),
            ),
            ("NOPASSWORD_TEST_CHROMIUM_BIN", chromium),
            ("NOPASSWORD_TEST_CHROMIUM_ARGS", CHROMIUM_ARGS.join(" ")),
        ],
        vec![driver],
    ))
}

/// Opens a session, loads a page, checks its title, and closes the session.
fn smoke_session(port: u16, chromium: &str, driver: &Process) -> Result<()> {
    let profile = driver.dir().join("smoke-profile");
    let args: Vec<String> = CHROMIUM_ARGS
        .iter()
        .map(|arg| json_string(arg))
        .chain([json_string(&format!(
            "--user-data-dir={}",
            profile.display()
        ))])
        .collect();
    let capabilities = format!(
        r#"{{"capabilities":{{"alwaysMatch":{{"browserName":"chrome","goog:chromeOptions":{{"binary":{},"args":[{}]}}}}}}}}"#,
        json_string(chromium),
        args.join(",")
    );
    let json = [("Content-Type", "application/json")];
    let session = expect_ok(http::request(
        port,
        "POST",
        "/session",
        &json,
        &capabilities,
    ))?;
    let Some(id) = json_field(&session.body, "sessionId") else {
        bail!("no sessionId in {}", session.body);
    };
    let page = r#"{"url":"data:text/html,<title>nopassword-smoke</title>"}"#;
    let loaded = expect_ok(http::request(
        port,
        "POST",
        &format!("/session/{id}/url"),
        &json,
        page,
    ))
    .and_then(|_| {
        expect_ok(http::request(
            port,
            "GET",
            &format!("/session/{id}/title"),
            &[],
            "",
        ))
    });
    let closed = expect_ok(http::request(
        port,
        "DELETE",
        &format!("/session/{id}"),
        &[],
        "",
    ));
    let title = loaded?;
    closed?;
    if json_field(&title.body, "value").as_deref() != Some("nopassword-smoke") {
        bail!("the test page's title came back as {}", title.body);
    }
    Ok(())
}

fn expect_ok(response: Result<Response, String>) -> Result<Response> {
    match response {
        Ok(response) if response.status == 200 => Ok(response),
        Ok(response) => bail!("status {}: {}", response.status, response.body),
        Err(error) => Err(Error::new(error)),
    }
}

/// The string value of `"key":"..."` in compact JSON (escape-free values only, as here).
fn json_field(json: &str, key: &str) -> Option<String> {
    let json = compact(json);
    let needle = format!("\"{key}\":\"");
    let start = json.find(&needle)? + needle.len();
    let len = json[start..].find('"')?;
    Some(json[start..start + len].to_owned())
}

fn compact(json: &str) -> String {
    json.replace(": ", ":")
}

fn json_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
