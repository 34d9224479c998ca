//! Parsing `smtp_url` into what lettre's SMTP transport needs, without ever quoting the URL.
//!
//! Plain text is for the loopback only, unless the URL asks for it: `smtp://host` requires
//! STARTTLS for any host but `localhost`, 127.0.0.0/8 and `::1`, where it stays opportunistic.

use std::{fmt, net::IpAddr};

use nopassword_core::secret::SecretString;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::EmailError;

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// `smtp://...?tls=none`: plain text, asked for explicitly (local relays, test sinks).
    None,
    /// `smtp://<loopback>` or `smtp://...?tls=opportunistic`: STARTTLS when the server offers
    /// it, else plain text. For another host only when the URL asks for it: an attacker on
    /// the path can strip the STARTTLS offer.
    Opportunistic,
    /// `smtp://<any other host>` or `smtp://...?tls=required`: STARTTLS or fail.
    Required,
    /// `smtps://...`: TLS from the first byte (implicit TLS, port 465).
    Implicit,
}

impl TlsMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Opportunistic => "opportunistic STARTTLS",
            Self::Required => "required STARTTLS",
            Self::Implicit => "implicit TLS",
        }
    }
}

/// A parsed `smtp_url`. `Debug` shows the user name but never the password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SmtpConfig {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: TlsMode,
    pub(crate) credentials: Option<(String, SecretString)>,
    /// The name sent with EHLO, from the URL's path; the machine's host name otherwise.
    pub(crate) hello_name: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Smtp");
        d.field("server", &self.server())
            .field("tls", &self.tls.name());
        if let Some((user, _)) = &self.credentials {
            d.field("user", user).field("password", &"[redacted]");
        }
        if let Some(name) = &self.hello_name {
            d.field("hello_name", name);
        }
        d.finish()
    }
}

fn invalid(reason: impl Into<String>) -> EmailError {
    EmailError::InvalidSmtpUrl {
        reason: reason.into(),
    }
}

impl SmtpConfig {
    /// `host:port`, for errors and logs.
    pub(crate) fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Parses `smtp[s]://[user:password@]host[:port][/ehlo-name][?tls=none|opportunistic|required]`.
    ///
    /// Without `tls=`, `smtp://` is [`TlsMode::Required`] unless the host is the loopback
    /// ([`is_loopback`]), where it is [`TlsMode::Opportunistic`]; the default port is 25 either
    /// way (587 with `tls=required`, 465 for `smtps://`).
    pub(crate) fn parse(url: &SecretString) -> Result<Self, EmailError> {
        // url's parse errors describe the problem without echoing the input.
        let url = Url::parse(url.expose().trim()).map_err(|e| {
            invalid(format!(
                "not a URL ({e}); expected smtp://host:port or smtps://host:port"
            ))
        })?;
        let tls_param = {
            let mut tls = None;
            for (key, value) in url.query_pairs() {
                match &*key {
                    "tls" if tls.is_none() => tls = Some(value.into_owned()),
                    "tls" => return Err(invalid("the `tls` query parameter is given twice")),
                    other => {
                        return Err(invalid(format!(
                            "unknown query parameter `{other}`; the only one accepted is `tls`"
                        )));
                    }
                }
            }
            tls
        };
        // `None`: no `tls=` on smtp://, decided by the host below.
        let explicit = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None) => None,
            ("smtp", Some("opportunistic")) => Some(TlsMode::Opportunistic),
            ("smtp", Some("required")) => Some(TlsMode::Required),
            ("smtp", Some("none")) => Some(TlsMode::None),
            ("smtp", Some(other)) => {
                return Err(invalid(format!(
                    "tls={other:?} is not one of `required` (the default, except for a \
                     loopback host), `opportunistic`, `none`"
                )));
            }
            ("smtps", None) => Some(TlsMode::Implicit),
            ("smtps", Some(_)) => {
                return Err(invalid(
                    "smtps:// always uses TLS; `tls=` applies to smtp:// (STARTTLS) only",
                ));
            }
            (scheme, _) => {
                return Err(invalid(format!(
                    "the scheme must be smtp (STARTTLS) or smtps (implicit TLS), not {scheme:?}"
                )));
            }
        };
        let host = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("the URL names no host")),
        };
        let tls = explicit.unwrap_or(if is_loopback(&host) {
            TlsMode::Opportunistic
        } else {
            TlsMode::Required
        });
        // From what the URL says: a bare smtp://host keeps port 25 whichever mode it gets.
        let port = url.port().unwrap_or(match explicit {
            Some(TlsMode::Implicit) => 465,
            Some(TlsMode::Required) => 587,
            Some(TlsMode::None | TlsMode::Opportunistic) | None => 25,
        });
        let decode = |s: &str, what: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| invalid(format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => Some((
                decode(user, "user name")?,
                SecretString::new(decode(password, "password")?),
            )),
            ("", Some(_)) => return Err(invalid("a password is given without a user name")),
            (_, None) => {
                return Err(invalid(
                    "a user name is given without a password (user:password@host)",
                ));
            }
            _ => return Err(invalid("unusable credentials")),
        };
        let path = url.path().trim_matches('/');
        let hello_name = (!path.is_empty()).then(|| path.to_owned());
        if url.fragment().is_some() {
            return Err(invalid("a fragment (#...) has no meaning in an SMTP URL"));
        }
        Ok(Self {
            host,
            port,
            tls,
            credentials,
            hello_name,
        })
    }
}

/// Whether `host`, as parsed from the URL (an IPv6 address without brackets), is this
/// machine's loopback: `localhost` (any case), 127.0.0.0/8 or `::1`. Nothing else counts
/// (`localhost.`, another name that resolves to 127.0.0.1, `::ffff:127.0.0.1`): the rule reads
/// the URL, not what a resolver answers, and anything it does not recognise requires TLS.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SmtpConfig, EmailError> {
        SmtpConfig::parse(&SecretString::new(s))
    }

    #[test]
    fn schemes_ports_and_tls() {
        let c = parse("smtp://mail.example.com").expect("valid");
        assert_eq!((c.port, c.tls), (25, TlsMode::Required));
        let c = parse("smtp://mail.example.com?tls=opportunistic").expect("valid");
        assert_eq!((c.port, c.tls), (25, TlsMode::Opportunistic));
        let c = parse("smtp://mail.example.com?tls=required").expect("valid");
        assert_eq!((c.port, c.tls), (587, TlsMode::Required));
        let c = parse("smtp://127.0.0.1:2525?tls=none").expect("valid");
        assert_eq!(
            (c.host.as_str(), c.port, c.tls),
            ("127.0.0.1", 2525, TlsMode::None)
        );
        let c = parse("smtps://mail.example.com").expect("valid");
        assert_eq!((c.port, c.tls), (465, TlsMode::Implicit));
        let c = parse("smtp://[::1]:2525/client.example.org").expect("valid");
        assert_eq!(c.host, "::1");
        assert_eq!(c.server(), "[::1]:2525");
        assert_eq!(c.hello_name.as_deref(), Some("client.example.org"));
    }

    fn tls(url: &str) -> TlsMode {
        parse(url).unwrap_or_else(|e| panic!("{url}: {e}")).tls
    }

    #[test]
    fn loopback_names_stay_opportunistic() {
        for url in [
            "smtp://localhost",
            "smtp://LocalHost:2525",
            "smtp://user:pw@localhost:25/client.example.org",
        ] {
            assert_eq!(tls(url), TlsMode::Opportunistic, "{url}");
        }
    }

    #[test]
    fn loopback_ipv4_stays_opportunistic() {
        for url in [
            "smtp://127.0.0.1",
            "smtp://127.0.0.1:2525",
            "smtp://127.1.2.3:25",
            "smtp://127.255.255.254",
        ] {
            assert_eq!(tls(url), TlsMode::Opportunistic, "{url}");
        }
        assert_eq!(parse("smtp://127.0.0.1").expect("valid").port, 25);
    }

    #[test]
    fn loopback_ipv6_stays_opportunistic() {
        for url in [
            "smtp://[::1]",
            "smtp://[::1]:2525",
            "smtp://[0:0:0:0:0:0:0:1]:25",
        ] {
            assert_eq!(tls(url), TlsMode::Opportunistic, "{url}");
        }
    }

    #[test]
    fn other_hosts_require_starttls_by_default() {
        for url in [
            "smtp://mail.example.com",
            "smtp://user:pw@mail.example.com:587",
            "smtp://smtp.example.com:25/client.example.org",
            // Not spelt as the loopback: the rule reads the URL, never a resolver's answer.
            "smtp://localhost.",
            "smtp://localhost.example.com",
            "smtp://mylocalhost",
            "smtp://127.0.0.1.example.com",
            "smtp://[::ffff:127.0.0.1]",
            "smtp://[::2]",
            // The machine's own non-loopback addresses, and the unspecified ones.
            "smtp://192.0.2.2",
            "smtp://10.0.0.1:25",
            "smtp://0.0.0.0",
            "smtp://[::]",
            "smtp://[fd00::2]:25",
        ] {
            assert_eq!(tls(url), TlsMode::Required, "{url}");
        }
        // The URL's default port stays 25: only `tls=required` implies submission (587).
        assert_eq!(parse("smtp://mail.example.com").expect("valid").port, 25);
        assert!(
            format!("{:?}", parse("smtp://mail.example.com").expect("valid"))
                .contains("required STARTTLS")
        );
    }

    #[test]
    fn plain_text_to_another_host_only_when_asked_for() {
        let c = parse("smtp://relay.example.com?tls=none").expect("valid");
        assert_eq!((c.tls, c.port), (TlsMode::None, 25));
        let c = parse("smtp://relay.example.com:2525?tls=opportunistic").expect("valid");
        assert_eq!((c.tls, c.port), (TlsMode::Opportunistic, 2525));
        // Explicit modes win over the loopback default as well.
        assert_eq!(tls("smtp://127.0.0.1?tls=required"), TlsMode::Required);
        assert_eq!(tls("smtp://localhost?tls=none"), TlsMode::None);
        assert_eq!(tls("smtps://localhost"), TlsMode::Implicit);
        assert_eq!(tls("smtps://mail.example.com"), TlsMode::Implicit);
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let c =
            parse("smtps://bob%40example.com:p%40ss%2Fw0rd@mail.example.com:465").expect("valid");
        let (user, password) = c.credentials.clone().expect("credentials");
        assert_eq!(user, "bob@example.com");
        assert_eq!(password.expose(), "p@ss/w0rd");
        let debug = format!("{c:?}");
        assert!(debug.contains("bob@example.com"), "{debug}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("p%40ss"),
            "{debug}"
        );
    }

    #[test]
    fn refusals_never_quote_the_url() {
        for bad in [
            "http://bob:hunter2@mail.example.com",
            "smtp://bob:hunter2@mail.example.com?tls=maybe",
            "smtp://bob:hunter2@mail.example.com?tsl=required",
            "smtps://bob:hunter2@mail.example.com?tls=required",
            "smtp://bob:hunter2@:25",
            "smtp://bob@mail.example.com",
            "smtp://:hunter2@mail.example.com",
            "smtp://bob:hunter2@mail.example.com:99999",
            "bob:hunter2",
            "smtp://bob:hunter2@mail.example.com#x",
            "",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                matches!(err, EmailError::InvalidSmtpUrl { .. }),
                "{bad}: {err:?}"
            );
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{bad}: {shown}");
        }
    }
}
