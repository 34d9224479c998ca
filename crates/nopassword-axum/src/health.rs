//! The readiness route an app mounts where its orchestrator looks (`/readyz`).

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use nopassword_core::{LoginUser, NoPassword};

/// How long [`readiness`] waits for each check by default.
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// A `GET` route answering [`NoPassword::readiness`]: 200 with
/// `{"status":"ready","checks":{"store":"ok","sender:email":"ok"}}` when the code store and the
/// senders answer their health checks within [`READINESS_TIMEOUT`], else 503 with the failing
/// checks named (never their errors, which are logged). Mount it wherever the app's
/// orchestrator probes, outside any login guard.
///
/// ```
/// use axum::Router;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::default()).sender(Outbox::new(1)).build().unwrap();
/// let app: Router = Router::new().route("/readyz", nopassword_axum::readiness(service.clone()));
/// ```
pub fn readiness<U: LoginUser, S: Clone + Send + Sync + 'static>(
    service: NoPassword<U>,
) -> MethodRouter<S> {
    readiness_with_timeout(service, READINESS_TIMEOUT)
}

/// [`readiness`] with another time limit per check.
///
/// ```
/// use std::time::Duration;
/// use axum::Router;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::default()).sender(Outbox::new(1)).build().unwrap();
/// let app: Router = Router::new()
///     .route("/readyz", nopassword_axum::readiness_with_timeout(service, Duration::from_millis(500)));
/// ```
pub fn readiness_with_timeout<U: LoginUser, S: Clone + Send + Sync + 'static>(
    service: NoPassword<U>,
    timeout: Duration,
) -> MethodRouter<S> {
    get(move || {
        let service = service.clone();
        async move {
            let report = service.readiness(timeout).await;
            let status =
                StatusCode::from_u16(report.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response: Response = (status, report.to_json()).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    })
}
