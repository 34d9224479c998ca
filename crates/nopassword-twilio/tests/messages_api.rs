//! `TwilioSender` against a local mock of Twilio's Messages API (wiremock): the exact request,
//! Twilio's answers, retries and what never leaks.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use common::*;
use nopassword_core::{LoginCodeSender, SendError};
use nopassword_twilio::{RetryPolicy, SentMessage, TwilioError, TwilioSender};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

const MESSAGES_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// Retries without waiting, so the tests are fast; `Retry-After` still counts up to 2 s.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::ZERO,
        max_retry_after: Duration::from_secs(2),
        ..RetryPolicy::default()
    }
}

fn sender(server: &MockServer) -> TwilioSender {
    TwilioSender::builder_from_settings(&Default::default(), &twilio(&server.uri()))
        .expect("settings are complete")
        .retry_policy(fast())
        .build()
        .expect("builds")
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": "SM0123456789abcdef0123456789abcdef",
        "status": "queued",
        "to": TO,
        "from": FROM,
    }))
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

async fn send(sender: &TwilioSender) -> Result<SentMessage, TwilioError> {
    sender
        .send_login_sms(&login_code(Some(TO)), true, Some("localhost:8000"))
        .await
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording").len()
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "auth token leaked: {text}");
    assert!(
        !text.contains(BASIC_AUTH.trim_start_matches("Basic ")),
        "auth header leaked: {text}"
    );
}

#[tokio::test]
async fn posts_the_form_twilio_expects() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES_PATH))
        .and(header("authorization", BASIC_AUTH))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;

    let sent = send(&sender(&server)).await.expect("accepted");
    assert_eq!(
        sent,
        SentMessage::new(Some("SM0123456789abcdef0123456789abcdef".into()), 1)
    );

    let received = server.received_requests().await.expect("recording");
    let [request] = received.as_slice() else {
        panic!("expected one request, got {}", received.len())
    };
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), MESSAGES_PATH);
    assert_eq!(request.url.query(), None);
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let body = format!("{CODE} is your login code.\nLog in: {URL}\nIt expires in 15 minutes.");
    assert_eq!(
        form,
        [
            ("To".to_owned(), TO.to_owned()),
            ("From".to_owned(), FROM.to_owned()),
            ("Body".to_owned(), body),
        ]
    );
}

#[tokio::test]
async fn invalid_number_21211_is_final() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            400,
            21211,
            "The 'To' number +14155550100 is not a valid phone number.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    // Through the trait, as the service calls it: the typed error is inside the SendError.
    let err: SendError = sender(&server)
        .send_login_code(&login_code(Some(TO)), true, None)
        .await
        .expect_err("refused");
    let err = err.downcast_ref::<TwilioError>().expect("a TwilioError");
    assert!(
        matches!(
            err,
            TwilioError::Api { status: 400, code: Some(21211), attempts: 1, more_info: Some(link), .. }
                if link.ends_with("/21211")
        ),
        "{err:?}"
    );
    assert_eq!(err.twilio_code(), Some(21211));
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("21211"), "{err}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn authentication_failure_20003_is_final_and_hides_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .expect(1)
        .mount(&server)
        .await;

    let sender = sender(&server);
    let err = send(&sender).await.expect_err("refused");
    assert_eq!(
        (err.http_status(), err.twilio_code()),
        (Some(401), Some(20003))
    );
    assert_eq!(requests(&server).await, 1);
    assert_no_secret(&err.to_string());
    assert_no_secret(&format!("{err:?}"));
    assert_no_secret(&format!("{sender:?}"));
    assert!(format!("{sender:?}").contains("[redacted]"));
}

#[tokio::test]
async fn too_many_requests_is_retried_after_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created())
        .with_priority(2)
        .mount(&server)
        .await;

    let started = Instant::now();
    let sent = send(&sender(&server)).await.expect("accepted on retry");
    assert_eq!(sent.attempts, 2);
    assert_eq!(requests(&server).await, 2);
    // The backoff is zero here: only Retry-After can account for the wait.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_is_capped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "3600"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created())
        .with_priority(2)
        .mount(&server)
        .await;

    let sender = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base(server.uri())
        .retry_policy(RetryPolicy {
            max_retry_after: Duration::from_millis(50),
            ..fast()
        })
        .build()
        .expect("builds");
    let started = Instant::now();
    assert_eq!(send(&sender).await.expect("accepted").attempts, 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_one_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(500, 20500, "Internal Server Error"))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created())
        .with_priority(2)
        .mount(&server)
        .await;

    let sent = send(&sender(&server))
        .await
        .expect("the 4th try is accepted");
    assert_eq!(sent.attempts, 4);
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn server_errors_give_up_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(500, 20500, "Internal Server Error"))
        .mount(&server)
        .await;

    let err = send(&sender(&server)).await.expect_err("never accepted");
    // The first request and the 3 default retries, then the last answer as the error.
    assert_eq!(requests(&server).await, 4);
    assert!(
        matches!(
            err,
            TwilioError::Api {
                status: 500,
                code: Some(20500),
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn backoff_and_retry_count_follow_the_policy() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    let sender = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base(server.uri())
        .retry_policy(RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(150),
            ..RetryPolicy::default()
        })
        .build()
        .expect("builds");
    let started = Instant::now();
    let err = send(&sender).await.expect_err("never accepted");
    // Waits of 100 ms, then 200 ms capped to 150 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await, 3);
    assert!(
        matches!(
            err,
            TwilioError::Api {
                status: 503,
                code: None,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_twilio_json_is_not_copied() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(502).set_body_string("<html>proxy page with secrets</html>"),
        )
        .mount(&server)
        .await;

    let sender = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("builds");
    let err = send(&sender).await.expect_err("refused");
    assert_eq!(requests(&server).await, 1);
    assert!(
        matches!(&err, TwilioError::Api { status: 502, code: None, message, .. } if message == "Bad Gateway"),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("proxy page"));
}

#[tokio::test]
async fn a_user_without_a_phone_gets_a_typed_error_and_no_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;

    let sender = sender(&server);
    let err = sender
        .send_login_code(&login_code(None), true, None)
        .await
        .expect_err("no phone");
    let err = err.downcast_ref::<TwilioError>().expect("a TwilioError");
    assert!(
        matches!(err, TwilioError::NoPhoneNumber { user_id } if user_id == "42"),
        "{err:?}"
    );
    assert!(err.is_unreachable_user());
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn numbers_that_are_not_e164_never_leave() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;

    let sender = sender(&server);
    for bad in [
        "4155550100",
        "+1 415 555 0100",
        "+0415555",
        "tel:+14155550100",
        "",
    ] {
        let err = sender
            .send_login_sms(&login_code(Some(bad)), true, None)
            .await
            .expect_err(bad);
        assert!(
            matches!(&err, TwilioError::InvalidPhoneNumber { user_id, number } if user_id == "42" && number == bad),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let sender = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy {
            max_retries: 2,
            ..fast()
        })
        .build()
        .expect("builds");
    let err = send(&sender).await.expect_err("nobody listens");
    assert!(
        matches!(err, TwilioError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert_no_secret(&err.to_string());
    assert_no_secret(&format!("{err:?}"));
}

#[tokio::test]
async fn a_timeout_is_reported_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;

    // The message may have gone out before the answer was late: a retry could text twice.
    let sender = TwilioSender::builder(SID, TOKEN, FROM)
        .api_base(server.uri())
        .timeout(Duration::from_millis(200))
        .retry_policy(fast())
        .build()
        .expect("builds");
    let err = send(&sender).await.expect_err("too slow");
    assert!(
        matches!(err, TwilioError::Transport { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

/// A `tracing` subscriber that writes into a buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

#[tokio::test] // single-threaded: every event of the test is on this thread's subscriber
async fn logs_carry_the_message_sid_and_never_the_token_code_or_text() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(503, 20503, "Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created())
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .with_priority(3)
        .mount(&server)
        .await;

    let sender = sender(&server);
    send(&sender).await.expect("accepted after a retry");
    let err = send(&sender).await.expect_err("refused");
    tracing::error!(error = %err, debug = ?err, "as an app would log it");
    tracing::debug!(?sender, "the sender");

    let logs = logs.text();
    assert!(
        logs.contains("SM0123456789abcdef0123456789abcdef"),
        "{logs}"
    );
    assert!(logs.contains("user_id=42"), "{logs}");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("20003"), "{logs}");
    assert_no_secret(&logs);
    assert!(!logs.contains(CODE), "the code leaked: {logs}");
    assert!(
        !logs.contains("is your login code"),
        "the text leaked: {logs}"
    );
}

#[tokio::test]
async fn health_fetches_the_account_with_the_credentials_and_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/2010-04-01/Accounts/{SID}.json")))
        .and(header("authorization", BASIC_AUTH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"sid": SID, "status": "active"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sender = sender(&server);
    assert_eq!(sender.channel(), "sms");
    sender.health().await.expect("the account answers");
    let received = server.received_requests().await.expect("recording");
    assert!(
        received.iter().all(|r| r.method.as_str() == "GET"),
        "no SMS is posted"
    );
}

#[tokio::test]
async fn health_reports_refused_credentials_once_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(twilio_error(401, 20003, "Authenticate"))
        .expect(1)
        .mount(&server)
        .await;
    let error = sender(&server).health().await.expect_err("refused");
    let twilio = error.downcast_ref::<TwilioError>().expect("a TwilioError");
    assert_eq!(
        (twilio.http_status(), twilio.twilio_code()),
        (Some(401), Some(20003))
    );
    assert_no_secret(&error.to_string());
    assert_eq!(
        requests(&server).await,
        1,
        "a health check is never retried"
    );
}
