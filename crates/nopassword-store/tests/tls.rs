//! `rediss://`: the store talks TLS (rustls) to a Redis whose certificate comes from a private
//! CA, with a password, and refuses a certificate it cannot verify. Like an application, each
//! test installs rustls's crypto provider first (the store installs none).

#![cfg(all(feature = "tls-rustls", feature = "ring"))]

mod common;

use std::{path::Path, process::Command};

use nopassword_store::{RedisStore, RedisStoreError};

const PASSWORD: &str = "tls-test-password-9f2c";

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|error| {
            panic!("this test makes its certificates with the `openssl` command: {error}")
        });
    assert!(status.success(), "openssl {args:?} failed");
}

/// A CA, and a certificate it signed for 127.0.0.1 and localhost.
fn make_certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=nopassword test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

fn tls_server() -> common::OwnRedis {
    // What the application does once in `main` (an error means it is already installed).
    let _ = nopassword_store::rustls::crypto::ring::default_provider().install_default();
    common::OwnRedis::start_with(|port, dir| {
        make_certificates(dir);
        let file = |name: &str| dir.join(name).display().to_string();
        vec![
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            file("server.crt"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.crt"),
            "--tls-auth-clients".into(),
            "no".into(),
            "--requirepass".into(),
            PASSWORD.into(),
        ]
    })
}

/// The store suite over `rediss://`, each check against a TLS server of its own.
mod rediss_with_a_private_ca {
    use std::sync::Arc;

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_store::RedisStore;

    use super::{PASSWORD, tls_server};

    store_suite!(async || {
        let server = tls_server();
        let ca = std::fs::read(server.dir().join("ca.crt")).expect("read ca.crt");
        let url = format!("rediss://:{PASSWORD}@127.0.0.1:{}/", server.port());
        let store = RedisStore::builder(url.as_str())
            .namespace("tls")
            .tls_root_certificates(ca)
            .connect()
            .await
            .expect("connect over TLS");
        assert!(!format!("{store:?}").contains(PASSWORD));
        Subject::real_time(Arc::new(store)).hold(server)
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_or_a_wrong_password_is_refused() {
    let server = tls_server();
    let url = format!("rediss://:{PASSWORD}@127.0.0.1:{}/", server.port());
    // The system's roots do not know the private CA.
    let error = RedisStore::connect(&url, "tls")
        .await
        .expect_err("an unverifiable certificate is refused");
    assert!(
        matches!(error, RedisStoreError::Connect { .. }),
        "{error:?}"
    );
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");

    let ca = std::fs::read(server.dir().join("ca.crt")).expect("read ca.crt");
    let wrong = format!("rediss://:not-the-password@127.0.0.1:{}/", server.port());
    let error = RedisStore::builder(wrong.as_str())
        .tls_root_certificates(ca)
        .connect()
        .await
        .expect_err("a wrong password is refused");
    assert!(
        matches!(error, RedisStoreError::Connect { .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("not-the-password"));
}
