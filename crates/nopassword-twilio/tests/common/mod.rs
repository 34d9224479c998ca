//! Shared by the test files: a login code and the credentials the tests use.

#![allow(dead_code, unreachable_pub)] // each test file uses a different part of it

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use nopassword_core::{
    Settings,
    code::{LoginCode, Recipient, UrlConfig},
    secret::PlaintextCode,
};
use nopassword_twilio::TwilioSettings;

/// An account SID of Twilio's shape: `AC` and 32 hex digits.
pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
/// The auth token; the tests look for it in errors and logs.
pub const TOKEN: &str = "tok-7f3a9c51e2d84b06";
/// `base64("{SID}:{TOKEN}")`, computed outside Rust (`printf %s "$SID:$TOKEN" | base64`).
pub const BASIC_AUTH: &str =
    "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2stN2YzYTljNTFlMmQ4NGIwNg==";
/// Twilio's magic test `From` number.
pub const FROM: &str = "+15005550006";
/// The user's phone number.
pub const TO: &str = "+14155550100";
/// The login code in every test message.
pub const CODE: &str = "9f8e7d6c5b4a39281706";

/// A code for user `42`, `alice`, with `phone`.
pub fn login_code(phone: Option<&str>) -> LoginCode {
    LoginCode::new(
        Recipient {
            id: "42".into(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            phone: phone.map(str::to_owned),
        },
        PlaintextCode::new(CODE),
        None,
        SystemTime::now() + Duration::from_secs(900),
        Duration::from_secs(900),
        Arc::new(UrlConfig::from_settings(&Settings::default())),
    )
}

/// The login URL of [`login_code`] sent with `secure = true, host = localhost:8000`.
pub const URL: &str = "https://localhost:8000/accounts/login-code/alice/9f8e7d6c5b4a39281706/";

/// Twilio settings with every key set, and `api_base`.
pub fn twilio(api_base: &str) -> TwilioSettings {
    TwilioSettings {
        twilio_sid: Some(SID.into()),
        twilio_auth_token: Some(TOKEN.into()),
        default_from_number: Some(FROM.into()),
        twilio_api_base: api_base.into(),
    }
}
