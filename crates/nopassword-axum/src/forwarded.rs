//! What a request says about itself: secure or not, host, client address. Proxy headers are
//! believed only from `trusted_proxies` (the rule itself is nopassword-core's, shared with the
//! actix adapter).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap, Uri, header::HOST},
};
use nopassword_core::http::Connection;

/// Facts about a request that the login flow needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the client used HTTPS (links then use `https`, cookies get `Secure`).
    pub secure: bool,
    /// The `Host` the client asked for (checked against `allowed_hosts` before use in a link).
    pub host: Option<String>,
    /// The client's address, for rate limits. `None` when the server was not started with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub client: Option<IpAddr>,
}

impl RequestInfo {
    /// Reads a request's parts. `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For`
    /// count only when the peer is one of `trusted`.
    pub fn from_parts(
        headers: &HeaderMap,
        uri: &Uri,
        extensions: &Extensions,
        trusted: &[IpAddr],
    ) -> Self {
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
        let info = nopassword_core::http::RequestInfo::resolve(
            connection,
            |name| headers.get(name).and_then(|v| v.to_str().ok()),
            trusted,
        );
        Self {
            secure: info.secure,
            host: info.host,
            client: info.client,
        }
    }
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
        RequestInfo::from_parts(&map, &Uri::from_static("/x"), &ext, trusted)
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
