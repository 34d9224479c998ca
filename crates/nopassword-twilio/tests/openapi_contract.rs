//! The contract test: `TwilioSender`'s request checked against Twilio's own OpenAPI
//! description of the Messages API (`twilio_api_v2010.json` from the npm package
//! `@twilio-alpha/mcp`), served by Prism (`@stoplight/prism-cli`) in validating mock mode.
//!
//! `cargo xtask test` installs both, starts `prism mock` on a free port and sets:
//! - `NOPASSWORD_TEST_TWILIO_MOCK_URL`: the mock's base URL, used as `twilio_api_base`;
//! - `NOPASSWORD_TEST_TWILIO_OPENAPI`: the absolute path of the description Prism serves.
//!
//! Without them these tests fail with a message saying so; they never skip. Prism rejects a
//! request that breaks the description (a missing `To`, no Basic auth, a malformed account
//! SID, the wrong content type) with a 4xx, so a sender that drifted from Twilio's API fails
//! here.

mod common;

use common::*;
use nopassword_twilio::{RetryPolicy, TwilioSender};
use serde_json::Value;

const MOCK_URL: &str = "NOPASSWORD_TEST_TWILIO_MOCK_URL";
const OPENAPI: &str = "NOPASSWORD_TEST_TWILIO_OPENAPI";
const MESSAGES: &str = "/2010-04-01/Accounts/{AccountSid}/Messages.json";

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set. This contract test needs the Prism mock of Twilio's OpenAPI \
             description: run it through `cargo xtask test`, which starts the mock and sets \
             NOPASSWORD_TEST_TWILIO_MOCK_URL and NOPASSWORD_TEST_TWILIO_OPENAPI."
        ),
    }
}

fn mock_url() -> String {
    required_env(MOCK_URL).trim_end_matches('/').to_owned()
}

fn messages_url() -> String {
    format!("{}/2010-04-01/Accounts/{SID}/Messages.json", mock_url())
}

/// The description Prism serves, and its `POST .../Messages.json` operation.
fn description() -> (Value, Value) {
    let path = required_env(OPENAPI);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{OPENAPI}={path} cannot be read: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("the description is JSON");
    let operation = doc["paths"][MESSAGES]["post"].clone();
    assert!(operation.is_object(), "no POST {MESSAGES} in {path}");
    (doc, operation)
}

#[tokio::test]
async fn a_login_sms_is_accepted_by_twilios_description() {
    let sender = TwilioSender::builder_from_settings(&Default::default(), &twilio(&mock_url()))
        .expect("settings are complete")
        // One request: a refusal must show as the refusal, not as a retried 5xx.
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("builds");
    let sent = sender
        .send_login_sms(&login_code(Some(TO)), true, Some("localhost:8000"))
        .await
        .unwrap_or_else(|e| panic!("Prism refused TwilioSender's request: {e:?}"));
    assert_eq!(sent.attempts, 1);
    // The 201's example Message resource.
    let sid = sent.sid.expect("a message SID");
    assert!(sid.starts_with("SM"), "{sid}");
}

#[tokio::test]
async fn a_message_without_to_is_rejected() {
    // Sent by hand: TwilioSender cannot leave `To` out.
    let response = reqwest::Client::new()
        .post(messages_url())
        .basic_auth(SID, Some(TOKEN))
        .form(&[("From", FROM), ("Body", "a login code")])
        .send()
        .await
        .expect("Prism answers");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(status.is_client_error(), "{status}: {body}");
    assert!(
        body.contains("To"),
        "the refusal names the missing field: {body}"
    );
}

#[tokio::test]
async fn a_message_without_credentials_is_rejected() {
    let response = reqwest::Client::new()
        .post(messages_url())
        .form(&[("To", TO), ("From", FROM), ("Body", "a login code")])
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn a_malformed_account_sid_is_rejected() {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/AC1/Messages.json",
            mock_url()
        ))
        .basic_auth("AC1", Some(TOKEN))
        .form(&[("To", TO), ("From", FROM), ("Body", "a login code")])
        .send()
        .await
        .expect("Prism answers");
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[tokio::test]
async fn a_json_body_is_rejected() {
    let response = reqwest::Client::new()
        .post(messages_url())
        .basic_auth(SID, Some(TOKEN))
        .header("content-type", "application/json")
        .body(format!(r#"{{"To":"{TO}","From":"{FROM}","Body":"x"}}"#))
        .send()
        .await
        .expect("Prism answers");
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[test]
fn the_description_defines_what_the_sender_sends() {
    let (doc, operation) = description();
    // Basic auth, as the sender does it.
    let scheme_names: Vec<&str> = operation["security"]
        .as_array()
        .or(doc["security"].as_array())
        .expect("a security requirement")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys().map(String::as_str))
        .collect();
    assert!(
        scheme_names.iter().any(|name| {
            let scheme = &doc["components"]["securitySchemes"][*name];
            scheme["type"] == "http" && scheme["scheme"] == "basic"
        }),
        "no HTTP Basic scheme in {scheme_names:?}"
    );
    // The account SID of the tests has the described shape.
    let sid_pattern = operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "AccountSid")
        .and_then(|p| p["schema"]["pattern"].as_str())
        .expect("an AccountSid pattern");
    assert_eq!(sid_pattern, "^AC[0-9a-fA-F]{32}$");
    assert!(
        SID.len() == 34 && SID.starts_with("AC") && SID[2..].bytes().all(|b| b.is_ascii_hexdigit())
    );
    // A form with the three fields, and nothing else required.
    let schema =
        &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    for field in ["To", "From", "Body"] {
        assert!(
            schema["properties"][field]["type"] == "string",
            "the description has no string field {field}"
        );
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        required.iter().all(|f| ["To", "From", "Body"].contains(f)),
        "the description requires fields the sender does not send: {required:?}"
    );
    // Success is 201 with a Message resource that has a `sid`.
    assert!(operation["responses"]["201"].is_object());
}

#[tokio::test]
async fn the_health_check_is_a_request_twilios_description_accepts() {
    let sender = TwilioSender::builder_from_settings(&Default::default(), &twilio(&mock_url()))
        .expect("settings are complete")
        .build()
        .expect("builds");
    assert_eq!(
        sender.account_url(),
        format!("{}/2010-04-01/Accounts/{SID}.json", mock_url())
    );
    sender
        .check_account()
        .await
        .unwrap_or_else(|e| panic!("Prism refused the account fetch: {e:?}"));
    // Without credentials the same request is refused: the check does test them.
    let response = reqwest::Client::new()
        .get(sender.account_url())
        .send()
        .await
        .expect("Prism answers");
    assert_eq!(response.status().as_u16(), 401);
}
