//! The store installs no process-wide rustls crypto provider: the application's own
//! `install_default()` succeeds after a store was built for a `rediss://` URL, and a `rediss://`
//! store without any provider is refused with a clear error rather than a panic or a silent
//! install. One test in this binary, so no other test installs a provider first.

#![cfg(all(feature = "tls-rustls", feature = "ring"))]

use nopassword_store::{RedisStore, RedisStoreError, rustls::crypto::CryptoProvider};

#[tokio::test]
async fn the_application_installs_the_crypto_provider_not_the_store() {
    assert!(
        CryptoProvider::get_default().is_none(),
        "nothing installed yet"
    );

    // A plain store (nothing listens on port 1, so connecting fails) touches no provider...
    let plain = RedisStore::connect("redis://127.0.0.1:1/", "nopassword").await;
    assert!(plain.is_err());
    assert!(CryptoProvider::get_default().is_none());

    // ...nor does a TLS one: without the app's provider it is refused before any traffic.
    for urls in [
        "rediss://:secret@127.0.0.1:1/",
        "redis://127.0.0.1:1/,rediss://127.0.0.1:2/",
    ] {
        let error = RedisStore::connect(urls, "nopassword")
            .await
            .expect_err("no provider installed");
        assert!(
            matches!(error, RedisStoreError::NoCryptoProvider),
            "{error:?}"
        );
        assert!(error.to_string().contains("install_default"), "{error}");
        assert!(!format!("{error} {error:?}").contains("secret"));
        assert!(
            CryptoProvider::get_default().is_none(),
            "the store installed one"
        );
    }

    // The application's own install, once in main, succeeds...
    nopassword_store::rustls::crypto::ring::default_provider()
        .install_default()
        .expect("the application's install_default succeeds: no library installed one");

    // ...and the store then goes on to connect (and fails only for want of a server).
    let error = RedisStore::builder("rediss://127.0.0.1:1/")
        .connect()
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        matches!(
            error,
            RedisStoreError::Connect { .. } | RedisStoreError::ConnectTimeout { .. }
        ),
        "{error:?}"
    );
}
