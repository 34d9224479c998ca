//! `cargo xtask`: the project's chores, in Rust, std only.
//!
//! - `cargo xtask ci`: formatting, clippy, each published crate with no default features and
//!   with all of them, `cargo package` of the published crates (see [`package`]), everything
//!   `test` does, then docs with warnings denied.
//! - `cargo xtask test [-- ARGS]`: installs what the suites need, starts the services they use
//!   (see [`services`] for the environment contract), runs every test suite, stops the services.
//!   `ARGS` go to the test runner (nextest, else `cargo test`), e.g. a test-name filter.
//! - `cargo xtask bench [-- ARGS]`: the benchmarks, with Redis and a Redis Cluster started for
//!   the Redis runs.
//! - `cargo xtask soak [-- --duration SECS --rate N]`: ten minutes of logins on Redis (not in
//!   CI), reporting errors, memory and expired codes.
//! - `cargo xtask profile [-- -p PACKAGE]`: instructions per request of each load-bench
//!   scenario under callgrind, by crate (not in CI); see [`profile`].
//! - `cargo xtask package`: `ci`'s feature checks and packaging of the published crates alone.
//! - `cargo xtask services` (for developers): starts every service whether or not a member
//!   needs it, prints its variables, and stops them on Enter or after 60 seconds.
//!
//! Each step prints the command it runs, and the first failure stops the task with a non-zero
//! exit. Services are stopped on every way out, including a failed test and Ctrl-C.

mod bench;
mod cmd;
mod error;
mod package;
mod preflight;
mod profile;
mod services;
mod soak;
mod test;

use std::{
    io::{self, BufRead},
    path::Path,
    process::ExitCode,
    sync::mpsc,
    thread,
    time::Duration,
};

use crate::{
    cmd::{Cmd, quote},
    error::Result,
};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                  fmt check, clippy, feature checks, cargo package, every test suite,
                      docs (what CI runs)
  test [-- ARGS...]   install what the suites need, start their services, run every suite;
                      ARGS go to the test runner (e.g. a filter)
  bench [-- ARGS...]  the benchmarks (with Redis and a Redis Cluster for the Redis runs)
  soak [-- --duration SECS --rate N]
                      ten minutes of logins on Redis: errors, memory, expired codes
  profile [-- -p PACKAGE]
                      each load-bench scenario under callgrind: instructions per request,
                      by crate (axum-demo unless PACKAGE names another demo)
  package             the feature checks and cargo package of the published crates";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    // `cargo xtask test -- ARGS` reaches us as `test -- ARGS`.
    let rest = match rest.split_first() {
        Some((dashes, rest)) if dashes == "--" => rest,
        _ => rest,
    };
    let result = match command {
        "ci" if rest.is_empty() => ci(),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "soak" => soak::run(rest),
        "profile" => profile::run(rest),
        "package" if rest.is_empty() => package::check_features().and_then(|()| package::run()),
        "services" if rest.is_empty() => run_services(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("unknown command: {}\n\n{USAGE}", args.join(" "));
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {command} failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: every command runs there.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a directory of the workspace root")
}

fn ci() -> Result<()> {
    Cmd::new("cargo").args(["fmt", "--all", "--check"]).run()?;
    Cmd::new("cargo")
        .args(["clippy", "--workspace", "--all-targets", "--all-features"])
        .args(["--", "-D", "warnings"])
        .run()?;
    package::check_features()?;
    package::run()?;
    test::run(&[])?;
    // `-D warnings` here also denies broken intra-doc links.
    Cmd::new("cargo")
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .run()
}

/// Starts every service regardless of which members exist, so each can be tried by hand.
fn run_services() -> Result<()> {
    let all = services::ALL.to_vec();
    preflight::ensure(&services::needs(&all))?;
    let running = services::start(&all)?;
    println!();
    for (key, value) in services::env(&running) {
        println!("export {key}={}", quote(&value));
    }
    println!("\nservices running; press Enter to stop them (they stop after 60s anyway)");
    let (entered, wait) = mpsc::channel();
    thread::spawn(move || {
        let _ = io::stdin().lock().read_line(&mut String::new());
        let _ = entered.send(());
    });
    let _ = wait.recv_timeout(Duration::from_secs(60));
    drop(running);
    Ok(())
}
