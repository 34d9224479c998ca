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

use std::{collections::BTreeMap, fs, path::Path};

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
const CALLGRIND_ANNOTATE: Need = Need::Program {
    names: &["callgrind_annotate"],
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
    needs.extend([&VALGRIND, &CALLGRIND_ANNOTATE]);
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
    let output = Cmd::new(VALGRIND.path()?)
        .args([
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out_file.display()),
            "--zero-before=*measured_window_opens*".to_owned(),
            "--dump-before=*measured_window_closes*".to_owned(),
        ])
        .arg(&bench)
        .args(["routes", "profile"])
        .envs(services::env(&running))
        .read();
    drop(running);
    let output = output?;
    print!("{output}");

    let windows: Vec<(String, u64)> = output.lines().filter_map(window).collect();
    if windows.is_empty() {
        bail!("the bench measured no window; its output is above");
    }
    println!("\ninstructions per request (client and server together), by window:");
    for (part, (name, requests)) in windows.iter().enumerate() {
        let file = dir.join(format!("callgrind.out.{}", part + 1));
        let annotated = Cmd::new(CALLGRIND_ANNOTATE.path()?)
            .arg("--threshold=100")
            .arg(&file)
            .read()?;
        let total = total(&file)?;
        let per_request = total / (*requests).max(1);
        println!(
            "\n{name}: {requests} requests, {per_request} instructions each ({})",
            file.strip_prefix(root()).unwrap_or(&file).display()
        );
        let mut crates: Vec<(String, u64)> = by_crate(&annotated).into_iter().collect();
        crates.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        for (name, cost) in crates.iter().take(TOP_CRATES) {
            println!(
                "  {:>9} {:>5.1}%  {name}",
                cost / (*requests).max(1),
                100.0 * *cost as f64 / total.max(1) as f64
            );
        }
    }
    Ok(())
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

/// The instructions a callgrind profile counted (its `summary:` line).
fn total(file: &Path) -> Result<u64> {
    let text = fs::read_to_string(file).context(format!("cannot read {}", file.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("summary:"))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| Error::new(format!("no summary line in {}", file.display())))
}

/// Self cost by crate, from `callgrind_annotate`'s lines `1,234 (5.6%)  file:function [object]`.
/// A function's crate is its path's first segment (`hyper::proto::...` → `hyper`); a symbol
/// without a path (the C library, the allocator's C parts, the loader) counts under its object.
fn by_crate(annotated: &str) -> BTreeMap<String, u64> {
    let mut crates = BTreeMap::new();
    for line in annotated.lines() {
        let line = line.trim_start();
        let Some((count, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(')') else {
            continue;
        };
        let rest = rest.trim();
        let (location, object) = match rest.rsplit_once(" [") {
            Some((location, object)) => (location, object.trim_end_matches(']')),
            None => (rest, ""),
        };
        // `file:function`: the file never holds a colon, the function may hold many.
        let function = location.split_once(':').map_or(location, |(_, f)| f);
        let path = function.trim_start_matches(['<', '&', '*', ' ']);
        let name = match path.split_once("::") {
            Some((first, _)) if !first.contains(' ') => first.to_owned(),
            _ => Path::new(object)
                .file_name()
                .map_or_else(|| "?".to_owned(), |f| format!("({})", f.to_string_lossy())),
        };
        *crates.entry(name).or_insert(0) += count;
    }
    crates
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
    fn sums_self_cost_by_crate() {
        let annotated = "\
Ir                 file:function
--------------------------------------------------------------------------------
1,000 (10.00%)  ???:hyper::proto::h1::role::parse_headers [/t/load]
  500 ( 5.00%)  /rustc/x/library/core/src/fmt/mod.rs:core::fmt::write [/t/load]
  250 ( 2.50%)  ???:<sha2::core_api::Sha256VarCore as digest::core_api::UpdateCore>::update [/t/load]
  200 ( 2.00%)  ./string/../sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms [/usr/lib/x86_64-linux-gnu/libc.so.6]
  100 ( 1.00%)  ???:hyper::proto::h1::io::Buffered::poll_read [/t/load]
";
        let crates = by_crate(annotated);
        assert_eq!(crates["hyper"], 1_100);
        assert_eq!(crates["core"], 500);
        assert_eq!(crates["sha2"], 250);
        assert_eq!(crates["(libc.so.6)"], 200);
        assert_eq!(crates.len(), 4);
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
