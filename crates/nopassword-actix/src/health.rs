//! The readiness route an app mounts where its orchestrator looks (`/readyz`).

use std::time::Duration;

use actix_web::{
    HttpResponse, Resource,
    http::{StatusCode, header},
    web,
};
use nopassword_core::{LoginUser, NoPassword};

/// How long [`readiness`] waits for each check by default.
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// A resource at `path` whose `GET` answers [`NoPassword::readiness`]: 200 with
/// `{"status":"ready","checks":{"store":"ok","sender:email":"ok"}}` when the code store and the
/// senders answer their health checks within [`READINESS_TIMEOUT`], else 503 with the failing
/// checks named (never their errors, which are logged). Register it outside any login guard.
///
/// ```
/// use actix_web::App;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::default()).sender(Outbox::new(1)).build().unwrap();
/// let app = App::new().service(nopassword_actix::readiness("/readyz", service.clone()));
/// ```
pub fn readiness<U: LoginUser>(path: &str, service: NoPassword<U>) -> Resource {
    readiness_with_timeout(path, service, READINESS_TIMEOUT)
}

/// [`readiness`] with another time limit per check.
///
/// ```
/// use std::time::Duration;
/// use actix_web::App;
/// use nopassword_core::{NoPassword, Outbox, Settings, user::MemoryDirectory};
///
/// let settings = Settings { secret_key: Some("0123456789abcdef0123456789abcdef".into()), ..Settings::default() };
/// let service = NoPassword::builder(settings, MemoryDirectory::default()).sender(Outbox::new(1)).build().unwrap();
/// let app = App::new()
///     .service(nopassword_actix::readiness_with_timeout("/readyz", service, Duration::from_millis(500)));
/// ```
pub fn readiness_with_timeout<U: LoginUser>(
    path: &str,
    service: NoPassword<U>,
    timeout: Duration,
) -> Resource {
    web::resource(path).route(web::get().to(move || {
        let service = service.clone();
        async move {
            let report = service.readiness(timeout).await;
            let status =
                StatusCode::from_u16(report.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            HttpResponse::build(status)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(report.to_json())
        }
    }))
}
