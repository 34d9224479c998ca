//! The shared two-instance scenario (`demo_common::e2e::two_instances`) against the actix
//! demo: two instances on one Redis, and on a Redis Cluster, accept each other's codes and
//! sessions; and cross-device approval across two instances (`demo_common::e2e::cross_device`).
//! `cargo xtask test` starts Redis, the cluster and chromedriver.

mod support;

demo_common::two_instance_tests!(support::ActixDemo);

demo_common::cross_device_tests!(support::ActixDemo);
