//! Every documented settings key is read by exactly one crate, the one `docs/SETTINGS.md`
//! files it under; a file with a key that no crate in use reads stops start-up, naming it.

// `figment::Jail::expect_with` takes a closure returning figment's own (large) error type.
#![allow(clippy::result_large_err)]

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
use nopassword_sqlx::DatabaseSettings;
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
        of::<DatabaseSettings>(),
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

/// `NOPASSWORD_*` variables go through the same union of crates as the file: a typo is
/// refused at start-up with the nearest variable any crate in use reads, not ignored.
#[test]
fn an_unknown_nopassword_variable_is_refused_with_the_nearest_of_any_crate() {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (variable, near) in [
            ("NOPASSWORD_SMTP_ULR", Some("NOPASSWORD_SMTP_URL")),
            (
                "NOPASSWORD_LOGIN_CODE_TIMOUT",
                Some("NOPASSWORD_LOGIN_CODE_TIMEOUT"),
            ),
            ("NOPASSWORD_BINDD", Some("NOPASSWORD_BIND")),
            ("NOPASSWORD_FAX_BAUD", None),
        ] {
            jail.clear_env();
            jail.set_env(variable, "300");
            let err = DemoSettings::load().expect_err(variable);
            let text = err.to_string();
            assert!(text.contains(&format!("`{variable}`")), "{text}");
            match near {
                Some(near) => assert!(text.contains(&format!("did you mean `{near}`?")), "{text}"),
                None => assert!(text.contains("no crate in use reads it"), "{text}"),
            }
        }
        Ok(())
    });
}

/// The demo's own variables, every crate's keys, `NOPASSWORD_CONFIG` and the test harness's
/// `NOPASSWORD_TEST_*` are all accepted.
#[test]
fn the_variables_of_every_crate_and_the_demos_own_are_accepted() {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("demo.toml", "numeric_codes = true")?;
        for (variable, value) in [
            ("NOPASSWORD_CONFIG", "demo.toml"),
            ("NOPASSWORD_BIND", "127.0.0.1:0"),
            ("NOPASSWORD_USERS_FILE", "users.toml"),
            ("NOPASSWORD_CODE_LENGTH", "8"),
            ("NOPASSWORD_SMTP_URL", "smtp://127.0.0.1:2525"),
            ("NOPASSWORD_TWILIO_SID", "AC0123"),
            ("NOPASSWORD_REDIS_URL", "redis://127.0.0.1:6379/"),
            ("NOPASSWORD_TEST_ANYTHING", "1"),
        ] {
            jail.set_env(variable, value);
        }
        let settings = DemoSettings::load().expect("every variable is known");
        assert_eq!(settings.core.code_length, 8);
        assert!(settings.core.numeric_codes);
        assert!(settings.email.smtp_url.is_some() && settings.redis.redis_url.is_some());
        Ok(())
    });
}

/// A file that `NOPASSWORD_CONFIG` names must exist; without the variable, a missing
/// `nopassword.toml` only means defaults.
#[test]
fn a_missing_named_settings_file_is_an_error_naming_it() {
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        DemoSettings::load().expect("no file and no variable: defaults");
        jail.set_env("NOPASSWORD_CONFIG", "/nonexistent/nopassword.toml");
        let text = DemoSettings::load()
            .expect_err("a named file is missing")
            .to_string();
        assert!(
            text.contains("/nonexistent/nopassword.toml") && text.contains("NOPASSWORD_CONFIG"),
            "{text}"
        );
        Ok(())
    });
}
