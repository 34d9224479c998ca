//! The shared HTTP scenarios (`demo_common::e2e::site`) against the axum demo: the whole
//! login through the JSON API and through the HTML pages, over real HTTP on a free port.

mod support;

demo_common::site_tests!(support::AxumDemo);
