//! Tidy: checks on the repository itself, run with every other test by `cargo xtask test`.

use std::{
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a directory of the workspace root")
        .to_owned()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every `.rs` file under `dir`, skipping build output and dependencies.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    files_ending(dir, &["rs"], files);
}

/// Every file under `dir` with one of these extensions, skipping build output, dependencies
/// and hidden folders.
fn files_ending(dir: &Path, extensions: &[&str], files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                files_ending(&path, extensions, files);
            }
        } else if path
            .extension()
            .is_some_and(|ext| extensions.iter().any(|wanted| ext == *wanted))
        {
            files.push(path);
        }
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let run = read(&root().join(".ci/run"));
    assert!(
        run.contains("cargo xtask test"),
        ".ci/run must run `cargo xtask test`, so CI proves that command alone sets everything up"
    );
}

#[test]
fn no_stubs_or_ignored_tests() {
    // Built from pieces so that this file does not match itself.
    let needles = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore"),
    ];
    let mut files = Vec::new();
    for dir in ["crates", "examples", "xtask"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(
        !files.is_empty(),
        "found no Rust sources under {}",
        root().display()
    );
    let mut found = Vec::new();
    for file in &files {
        for (number, line) in read(file).lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle)) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "stubs or ignored tests (a test that never runs checks nothing):\n{}",
        found.join("\n")
    );
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut manifests: Vec<PathBuf> = fs::read_dir(root().join("crates"))
        .expect("crates/ exists")
        .flatten()
        .map(|entry| entry.path().join("Cargo.toml"))
        .filter(|manifest| manifest.is_file())
        .collect();
    manifests.push(root().join("xtask/Cargo.toml"));
    let missing: Vec<String> = manifests
        .iter()
        .filter(|manifest| !uses_workspace_lints(&read(manifest)))
        .map(|manifest| manifest.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these manifests lack `[lints] workspace = true`:\n{}",
        missing.join("\n")
    );
}

/// `[lints]` + `workspace = true`, or the dotted and inline forms of the same.
fn uses_workspace_lints(manifest: &str) -> bool {
    let mut in_lints = false;
    for line in manifest.lines() {
        let line: String = line
            .split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        } else if (in_lints && line == "workspace=true")
            || line == "lints.workspace=true"
            || line == "lints={workspace=true}"
        {
            return true;
        }
    }
    false
}

#[test]
fn workspace_lints_check_reads_each_form() {
    assert!(uses_workspace_lints(
        "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"
    ));
    assert!(uses_workspace_lints("lints.workspace = true"));
    assert!(uses_workspace_lints("lints = { workspace = true }"));
    assert!(!uses_workspace_lints("[lints.rust]\nworkspace = true\n"));
    assert!(!uses_workspace_lints(
        "[package]\nworkspace = true\n[lints]\n"
    ));
}

/// The packages `package` depends on for normal builds, by name (`cargo tree`, offline).
fn normal_dependencies(package: &str) -> Vec<String> {
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(["-p", package])
        .output()
        .unwrap_or_else(|error| panic!("cannot run cargo tree: {error}"));
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// docs/ARCHITECTURE.md, The crate graph: core has no web framework, Redis client or mailer, and the adapters and
/// senders depend on core, never on each other.
#[test]
fn dependencies_point_down_only() {
    let core = normal_dependencies("nopassword-core");
    for forbidden in [
        "axum",
        "actix-web",
        "redis",
        "lettre",
        "reqwest",
        "hyper",
        "tokio",
        "sqlx",
        "sqlx-core",
        "sqlx-postgres",
    ] {
        assert!(
            !core.iter().any(|d| d == forbidden),
            "nopassword-core depends on {forbidden}"
        );
    }
    // The PostgreSQL store is a store: no web framework, Redis client, mailer or HTTP client.
    let sqlx_store = normal_dependencies("nopassword-sqlx");
    for forbidden in [
        "redis",
        "axum",
        "axum-core",
        "actix-web",
        "actix-http",
        "lettre",
        "reqwest",
        "hyper",
    ] {
        assert!(
            !sqlx_store.iter().any(|d| d == forbidden),
            "nopassword-sqlx depends on {forbidden}"
        );
    }
    let siblings = [
        "nopassword-store",
        "nopassword-sqlx",
        "nopassword-email",
        "nopassword-twilio",
        "nopassword-axum",
        "nopassword-actix",
    ];
    for package in siblings {
        let deps = normal_dependencies(package);
        assert!(
            deps.iter().any(|d| d == "nopassword-core"),
            "{package} should build on core"
        );
        for other in siblings.iter().filter(|s| **s != package) {
            assert!(
                !deps.iter().any(|d| d == other),
                "{package} depends on {other}"
            );
        }
    }
}

/// The `## Files` section of `docs/ARCHITECTURE.md` names every source file of every workspace
/// crate, so a newcomer finds a concept by its file and the list cannot drift from the tree.
/// Each bullet starts with a crate's source folder in backticks (`` `nopassword-core/src` ``,
/// relative to `crates/`, `examples/` or the root); the files follow in backticks, relative to
/// it: `handlers/{a,b}.rs` stands for two files and `support/` for every file below a folder.
/// `lib.rs`, `main.rs` and `mod.rs` go without saying.
#[test]
fn architecture_names_every_source_file() {
    let doc = read(&root().join("docs/ARCHITECTURE.md"));
    let section = doc
        .split_once("\n## Files")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .expect("docs/ARCHITECTURE.md has a `## Files` section");
    let mut listed: Vec<PathBuf> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut problems = Vec::new();
    for bullet in section.split("\n- ").skip(1) {
        let mut names = bullet.split('`').skip(1).step_by(2);
        let Some(src) = names.next() else { continue };
        let Some(base) = ["crates", "examples", "."]
            .iter()
            .map(|parent| root().join(parent).join(src))
            .find(|dir| dir.is_dir())
        else {
            problems.push(format!(
                "`{src}` is not a folder of crates/, examples/ or the root"
            ));
            continue;
        };
        folders.push(base.clone());
        for name in names.filter(|name| name.ends_with(".rs") || name.ends_with('/')) {
            for path in expand(name) {
                let full = base.join(&path);
                if !full.exists() {
                    problems.push(format!("`{src}/{path}` is listed but does not exist"));
                }
                listed.push(full);
            }
        }
    }
    let mut members = Vec::new();
    for parent in ["crates", "examples"] {
        for entry in fs::read_dir(root().join(parent))
            .expect("read dir")
            .flatten()
        {
            members.push(entry.path().join("src"));
        }
    }
    members.push(root().join("xtask/src"));
    for member in members {
        if !folders.contains(&member) {
            problems.push(format!("no bullet for `{}`", member.display()));
            continue;
        }
        let mut files = Vec::new();
        rust_files(&member, &mut files);
        for file in files {
            let implicit = ["lib.rs", "main.rs", "mod.rs"]
                .iter()
                .any(|name| file.file_name().is_some_and(|file| file == *name));
            if !implicit && !listed.iter().any(|entry| file.starts_with(entry)) {
                problems.push(format!("{} is not named", file.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/ARCHITECTURE.md `## Files` is out of date:\n{}",
        problems.join("\n")
    );
}

/// `handlers/{a,b}.rs` → `handlers/a.rs`, `handlers/b.rs`.
fn expand(name: &str) -> Vec<String> {
    match name.split_once('{').and_then(|(head, rest)| {
        let (alternatives, tail) = rest.split_once('}')?;
        Some((head, alternatives, tail))
    }) {
        Some((head, alternatives, tail)) => alternatives
            .split(',')
            .map(|middle| format!("{head}{middle}{tail}"))
            .collect(),
        None => vec![name.to_owned()],
    }
}

/// The repository's docs stand alone: no comment or document points to a contract kept
/// elsewhere (the project's behaviour contract lives in `docs/`, chiefly `docs/HTTP.md`).
#[test]
fn docs_point_only_inside_the_repository() {
    // Built from pieces so that this file does not match itself.
    let needles = [
        concat!("SPEC", " section"),
        concat!("SPEC", ".md"),
        concat!("shared", "/SPEC"),
    ];
    let mut files = Vec::new();
    for dir in ["crates", "examples", "xtask", "docs"] {
        files_ending(
            &root().join(dir),
            &["rs", "md", "toml", "html", "txt"],
            &mut files,
        );
    }
    files.push(root().join("README.md"));
    files.push(root().join("CHANGELOG.md"));
    let found: Vec<String> = files
        .iter()
        .flat_map(|file| {
            read(file)
                .lines()
                .enumerate()
                .filter(|(_, line)| needles.iter().any(|needle| line.contains(needle)))
                .map(|(number, line)| format!("{}:{}: {}", file.display(), number + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        found.is_empty(),
        "pointers to documents outside the repository (cite docs/HTTP.md, docs/SECURITY.md, \
         docs/SETTINGS.md or docs/ARCHITECTURE.md instead):\n{}",
        found.join("\n")
    );
}

/// The message ids a Fluent file defines (`id = ...` at the start of a line).
fn ftl_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let (id, _) = line.split_once(" =")?;
            let mut chars = id.chars();
            (chars.next()?.is_ascii_lowercase()
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| id.to_owned())
        })
        .collect()
}

/// Every message of the shipped catalogs is used (issue 16: no unused keys): its id appears
/// quoted (`"invalid_code"`, `t("login-title")`) in a source file or template of a published
/// crate, not counting `nopassword_core::i18n::MESSAGES`, the list that names them all. (That
/// each shipped locale has exactly those messages, and that each renders with sample
/// arguments, is `nopassword-core`'s `i18n::tests`.)
#[test]
fn every_catalog_message_is_used() {
    let root = root();
    let catalog = read(&root.join("crates/nopassword-core/locales/en/nopassword.ftl"));
    let ids = ftl_ids(&catalog);
    assert!(ids.len() > 40, "the English catalog's ids: {ids:?}");
    let mut files = Vec::new();
    for krate in [
        "nopassword-core",
        "nopassword-email",
        "nopassword-twilio",
        "nopassword-axum",
        "nopassword-actix",
    ] {
        for folder in ["src", "templates"] {
            files_ending(
                &root.join("crates").join(krate).join(folder),
                &["rs", "html", "txt"],
                &mut files,
            );
        }
    }
    let mut text = String::new();
    for file in &files {
        let mut source = read(file);
        if file.ends_with("nopassword-core/src/i18n.rs") {
            // Drop the list of every id, and the tests that read it.
            let start = source
                .find("pub const MESSAGES")
                .expect("i18n.rs lists MESSAGES");
            let end = start + source[start..].find("];").expect("MESSAGES ends");
            source.replace_range(start..end, "");
            if let Some(tests) = source.find("#[cfg(test)]") {
                source.truncate(tests);
            }
        }
        text.push_str(&source);
    }
    let unused: Vec<&String> = ids
        .iter()
        .filter(|id| !text.contains(&format!("\"{id}\"")))
        .collect();
    assert!(
        unused.is_empty(),
        "messages of locales/en/nopassword.ftl that no template or code uses: {unused:?}"
    );
}

#[test]
fn ftl_ids_reads_messages_only() {
    let ids = ftl_ids(
        "# a comment = no\nlogin-title = Log in\n## Group\nsms-code = { $code }\n    [one] x = y\n",
    );
    assert_eq!(ids, ["login-title", "sms-code"]);
}
