//! `cargo xtask ci`'s packaging steps: each published crate builds with no default features and
//! with all of them, and packs into a `.crate` that holds what it needs.
//!
//! How the crates are packed: one `cargo package --no-verify -p ... -p ...` for every published
//! crate at once. Our crates depend on each other by path *and* version, and none is on
//! crates.io yet, so packing one alone would look its siblings up in the registry and fail.
//! Packing them together, cargo (1.90 and later) resolves the siblings from the packages it
//! is making (a local registry overlay), which works without them ever being published.
//! `--offline`: packing needs no network (each package's lock file comes from the workspace's,
//! whose crates the build before this step has already fetched), so `ci` packs the same way
//! with or without a registry in reach. `--no-verify` because verifying builds every package again from its tarball (minutes, and
//! the same code `ci` has already built and tested); what a build from the tarball would miss
//! is a file left out, and [`check_contents`] looks for exactly that: the README and both
//! license files, and every file the sources pull in at compile time (`include_str!`,
//! `include_bytes!`: the page, mail and SMS templates). `--allow-dirty` so that `ci` runs on a
//! work tree with uncommitted changes too; what is packed is the work tree either way.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    cmd::Cmd,
    error::{Context, Error, Result},
    root,
};

/// The crates published to crates.io, bottom of the graph first. Every other workspace member
/// says `publish = false` (checked by [`check_unpublished`]).
pub(crate) const PUBLISHED: [&str; 7] = [
    "nopassword-core",
    "nopassword-store",
    "nopassword-sqlx",
    "nopassword-email",
    "nopassword-twilio",
    "nopassword-axum",
    "nopassword-actix",
];

/// Files every package must hold, beside its sources.
const REQUIRED: [&str; 4] = ["Cargo.toml", "README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Above this a package is suspect (a stray fixture or build output); crates.io's own limit is
/// 10 MiB.
const MAX_PACKAGE_BYTES: u64 = 1024 * 1024;

/// Each published crate, alone, with no default features and with all of them (`cargo check`:
/// cheap, and enough to catch a feature gate that does not compile).
pub(crate) fn check_features() -> Result<()> {
    for name in PUBLISHED {
        for features in ["--no-default-features", "--all-features"] {
            Cmd::new("cargo")
                .args(["check", "--quiet", "-p", name, features])
                .run()?;
        }
    }
    Ok(())
}

/// Packs every published crate and checks what each package holds.
pub(crate) fn run() -> Result<()> {
    check_unpublished()?;
    let mut package =
        Cmd::new("cargo").args(["package", "--offline", "--no-verify", "--allow-dirty"]);
    for name in PUBLISHED {
        package = package.args(["-p", name]);
    }
    package.run()?;
    let dir = target_dir()?.join("package");
    let mut problems = Vec::new();
    for name in PUBLISHED {
        let crate_file = find_crate_file(&dir, name)?;
        let size = fs::metadata(&crate_file)
            .context(format!("cannot read {}", crate_file.display()))?
            .len();
        if size > MAX_PACKAGE_BYTES {
            problems.push(format!(
                "{name}: the package is {size} bytes (more than {MAX_PACKAGE_BYTES}): what is in it?"
            ));
        }
        let listing = list(&crate_file)?;
        let sources = root().join("crates").join(name).join("src");
        problems.extend(check_contents(name, &listing, &sources)?);
        println!("{name}: {} files, {size} bytes", listing.len());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "packages lack files:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// What is wrong with a package whose files (relative to its root) are `listing`: a required
/// file missing, or a file that `sources` include at compile time missing.
pub(crate) fn check_contents(
    name: &str,
    listing: &[String],
    sources: &Path,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for required in REQUIRED {
        if !listing.iter().any(|file| file == required) {
            problems.push(format!("{name}: no {required}"));
        }
    }
    let crate_root = sources.parent().unwrap_or(sources);
    for (file, included) in compile_time_includes(sources)? {
        let wanted = normalize(&file.parent().unwrap_or(crate_root).join(&included));
        let relative = wanted
            .strip_prefix(crate_root)
            .map(|path| path.to_string_lossy().into_owned());
        match relative {
            Ok(relative) if listing.contains(&relative) => {}
            Ok(relative) => problems.push(format!(
                "{name}: no {relative} (included by {})",
                file.display()
            )),
            Err(_) => problems.push(format!(
                "{name}: {} includes {included}, outside the crate: it cannot be packaged",
                file.display()
            )),
        }
    }
    Ok(problems)
}

/// Every `include_str!("...")` and `include_bytes!("...")` with a literal path in the `.rs`
/// files under `dir`, as (file, path as written).
fn compile_time_includes(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).context(format!("cannot read {}", dir.display()))? {
            let path = entry
                .context(format!("cannot read {}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text =
                    fs::read_to_string(&path).context(format!("cannot read {}", path.display()))?;
                for included in literal_includes(&text) {
                    found.push((path.clone(), included));
                }
            }
        }
    }
    Ok(found)
}

/// The literal paths of `include_str!`/`include_bytes!` in `text`.
pub(crate) fn literal_includes(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for macro_name in ["include_str!(\"", "include_bytes!(\""] {
        let mut rest = text;
        while let Some(start) = rest.find(macro_name) {
            rest = &rest[start + macro_name.len()..];
            if let Some(end) = rest.find('"') {
                paths.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    paths
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every workspace member that is not in [`PUBLISHED`] says `publish = false`, so a
/// `cargo publish --workspace` can never push test support, a demo or xtask.
fn check_unpublished() -> Result<()> {
    let manifest =
        fs::read_to_string(root().join("Cargo.toml")).context("cannot read Cargo.toml")?;
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(members, _)| members)
        .ok_or_else(|| Error::new("Cargo.toml has no `members = [...]`"))?;
    let mut problems = Vec::new();
    for member in members
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter_map(|line| line.strip_prefix('"')?.split('"').next())
    {
        let path = root().join(member).join("Cargo.toml");
        let text = fs::read_to_string(&path).context(format!("cannot read {}", path.display()))?;
        let published = PUBLISHED
            .iter()
            .any(|name| text.contains(&format!("name = \"{name}\"")));
        let unpublished = text.lines().any(|line| line.trim() == "publish = false");
        if !published && !unpublished {
            problems.push(format!(
                "{member}: not a published crate, so its Cargo.toml says `publish = false`"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(problems.join("\n")))
    }
}

/// Cargo's target directory (`CARGO_TARGET_DIR`, a config file, or `target`), as cargo
/// itself reports it.
fn target_dir() -> Result<PathBuf> {
    let metadata = Cmd::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .read()?;
    let key = "\"target_directory\":\"";
    let start = metadata
        .find(key)
        .ok_or_else(|| Error::new("cargo metadata names no target_directory"))?
        + key.len();
    let end = metadata[start..]
        .find('"')
        .ok_or_else(|| Error::new("cargo metadata's target_directory is cut short"))?;
    Ok(PathBuf::from(&metadata[start..start + end]))
}

/// `<dir>/<name>-<version>.crate`, the package cargo just made.
fn find_crate_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let prefix = format!("{name}-");
    fs::read_dir(dir)
        .context(format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| {
            path.file_name()
                .and_then(|file| file.to_str())
                .and_then(|file| file.strip_prefix(&prefix))
                .is_some_and(|rest| {
                    rest.ends_with(".crate") && rest.starts_with(|c: char| c.is_ascii_digit())
                })
        })
        .ok_or_else(|| Error::new(format!("no {name}-*.crate in {}", dir.display())))
}

/// The files of a `.crate` (a gzipped tar whose entries sit under `<name>-<version>/`),
/// relative to the package root.
fn list(crate_file: &Path) -> Result<Vec<String>> {
    println!("$ tar -tzf {}", crate_file.display());
    let output = Command::new("tar")
        .arg("-tzf")
        .arg(crate_file)
        .output()
        .context("cannot run `tar`")?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`tar -tzf {}` failed: {}",
            crate_file.display(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('/').map(|(_, file)| file.to_owned()))
        .filter(|file| !file.is_empty() && !file.ends_with('/'))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(name: &str) -> PathBuf {
        root().join("crates").join(name).join("src")
    }

    fn listing(files: &[&str]) -> Vec<String> {
        files.iter().map(|file| (*file).to_owned()).collect()
    }

    #[test]
    fn includes_are_found_in_rust_text() {
        let text = r#"const A: &str = include_str!("../templates/a.html");
            static B: &[u8] = include_bytes!("b.bin"); // include_str!(not a literal)"#;
        assert_eq!(
            literal_includes(text),
            ["../templates/a.html".to_owned(), "b.bin".to_owned()]
        );
    }

    #[test]
    fn a_package_without_its_templates_readme_or_licenses_is_refused() {
        let problems = check_contents(
            "nopassword-email",
            &listing(&["Cargo.toml", "src/lib.rs", "LICENSE-MIT"]),
            &sources("nopassword-email"),
        )
        .expect("reads the sources");
        let all = problems.join("\n");
        for missing in [
            "no README.md",
            "no LICENSE-APACHE",
            "no templates/login_email.txt",
            "no templates/login_email.html",
        ] {
            assert!(all.contains(missing), "{missing} not reported in:\n{all}");
        }
        assert!(!all.contains("no LICENSE-MIT"), "{all}");
    }

    #[test]
    fn a_complete_package_passes() {
        let problems = check_contents(
            "nopassword-twilio",
            &listing(&[
                "Cargo.toml",
                "README.md",
                "LICENSE-MIT",
                "LICENSE-APACHE",
                "templates/login_sms.txt",
            ]),
            &sources("nopassword-twilio"),
        )
        .expect("reads the sources");
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn core_includes_its_page_templates() {
        let problems = check_contents(
            "nopassword-core",
            &listing(&REQUIRED),
            &sources("nopassword-core"),
        )
        .expect("reads the sources");
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("templates/login_form.html")),
            "{problems:?}"
        );
    }
}
