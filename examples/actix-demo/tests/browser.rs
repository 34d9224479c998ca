//! The shared browser scenarios (`demo_common::e2e::browser`) against the actix demo, in
//! headless Chromium through chromedriver, which `cargo xtask test` starts. Screenshots land
//! in `target/browser-test/actix-demo/`.

mod support;

demo_common::browser_tests!(support::ActixDemo);
