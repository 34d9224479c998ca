//! `RedisStore` passes the store suite of `nopassword-conformance` on one node and on a Redis
//! Cluster: one test per check, each with its own connection and namespace.

mod common;

/// The single node `cargo xtask test` starts.
mod single_node {
    use std::sync::Arc;

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_store::RedisStore;

    use super::common;

    store_suite!(async || {
        let store = RedisStore::connect(&common::redis_url(), &common::unique_namespace("conf"))
            .await
            .expect("connect to NOPASSWORD_TEST_REDIS_URL");
        assert!(!store.is_cluster());
        Subject::real_time(Arc::new(store))
    });
}

/// The three-master cluster `cargo xtask test` starts.
mod cluster {
    use std::sync::Arc;

    use nopassword_conformance::{store::Subject, store_suite};
    use nopassword_store::RedisStore;

    use super::common;

    store_suite!(async || {
        let store = RedisStore::connect(&common::cluster_urls(), &common::unique_namespace("conf"))
            .await
            .expect("connect to NOPASSWORD_TEST_REDIS_CLUSTER_URLS");
        assert!(store.is_cluster());
        Subject::real_time(Arc::new(store))
    });
}
