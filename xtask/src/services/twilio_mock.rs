//! `twilio-mock`: Prism serving Twilio's OpenAPI document for the 2010-04-01 REST API.
//!
//! Prism validates every request against the document; `--errors` also turns response
//! violations into errors. Observed with Prism 5.14.2 and the document of
//! `@twilio-alpha/mcp` 0.7.0, on `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`:
//!
//! - Basic auth + form `To`, `From`, `Body`: 201 with the document's example message (fixed
//!   values, not an echo of the request). Start-up checks this.
//! - no `Authorization` header: 401 (Prism's problem+json, `WWW-Authenticate: Basic`).
//! - form without `To`: 422, `"Request body must have required property 'To'"`. Start-up
//!   checks that this is refused, so the mock is known to validate.
//! - an AccountSid that does not match `AC` + 32 hex digits: 422 (`minLength`/`pattern`).
//! - a JSON body instead of a form: 415.
//! - a path the document lacks: 404.
//!
//! Not refused: a form without `From` or `Body` (the document requires only `To`; Twilio's
//! "From or MessagingServiceSid" and "Body or MediaUrl" rules are not in it), unknown form
//! fields, and any credentials. With `--errors`, `GET` of the Messages list answers 500,
//! because the document's own example response violates its schema; creating a message is fine.

use std::{
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use super::{Process, Running, Service, free_port, http};
use crate::{
    cmd::Cmd,
    error::{Error, Result, bail},
    preflight::{Need, node_modules},
};

pub(super) const SERVICE: Service = Service {
    name: "twilio-mock",
    needed_by: &["crates/nopassword-twilio", "examples/axum-demo"],
    exports: &[
        "NOPASSWORD_TEST_TWILIO_MOCK_URL",
        "NOPASSWORD_TEST_TWILIO_OPENAPI",
    ],
    needs: &[NODE, PRISM, TWILIO_MCP],
    start,
};

const NODE: Need = Need::Program {
    names: &["node"],
    apt: "nodejs",
};
// 5.14.2 is the newest Prism that runs on Debian 12's Node 18.
const PRISM: Need = Need::Npm {
    package: "@stoplight/prism-cli",
    version: "5.14.2",
};
// Ships Twilio's OpenAPI documents.
const TWILIO_MCP: Need = Need::Npm {
    package: TWILIO_MCP_DIR,
    version: "0.7.0",
};
const TWILIO_MCP_DIR: &str = "@twilio-alpha/mcp";
const SPEC: &str = "twilio_api_v2010.json";

fn start() -> Result<Running> {
    let spec = find_spec()?;
    let prism = node_modules().join(".bin/prism");
    let port = free_port()?;
    let mut mock = Process::spawn(&format!("prism-{port}"), |_| {
        Cmd::new(prism)
            .args([
                "mock",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .arg(&spec)
    })?;
    mock.wait_until(
        "201 for a valid Messages.json request",
        Duration::from_secs(60),
        || match send_message(
            port,
            "To=%2B15005550006&From=%2B15005550001&Body=Your+code+123456",
        )? {
            response if response.status == 201 => Ok(()),
            response => Err(format!("status {}: {}", response.status, response.body)),
        },
    )?;
    let refused =
        send_message(port, "From=%2B15005550001&Body=no+recipient").map_err(Error::new)?;
    if refused.status < 400 {
        bail!(
            "the mock accepted a request without `To` (status {}): it does not validate requests",
            refused.status
        );
    }
    Ok(Running::new(
        "twilio-mock",
        vec![
            (
                "NOPASSWORD_TEST_TWILIO_MOCK_URL",
                format!("http://127.0.0.1:{port}"),
            ),
            ("NOPASSWORD_TEST_TWILIO_OPENAPI", spec.display().to_string()),
        ],
        vec![mock],
    ))
}

const ACCOUNT: &str = "AC00000000000000000000000000000000";

fn send_message(port: u16, form: &str) -> Result<http::Response, String> {
    http::request(
        port,
        "POST",
        &format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json"),
        &[
            (
                "Authorization",
                &format!("Basic {}", base64(&format!("{ACCOUNT}:token"))),
            ),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form,
    )
}

/// Where the installed package keeps Twilio's document (today `twilio-oai/spec/json/`);
/// searched, as its layout may change between versions.
fn find_spec() -> Result<PathBuf> {
    let package = node_modules().join(TWILIO_MCP_DIR);
    match find_file(&package, SPEC) {
        Some(path) => Ok(path),
        None => bail!("no {SPEC} under {}", package.display()),
    }
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    if let Some(found) = entries
        .iter()
        .find(|path| path.file_name().is_some_and(|file| file == name))
    {
        return Some(found.clone());
    }
    entries
        .iter()
        .filter(|path| path.is_dir())
        .find_map(|dir| find_file(dir, name))
}

fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let group = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(group >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
        assert_eq!(
            base64("AC00000000000000000000000000000000:token"),
            "QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDp0b2tlbg=="
        );
    }
}
