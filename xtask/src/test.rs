//! `cargo xtask test`: install what the suites need, start their services, run every suite.

use crate::{
    cmd::Cmd,
    error::{Error, Result},
    preflight, services,
};

/// `extra` goes to the test runner (nextest, else `cargo test`), e.g. a filter.
pub(crate) fn run(extra: &[String]) -> Result<()> {
    let needed = services::needed();
    if needed.is_empty() {
        println!("no service to start: no workspace member that needs one exists yet");
    } else {
        let names: Vec<&str> = needed.iter().map(|service| service.name).collect();
        println!("services needed: {}", names.join(", "));
    }
    preflight::ensure(&services::needs(&needed))?;
    let running = services::start(&needed)?;
    let env = services::env(&running);

    let runner: &[&str] = if Cmd::new("cargo").args(["nextest", "--version"]).probe() {
        &["nextest", "run"]
    } else {
        println!("cargo-nextest is not installed: running the suites with cargo test");
        &["test"]
    };
    let suites = Cmd::new("cargo")
        .envs(env.iter().cloned())
        .args(runner)
        .args(["--workspace", "--all-features", "--no-fail-fast"])
        .args(extra)
        .run();
    // nextest does not run doctests; run them either way so both paths test the same.
    let doctests = Cmd::new("cargo")
        .envs(env)
        .args(["test", "--workspace", "--all-features", "--doc"])
        .run();
    drop(running);
    match (suites, doctests) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(suites), Err(doctests)) => Err(Error::new(format!("{suites}\n{doctests}"))),
        (Err(failed), Ok(())) | (Ok(()), Err(failed)) => Err(failed),
    }
}
