//! The shared two-instance scenario (`demo_common::e2e::two_instances`) against the actix
//! demo: two instances on one Redis, and on a Redis Cluster, accept each other's codes and
//! sessions. `cargo xtask test` starts both.

mod support;

demo_common::two_instance_tests!(support::ActixDemo);
