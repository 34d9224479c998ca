//! `RedisStore` passes the core store conformance suite on one node and on a Redis Cluster.

mod common;

use std::sync::Arc;

use nopassword_core::testkit::{TimeControl, run_conformance};
use nopassword_store::RedisStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_node_conforms() {
    let store = RedisStore::connect(&common::redis_url(), &common::unique_namespace("conf"))
        .await
        .expect("connect to NOPASSWORD_TEST_REDIS_URL");
    assert!(!store.is_cluster());
    run_conformance(Arc::new(store), TimeControl::Real).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_conforms() {
    let store = RedisStore::connect(&common::cluster_urls(), &common::unique_namespace("conf"))
        .await
        .expect("connect to NOPASSWORD_TEST_REDIS_CLUSTER_URLS");
    assert!(store.is_cluster());
    run_conformance(Arc::new(store), TimeControl::Real).await;
}
