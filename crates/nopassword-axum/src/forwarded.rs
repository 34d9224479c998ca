//! What a request says about itself: secure or not, host, client address. Proxy headers are
//! believed only from `trusted_proxies` (the rule and [`RequestInfo`] itself are
//! nopassword-core's, shared with the actix adapter).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap, Uri, header::HOST},
};
use nopassword_core::http::{Connection, MissingClientWarning, RequestInfo};

/// The warning of the first request without a client address, once per process.
static MISSING_CLIENT: MissingClientWarning = MissingClientWarning::new(
    "serve the app with `app.into_make_service_with_connect_info::<std::net::SocketAddr>()`",
);

/// Reads a request's parts. `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For`
/// count only when the peer is one of `trusted`; the client's address is known only when the
/// server was started with `into_make_service_with_connect_info::<SocketAddr>()`.
///
/// Without a client address the per-address rate limit is off for that request. That is never
/// silent: the first such request logs a `warn!` naming the fix, once per process.
///
/// ```
/// use axum::http::Request;
/// use nopassword_axum::request_info;
///
/// let request = Request::get("/")
///     .header("host", "localhost:8000")
///     .header("x-forwarded-host", "evil.com")
///     .body(())
///     .unwrap();
/// let info = request_info(request.headers(), request.uri(), request.extensions(), &[]);
/// assert_eq!(info.host.as_deref(), Some("localhost:8000"));
/// assert_eq!(info.client, None);
/// ```
pub fn request_info(
    headers: &HeaderMap,
    uri: &Uri,
    extensions: &Extensions,
    trusted: &[IpAddr],
) -> RequestInfo {
    let connection = Connection {
        peer: extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip()),
        https: uri.scheme_str() == Some("https"),
        host: headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| uri.authority().map(|a| a.as_str())),
    };
    let info = RequestInfo::resolve(
        connection,
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
        trusted,
    );
    MISSING_CLIENT.check(&info);
    info
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn info(peer: &str, headers: &[(&'static str, &str)], trusted: &[IpAddr]) -> RequestInfo {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).expect("value"));
        }
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(peer.parse::<SocketAddr>().expect("addr")));
        request_info(&map, &Uri::from_static("/x"), &ext, trusted)
    }

    #[test]
    fn proxy_headers_count_only_from_trusted_peers() {
        let headers = [
            ("host", "localhost:8000"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.com"),
            ("x-forwarded-for", "198.51.100.7"),
        ];
        let direct = info("203.0.113.5:5000", &headers, &[]);
        assert_eq!(direct.host.as_deref(), Some("localhost:8000"));
        assert!(!direct.secure);
        assert_eq!(direct.client, "203.0.113.5".parse().ok());
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let proxied = info("10.0.0.1:5000", &headers, &[proxy]);
        assert!(proxied.secure);
        assert_eq!(proxied.host.as_deref(), Some("evil.com"));
        assert_eq!(proxied.client, "198.51.100.7".parse().ok());
    }
}
