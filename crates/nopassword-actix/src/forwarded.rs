//! What a request says about itself: secure or not, host, client address. Proxy headers are
//! believed only from `trusted_proxies` (actix's own `ConnectionInfo` believes them from
//! anyone, so it is not used).

use std::net::IpAddr;

use actix_web::{HttpRequest, http::header::HOST};
use nopassword_core::http::{Connection, MissingClientWarning, RequestInfo};

/// The warning of the first request without a client address, once per process.
static MISSING_CLIENT: MissingClientWarning = MissingClientWarning::new(
    "bind the server to a TCP address (HttpServer::bind), whose peer address actix-web knows",
);

/// Reads a request. `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` count only
/// when the peer is one of `trusted`; a request is secure when the server was bound with TLS.
///
/// A request without a peer address (a server bound to a Unix socket) has no client address,
/// and the per-address rate limit is off for it. That is never silent: the first such request
/// logs a `warn!` naming the fix, once per process.
///
/// ```
/// use actix_web::test::TestRequest;
///
/// let req = TestRequest::default()
///     .insert_header(("host", "localhost:8000"))
///     .insert_header(("x-forwarded-host", "evil.com"))
///     .peer_addr("203.0.113.5:5000".parse().unwrap())
///     .to_http_request();
/// let info = nopassword_actix::request_info(&req, &[]);
/// assert_eq!(info.host.as_deref(), Some("localhost:8000"));
/// assert_eq!(info.client, "203.0.113.5".parse().ok());
/// ```
pub fn request_info(req: &HttpRequest, trusted: &[IpAddr]) -> RequestInfo {
    let headers = req.headers();
    let connection = Connection {
        peer: req.peer_addr().map(|addr| addr.ip()),
        https: req.app_config().secure() || req.uri().scheme_str() == Some("https"),
        host: headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str())),
    };
    let info = RequestInfo::resolve(
        connection,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        trusted,
    );
    MISSING_CLIENT.check(&info);
    info
}
