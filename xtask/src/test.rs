//! `cargo xtask test`: install what the suites need, start their services, run every suite.

use crate::{
    cmd::Cmd,
    error::{Error, Result},
    preflight, services,
};

/// `extra` goes to the test runner (nextest, else `cargo test`), e.g. a filter. Only the services
/// of the packages `extra` selects start (see [`selection`]).
pub(crate) fn run(extra: &[String]) -> Result<()> {
    let selected = selection(extra);
    if let Some(packages) = &selected {
        println!("selected packages: {}", packages.join(", "));
    }
    let needed = services::needed(selected.as_deref());
    if needed.is_empty() {
        println!("no service to start: no selected package needs one");
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
        // `-p` names packages itself; cargo ignores it beside `--workspace`.
        .args(if names_packages(extra) {
            &["--all-features", "--no-fail-fast"][..]
        } else {
            &["--workspace", "--all-features", "--no-fail-fast"][..]
        })
        .args(extra)
        .run();
    // nextest does not run doctests; run them either way so both paths test the same.
    let mut doctests = Cmd::new("cargo")
        .envs(env)
        .args(["test", "--all-features", "--doc"]);
    match &selected {
        Some(packages) => {
            for package in packages {
                doctests = doctests.args(["-p", package]);
            }
        }
        None => doctests = doctests.arg("--workspace"),
    }
    let doctests = doctests.run();
    drop(running);
    match (suites, doctests) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(suites), Err(doctests)) => Err(Error::new(format!("{suites}\n{doctests}"))),
        (Err(failed), Ok(())) | (Ok(()), Err(failed)) => Err(failed),
    }
}

/// The packages the runner's arguments limit the run to: the values of `-p`/`--package`, and
/// the `package(NAME)` terms of a nextest filter (`-E`) made only of package terms joined by
/// `|` or `or`. `None` (every package) for anything else, so a filter this does not understand
/// starts every service rather than too few.
pub(crate) fn selection(extra: &[String]) -> Option<Vec<String>> {
    let mut packages = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        let value = |flag: &str, args: &mut std::slice::Iter<'_, String>| -> Option<String> {
            match arg.strip_prefix(flag) {
                Some("") => args.next().cloned(),
                Some(rest) => rest.strip_prefix('=').map(str::to_owned),
                None => None,
            }
        };
        if let Some(name) = value("--package", &mut args).or_else(|| value("-p", &mut args)) {
            packages.push(name);
        } else if let Some(expr) = value("--filterset", &mut args)
            .or_else(|| value("--filter-expr", &mut args))
            .or_else(|| value("-E", &mut args))
        {
            packages.extend(filter_packages(&expr)?);
        }
    }
    (!packages.is_empty()).then_some(packages)
}

/// Whether the runner's arguments hold `-p`/`--package` (which cargo ignores beside
/// `--workspace`).
fn names_packages(extra: &[String]) -> bool {
    extra
        .iter()
        .any(|arg| arg.starts_with("-p") || arg.starts_with("--package"))
}

/// `package(a) | package(b)` → `[a, b]`; `None` for any other shape.
fn filter_packages(expr: &str) -> Option<Vec<String>> {
    expr.split('|')
        .flat_map(|part| part.split(" or "))
        .map(|term| {
            let name = term.trim().strip_prefix("package(")?.strip_suffix(')')?;
            let plain = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            plain.then(|| name.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::selection;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn package_flags_and_package_filters_select() {
        assert_eq!(
            selection(&args(&["-p", "a", "--package=b"])),
            Some(args(&["a", "b"]))
        );
        assert_eq!(
            selection(&args(&[
                "-E",
                "package(nopassword-store) | package(axum-demo)"
            ])),
            Some(args(&["nopassword-store", "axum-demo"]))
        );
        assert_eq!(
            selection(&args(&["--no-capture", "-E=package(x) or package(y)"])),
            Some(args(&["x", "y"]))
        );
    }

    #[test]
    fn anything_else_selects_every_package() {
        assert_eq!(selection(&[]), None);
        assert_eq!(selection(&args(&["some_test_name"])), None);
        assert_eq!(selection(&args(&["-E", "test(flows)"])), None);
        assert_eq!(selection(&args(&["-E", "package(a) & test(x)"])), None);
        assert_eq!(selection(&args(&["-E", "not package(a)"])), None);
        assert_eq!(selection(&args(&["-E", "package(a) - package(b)"])), None);
        assert_eq!(selection(&args(&["-E", "package(a) | test(x)"])), None);
    }
}
