//! Every documented settings key is read by exactly one crate, the one `docs/SETTINGS.md`
//! files it under; a file with a key that no crate in use reads stops start-up, naming it.

use std::{collections::BTreeMap, path::Path};

use demo_common::DemoSettings;
use figment::{
    Figment,
    providers::{Format, Toml},
};
use nopassword_core::{
    Settings, SettingsError,
    settings::{Config, Key, Section, field_names},
};
use nopassword_email::EmailSettings;
use nopassword_store::RedisSettings;
use nopassword_twilio::TwilioSettings;

/// `(owner, keys, fields)` of each section the workspace ships.
fn sections() -> Vec<(&'static str, &'static [Key], &'static [&'static str])> {
    fn of<S: Section>() -> (&'static str, &'static [Key], &'static [&'static str]) {
        (S::OWNER, S::KEYS, field_names::<S>())
    }
    vec![
        of::<Settings>(),
        of::<EmailSettings>(),
        of::<TwilioSettings>(),
        of::<RedisSettings>(),
    ]
}

/// The keys of the tables of `docs/SETTINGS.md` (rows starting with `` | `key` | ``), each
/// with the `## crate` heading it is under.
fn documented_keys() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/SETTINGS.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut heading = String::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            heading = title.trim().to_owned();
        } else if let Some(row) = line.strip_prefix("| `") {
            let key = row.split('`').next().expect("a key between backticks");
            keys.push((key.to_owned(), heading.clone()));
        }
    }
    keys
}

#[test]
fn every_documented_key_is_read_by_exactly_one_crate_the_one_documented() {
    let documented = documented_keys();
    assert!(
        documented.len() >= 30,
        "the tables of docs/SETTINGS.md were not found: {documented:?}"
    );
    let mut readers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (owner, keys, _) in sections() {
        for key in keys {
            readers.entry(key.name).or_default().push(owner);
        }
    }
    for (key, heading) in &documented {
        let owners = readers.get(key.as_str()).cloned().unwrap_or_default();
        assert_eq!(
            owners,
            [heading.as_str()],
            "`{key}` is documented under `## {heading}` but read by {owners:?}"
        );
    }
    for key in readers.keys() {
        let times = documented.iter().filter(|(k, _)| k == key).count();
        assert_eq!(
            times, 1,
            "`{key}` is documented {times} times in docs/SETTINGS.md"
        );
    }
}

#[test]
fn every_section_lists_exactly_its_fields() {
    for (owner, keys, fields) in sections() {
        let mut keys: Vec<_> = keys.iter().map(|k| k.name).collect();
        let mut fields = fields.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert!(!fields.is_empty(), "{owner}: no fields found");
        assert_eq!(keys, fields, "{owner}: KEYS and the struct's fields differ");
    }
}

fn demo_settings_from_file(text: &str) -> (Result<DemoSettings, demo_common::DemoError>, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nopassword.toml");
    std::fs::write(&path, text).expect("write the settings file");
    let config = Config::from_figment(Figment::from(Toml::file_exact(&path)));
    (
        DemoSettings::from_config(config),
        path.display().to_string(),
    )
}

#[test]
fn a_file_with_a_key_no_crate_reads_is_refused_naming_it_and_the_file() {
    for (text, key, hint) in [
        ("fax_baud = 9600", "fax_baud", "no crate in use reads it"),
        (
            "smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_ulr = \"smtp://x\"",
            "smtp_ulr",
            "did you mean `smtp_url`?",
        ),
        (
            "code_lenght = 8",
            "code_lenght",
            "did you mean `code_length`?",
        ),
    ] {
        let (result, file) = demo_settings_from_file(text);
        let err = result.expect_err(key);
        let shown = err.to_string();
        assert!(
            matches!(&err, demo_common::DemoError::Settings(SettingsError::Unknown { key: k, .. }) if k == key),
            "{key}: {err:?}"
        );
        assert!(shown.contains(&format!("`{key}`")), "{shown}");
        assert!(shown.contains(&file), "{shown}");
        assert!(shown.contains(hint), "{shown}");
    }
}

#[test]
fn the_keys_of_every_crate_in_use_are_accepted() {
    let (result, _) = demo_settings_from_file(
        r#"
        code_length = 8
        numeric_codes = true
        template_dir = "templates"
        login_email_subject = "Your code"
        smtp_url = "smtp://127.0.0.1:2525"
        twilio_sid = "AC0123"
        default_from_number = "+15005550006"
        redis_url = "redis://127.0.0.1:6379/"
        "#,
    );
    let settings = result.expect("every key is some crate's");
    assert_eq!(settings.core.code_length, 8);
    assert_eq!(settings.email.login_email_subject, "Your code");
    assert!(settings.email.smtp_url.is_some());
    assert_eq!(settings.twilio.twilio_sid.as_deref(), Some("AC0123"));
    assert!(settings.redis.redis_url.is_some());

    // Core alone does not read the e-mail sender's key: without its section, it is unknown.
    let core_only = Settings::from_figment(&Figment::from(Toml::string(
        "code_length = 8\nsmtp_url = \"smtp://127.0.0.1:2525\"",
    )))
    .expect_err("smtp_url is not core's");
    assert!(
        core_only.to_string().contains("unknown setting `smtp_url`"),
        "{core_only}"
    );
}

#[test]
fn each_section_validates_its_own_keys() {
    let (result, _) = demo_settings_from_file("twilio_api_base = \"ftp://api.twilio.com\"");
    let err = result.expect_err("not http(s)");
    assert!(
        matches!(
            err,
            demo_common::DemoError::Settings(SettingsError::Invalid {
                key: "twilio_api_base",
                ..
            })
        ),
        "{err:?}"
    );
}
