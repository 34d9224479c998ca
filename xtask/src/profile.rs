//! `cargo xtask profile [-- -p actix-demo]`: where each scenario of a demo's load bench spends
//! its instructions (not in CI).
//!
//! Starts a Redis server, builds the demo's `load` bench (axum-demo unless `-p` names another)
//! and runs its route scenarios once under callgrind, which counts every instruction the
//! process runs, however busy the machine: the figures are exact where timings on these shared
//! cores are not. The bench marks each measured window (`measured_window_opens` and
//! `measured_window_closes` in `demo_common::load`), so callgrind writes one profile per
//! window, warm-up and set-up left out. For each window this prints the requests answered,
//! the instructions per request (client and server: they share the process), and where they
//! went by crate; the profiles stay in `target/xtask/profile/<package>/` for
//! `callgrind_annotate`.
//!
//! Callgrind counts user-space instructions only: system calls (socket reads and writes,
//! `epoll`) and Redis's own work are not in the figures.

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead, BufReader},
    process::Stdio,
};

use crate::{
    cmd::Cmd,
    error::{Context, Error, Result, bail},
    preflight::{self, Need},
    root, services,
};

const VALGRIND: Need = Need::Program {
    names: &["valgrind"],
    apt: "valgrind",
};

/// How many crates each window's breakdown lists.
const TOP_CRATES: usize = 14;

pub(crate) fn run(extra: &[String]) -> Result<()> {
    let package = match extra {
        [] => "axum-demo",
        [flag, package] if flag == "-p" || flag == "--package" => package.as_str(),
        _ => bail!("usage: cargo xtask profile [-- -p <demo package>]"),
    };
    let wanted: Vec<_> = services::ALL
        .into_iter()
        .filter(|service| service.name == "redis")
        .collect();
    let mut needs = services::needs(&wanted);
    needs.push(&VALGRIND);
    preflight::ensure(&needs)?;

    let built = Cmd::new("cargo")
        .args(["bench", "-p", package, "--bench", "load", "--no-run"])
        .arg("--message-format=json-render-diagnostics")
        .read()?;
    let bench = executable(&built, "load").ok_or_else(|| {
        Error::new(format!(
            "cargo built no `load` bench executable for {package}"
        ))
    })?;

    let dir = root().join("target/xtask/profile").join(package);
    if dir.exists() {
        fs::remove_dir_all(&dir).context(format!("cannot clear {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).context(format!("cannot create {}", dir.display()))?;
    let out_file = dir.join("callgrind.out");

    let running = services::start(&wanted)?;
    // `routes`: the route scenarios only (the waiting-browser sections measure windows that
    // overlap, which per-window profiles cannot separate); `profile`: windows long enough for
    // a few hundred requests at callgrind's pace.
    let command = Cmd::new(VALGRIND.path()?)
        .args([
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out_file.display()),
            "--zero-before=*measured_window_opens*".to_owned(),
            "--dump-before=*measured_window_closes*".to_owned(),
        ])
        .arg(&bench)
        .args(["routes", "profile"])
        .envs(services::env(&running));
    let output = stream(command);
    drop(running);
    let output = output?;

    let windows: Vec<(String, u64)> = output.lines().filter_map(window).collect();
    if windows.is_empty() {
        bail!("the bench measured no window; its output is above");
    }
    println!("\ninstructions per request (client and server together), by window:");
    for (part, (name, requests)) in windows.iter().enumerate() {
        let file = dir.join(format!("callgrind.out.{}", part + 1));
        let text = fs::read_to_string(&file).context(format!("cannot read {}", file.display()))?;
        let costs = self_costs(&text);
        let total: u64 = costs.values().sum();
        let requests = (*requests).max(1);
        println!(
            "\n{name}: {requests} requests, {} instructions each ({})",
            total / requests,
            file.strip_prefix(root()).unwrap_or(&file).display()
        );
        let mut crates: BTreeMap<String, u64> = BTreeMap::new();
        for (function, cost) in &costs {
            *crates.entry(crate_of(function)).or_insert(0) += cost;
        }
        let mut crates: Vec<(String, u64)> = crates.into_iter().collect();
        crates.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        for (name, cost) in crates.iter().take(TOP_CRATES) {
            println!(
                "  {:>9} {:>5.1}%  {name}",
                cost / requests,
                100.0 * *cost as f64 / total.max(1) as f64
            );
        }
    }
    Ok(())
}

/// Runs `command`, showing its output as it comes, and returns what it printed on stdout.
fn stream(command: Cmd) -> Result<String> {
    println!("$ {command}");
    let shown = command.to_string();
    let mut child = command
        .into_command()
        .stdout(Stdio::piped())
        .spawn()
        .context(format!("cannot run `{shown}`"))?;
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("cannot read the bench's output")?;
            println!("{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status = child.wait().context(format!("`{shown}` did not finish"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(output)
}

/// The path of the bench executable named `name` in cargo's JSON messages.
fn executable(messages: &str, name: &str) -> Option<String> {
    messages
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .filter(|line| line.contains(&format!("\"name\":\"{name}\"")))
        .find_map(|line| {
            let rest = line.split("\"executable\":\"").nth(1)?;
            Some(rest.split('"').next()?.to_owned())
        })
}

/// `(name, requests)` from the bench's line for a measured window: `NAME: R requests/s, p99 D
/// (N requests measured)`.
fn window(line: &str) -> Option<(String, u64)> {
    let (head, tail) = line.rsplit_once(" (")?;
    let requests = tail.strip_suffix(" requests measured)")?.parse().ok()?;
    let (name, _) = head.rsplit_once(": ")?;
    Some((name.to_owned(), requests))
}

/// Self cost (instructions spent in the function itself) of each function in a callgrind
/// profile. In the format, `fn=` opens a function's lines; a cost line (`position count`)
/// adds to it, except the one right after a `calls=` line, which is the callee's inclusive
/// cost. Names are compressed: `(id) name` defines an id, `(id)` refers to it.
fn self_costs(profile: &str) -> BTreeMap<String, u64> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut resolve = |value: &str| -> String {
        let value = value.trim();
        match value
            .strip_prefix('(')
            .and_then(|rest| rest.split_once(')'))
        {
            Some((id, name)) if !name.trim().is_empty() => {
                names.insert(id.to_owned(), name.trim().to_owned());
                name.trim().to_owned()
            }
            Some((id, _)) => names.get(id).cloned().unwrap_or_else(|| "?".to_owned()),
            None => value.to_owned(),
        }
    };
    let mut costs = BTreeMap::new();
    let mut function: Option<String> = None;
    let mut after_call = false;
    for line in profile.lines() {
        if let Some(name) = line.strip_prefix("fn=") {
            function = Some(resolve(name));
        } else if let Some(name) = line.strip_prefix("cfn=") {
            // Defines an id for a function that may be listed later.
            resolve(name);
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '*')) {
            if std::mem::take(&mut after_call) {
                continue;
            }
            let count = line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok());
            if let (Some(function), Some(count)) = (&function, count) {
                *costs.entry(function.clone()).or_insert(0) += count;
            }
        }
    }
    costs
}

/// A function's crate: its path's first segment (`hyper::proto::...` → `hyper`, `<sha2::X as
/// digest::Y>::f` → `sha2`); a symbol without a path is C (the C library, the allocator's C
/// parts), shown as `(C: symbol family)`.
fn crate_of(function: &str) -> String {
    let path = function.trim_start_matches(['<', '&', '*', ' ']);
    match path.split_once("::") {
        Some((first, _)) if !first.contains([' ', '(', '@']) => first.to_owned(),
        _ if path.starts_with("mi_") || path.starts_with("_mi_") => "(C: mimalloc)".to_owned(),
        _ => "(C: libc and others)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_window_line() {
        assert_eq!(
            window("(b) POST /api/login/code/: 812 requests/s, p99 3.10ms (243 requests measured)"),
            Some(("(b) POST /api/login/code/".to_owned(), 243))
        );
        assert_eq!(window("load: 4 connections"), None);
    }

    #[test]
    fn sums_self_costs_and_leaves_out_the_callees() {
        let profile = "\
events: Ir
fn=(1) hyper::proto::h1::role::parse_headers
16 1000
+2 100
cfn=(2) sha2::sha256::compress
calls=3 +20
* 5000
fn=(2)
20 250
fn=(3) __memcpy_avx_unaligned_erms
1 200
fn=(1)
3 7
";
        let costs = self_costs(profile);
        assert_eq!(costs["hyper::proto::h1::role::parse_headers"], 1_107);
        assert_eq!(costs["sha2::sha256::compress"], 250);
        assert_eq!(costs["__memcpy_avx_unaligned_erms"], 200);
        assert_eq!(costs.len(), 3);
    }

    #[test]
    fn names_the_crate() {
        assert_eq!(crate_of("hyper::proto::h1::role::parse_headers"), "hyper");
        assert_eq!(
            crate_of("<sha2::core_api::Sha256VarCore as digest::core_api::UpdateCore>::update"),
            "sha2"
        );
        assert_eq!(crate_of("mi_free"), "(C: mimalloc)");
        assert_eq!(
            crate_of("__memcpy_avx_unaligned_erms"),
            "(C: libc and others)"
        );
        assert_eq!(crate_of("log@@GLIBC_2.29"), "(C: libc and others)");
    }

    #[test]
    fn finds_the_bench_executable() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"demo_common"},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"load"},"executable":"/t/release/deps/load-1234"}"#;
        assert_eq!(
            executable(messages, "load").as_deref(),
            Some("/t/release/deps/load-1234")
        );
    }
}
