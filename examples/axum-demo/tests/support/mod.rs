//! Shared by the demo's browser tests: a WebDriver client and the demo on a free port.

pub(crate) mod webdriver;

use std::net::SocketAddr;

use axum_demo::Demo;
use nopassword_core::{SecretString, Settings};

/// The demo site with its built-in users, served in this process on a free port.
pub(crate) struct RunningDemo {
    pub(crate) demo: Demo,
    /// `http://127.0.0.1:P`, no trailing slash.
    pub(crate) base: String,
    server: tokio::task::JoinHandle<()>,
}

impl RunningDemo {
    pub(crate) async fn start() -> Self {
        let settings = Settings {
            secret_key: Some(SecretString::new(
                "browser-test-secret-key-0123456789abcdef",
            )),
            ..Settings::default()
        };
        let demo = Demo::build(settings, axum_demo::demo_users()).expect("the demo builds");
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("cannot bind 127.0.0.1:0 for the demo");
        let address = listener.local_addr().expect("the listener has an address");
        let app = demo.app.clone();
        let server = tokio::spawn(async move {
            axum_demo::serve(listener, app)
                .await
                .expect("the demo server failed");
        });
        Self {
            demo,
            base: format!("http://{address}"),
            server,
        }
    }

    /// An absolute URL on the demo site.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The demo's login path, such as `/accounts/login/`.
    pub(crate) fn mount(&self, path: &str) -> String {
        format!("{}{path}", self.demo.service.settings().mount_path)
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        self.server.abort();
    }
}
