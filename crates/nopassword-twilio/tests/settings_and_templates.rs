//! Building a `TwilioSender`: required settings, the `From` number, and the SMS template
//! (built-in, overridden, broken). No network.

mod common;

use common::*;
use nopassword_core::Settings;
use nopassword_twilio::{DEFAULT_SMS_TEMPLATE, TwilioError, TwilioSender, TwilioSettings};

fn write_template(dir: &tempfile::TempDir, text: &str) {
    std::fs::write(dir.path().join("login_sms.txt"), text).expect("write template");
}

fn render(sender: &TwilioSender) -> String {
    sender
        .render_message(&login_code(Some(TO)), true, Some("localhost:8000"))
        .expect("renders")
}

#[test]
fn each_missing_setting_is_named() {
    let complete = twilio("https://api.twilio.com");
    type Unset = fn(&mut TwilioSettings);
    let cases: [(&str, Unset); 5] = [
        ("twilio_sid", |s| s.twilio_sid = None),
        ("twilio_sid", |s| s.twilio_sid = Some(String::new())),
        ("twilio_auth_token", |s| s.twilio_auth_token = None),
        ("twilio_auth_token", |s| {
            s.twilio_auth_token = Some("".into())
        }),
        ("default_from_number", |s| s.default_from_number = None),
    ];
    for (key, unset) in cases {
        let mut twilio = complete.clone();
        unset(&mut twilio);
        let err = TwilioSender::from_settings(&Settings::default(), &twilio).expect_err(key);
        assert!(
            matches!(err, TwilioError::MissingSetting { key: k } if k == key),
            "{key}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(key), "{text}");
        assert!(
            text.contains(&format!("NOPASSWORD_{}", key.to_uppercase())),
            "{text}"
        );
    }
    assert!(TwilioSender::from_settings(&Settings::default(), &complete).is_ok());
}

#[test]
fn from_number_and_api_base_are_checked_at_build() {
    let twilio = TwilioSettings {
        default_from_number: Some("(415) 555-0100".into()),
        ..twilio("https://api.twilio.com")
    };
    let err = TwilioSender::from_settings(&Settings::default(), &twilio).expect_err("not E.164");
    assert!(
        matches!(&err, TwilioError::InvalidSetting { key: "default_from_number", value, .. } if value == "(415) 555-0100"),
        "{err:?}"
    );
    let err = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base("api.twilio.com")
        .build()
        .expect_err("no scheme");
    assert!(
        matches!(
            err,
            TwilioError::InvalidSetting {
                key: "twilio_api_base",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn debug_of_builder_and_sender_hides_the_token() {
    let builder = TwilioSender::builder_from_settings(
        &Settings::default(),
        &twilio("https://api.twilio.com"),
    )
    .expect("complete");
    let sender = builder.clone().build().expect("builds");
    for text in [format!("{builder:?}"), format!("{sender:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert!(text.contains(SID), "{text}");
    }
}

#[test]
fn the_builtin_template_has_url_code_and_validity() {
    let sender =
        TwilioSender::from_settings(&Settings::default(), &twilio("https://api.twilio.com"))
            .expect("builds");
    assert_eq!(
        render(&sender),
        format!("{CODE} is your login code.\nLog in: {URL}\nIt expires in 15 minutes.")
    );
    assert!(DEFAULT_SMS_TEMPLATE.contains("url=url") && DEFAULT_SMS_TEMPLATE.contains("code=code"));
}

#[test]
fn a_login_sms_txt_in_template_dir_replaces_the_builtin() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_template(
        &dir,
        "Hi {{ username }}! Code {{ code }} for {{ site }}, {{ url }} ({{ expires_in_seconds }}s, {{ expires_in }})\n",
    );
    let s = Settings {
        template_dir: Some(dir.path().to_owned()),
        ..Settings::default()
    };
    let sender =
        TwilioSender::from_settings(&s, &twilio("https://api.twilio.com")).expect("builds");
    assert_eq!(
        render(&sender),
        format!("Hi alice! Code {CODE} for localhost:8000, {URL} (900s, 15 minutes)")
    );
}

#[test]
fn a_template_dir_without_the_file_keeps_the_builtin() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("login_email.txt"), "{{ nonsense").expect("write");
    let s = Settings {
        template_dir: Some(dir.path().to_owned()),
        ..Settings::default()
    };
    let sender =
        TwilioSender::from_settings(&s, &twilio("https://api.twilio.com")).expect("builds");
    assert!(render(&sender).starts_with(&format!("{CODE} is your login code.")));
}

#[test]
fn the_builder_template_dir_wins_over_the_settings() {
    let from_settings = tempfile::tempdir().expect("tempdir");
    write_template(&from_settings, "settings {{ code }}");
    let from_builder = tempfile::tempdir().expect("tempdir");
    write_template(&from_builder, "builder {{ code }}");
    let s = Settings {
        template_dir: Some(from_settings.path().to_owned()),
        ..Settings::default()
    };
    let sender = TwilioSender::builder_from_settings(&s, &twilio("https://api.twilio.com"))
        .expect("complete")
        .template_dir(from_builder.path())
        .build()
        .expect("builds");
    assert_eq!(render(&sender), format!("builder {CODE}"));
}

#[test]
fn a_broken_template_stops_start_up_naming_the_file() {
    for (text, why) in [
        ("{{ code }", "syntax error"),
        ("{% if code %}{{ code }}", "unclosed block"),
        ("{{ code }} {{ ulr }}", "misspelt variable"),
        ("{{ code | no_such_filter }}", "unknown filter"),
        ("  {# nothing #}\n", "empty message"),
        (
            "{{ code }} {% include \"signature.txt\" %}",
            "missing include",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        write_template(&dir, text);
        let err = TwilioSender::builder(SID, TOKEN, FROM)
            .template_dir(dir.path())
            .build()
            .expect_err(why);
        let file = dir.path().join("login_sms.txt").display().to_string();
        assert!(
            matches!(&err, TwilioError::Template { file: f, .. } if *f == file),
            "{why}: {err:?}"
        );
        assert!(err.to_string().contains(&file), "{why}: {err}");
    }
}

#[test]
fn an_unreadable_template_is_an_error_not_the_builtin() {
    // A directory where the file should be: reading it fails with something other than
    // "not found", which must not silently fall back to the built-in text.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("login_sms.txt")).expect("mkdir");
    let err = TwilioSender::builder(SID, TOKEN, FROM)
        .template_dir(dir.path())
        .build()
        .expect_err("unreadable");
    assert!(matches!(err, TwilioError::Template { .. }), "{err:?}");
}
