//! The shared two-instance scenario (`demo_common::e2e::two_instances`) against the axum
//! demo on PostgreSQL alone (`database_url`): two instances on one database accept each
//! other's codes, and share users and sessions. `cargo xtask test` starts the server.

mod support;

demo_common::two_instance_postgres_tests!(support::AxumDemo);
