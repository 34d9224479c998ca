//! What operators mount beside the routes: the readiness route (`GET /readyz` in the suite's
//! apps, from the adapter's `readiness`), as docs/HTTP.md, Operations describes it.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Adapter, Site};

/// Ready: 200, JSON, not cached, each check named.
pub async fn readiness_is_200_while_store_and_sender_answer<A: Adapter>() {
    let site = Site::standard::<A>();
    let reply = site.browser().get("/readyz").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(
        reply.json(),
        json!({"status": "ready", "checks": {"store": "ok", "sender:custom": "ok"}})
    );
}

/// A store or sender outage: 503 naming the failing check, never its error; ready again
/// once it is over.
pub async fn readiness_is_503_naming_what_is_down<A: Adapter>() {
    let site = Site::standard::<A>();
    let browser = site.browser();

    site.outage.store(true);
    let reply = browser.get("/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        json!({"status": "unavailable", "checks": {"store": "failed", "sender:custom": "ok"}})
    );
    site.outage.store(false);

    site.outage.sender(true);
    let reply = browser.get("/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json(),
        json!({"status": "unavailable", "checks": {"store": "ok", "sender:custom": "failed"}})
    );
    for leak in ["Connection refused", "10.9.8.7", "Timeout", "250ms"] {
        assert!(!reply.body.contains(leak), "{leak} leaked: {}", reply.body);
    }
    site.outage.sender(false);

    assert_eq!(browser.get("/readyz").await.status, StatusCode::OK);
}
