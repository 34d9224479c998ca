//! axum router, pages, JSON API and session login for nopassword-rs.
