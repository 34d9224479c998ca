//! The shared browser scenarios (`demo_common::e2e::browser`) against the axum demo, in
//! headless Chromium through chromedriver, which `cargo xtask test` starts. Screenshots land
//! in `target/browser-test/axum-demo/`.

mod support;

demo_common::browser_tests!(support::AxumDemo);
