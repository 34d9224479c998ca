//! What a request says about itself: secure or not, host, client address. Proxy headers are
//! believed only from `trusted_proxies`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, HeaderMap, Uri, header::HOST},
};

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
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip());
        let from_proxy = peer.is_some_and(|p| trusted.contains(&p));
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let mut secure = uri.scheme_str() == Some("https");
        let mut host = header(HOST.as_str())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
        let mut client = peer;
        if from_proxy {
            if let Some(proto) = header("x-forwarded-proto") {
                secure = proto
                    .split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
            }
            if let Some(fwd) = header("x-forwarded-host") {
                host = fwd.split(',').next().map(|h| h.trim().to_owned());
            }
            if let Some(chain) = header("x-forwarded-for") {
                // The right-most address not of our own proxies is the client.
                client = chain
                    .split(',')
                    .rev()
                    .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                    .find(|a| !trusted.contains(a))
                    .or(peer);
            }
        }
        Self {
            secure,
            host,
            client,
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
