//! Redis and Redis Cluster code store for nopassword-rs.
