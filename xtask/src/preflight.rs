//! Preflight: check every program the suites need and install what is missing.
//!
//! Debian packages come from `apt-get` (as root, or through passwordless `sudo -n`), Python tools
//! go into a venv at `target/xtask/venv`, npm tools under `target/xtask/node`. Every install is
//! skipped when what it would install is already there, so a second run installs nothing.
//! When nothing can be installed (not root, no passwordless sudo), preflight stops with the exact
//! command a person must run.

use std::{
    fs,
    path::{Path, PathBuf},
    time::Instant,
};

use crate::{
    cmd::{Cmd, which},
    error::{Error, Result, bail},
    root,
};

/// Where Python tools are installed (relative to the workspace root).
pub(crate) const VENV: &str = "target/xtask/venv";
/// Where npm tools are installed (relative to the workspace root).
pub(crate) const NODE_PREFIX: &str = "target/xtask/node";

/// Something a test suite needs on this machine.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// A program on `PATH`: the first of `names` that is found, else installed from Debian.
    Program {
        names: &'static [&'static str],
        apt: &'static str,
    },
    /// A Python distribution, pinned, installed into the venv at [`VENV`].
    Pip {
        package: &'static str,
        version: &'static str,
    },
    /// An npm package, pinned, installed under [`NODE_PREFIX`].
    Npm {
        package: &'static str,
        version: &'static str,
    },
}

impl Need {
    /// Absolute path of a [`Need::Program`], once preflight has made sure it exists.
    pub(crate) fn path(&self) -> Result<PathBuf> {
        match self {
            Need::Program { names, apt } => names.iter().find_map(|name| which(name)).ok_or_else(|| {
                Error::new(format!(
                    "none of {names:?} is on PATH (Debian package `{apt}`); run `cargo xtask test` to install it"
                ))
            }),
            other => bail!("{other:?} is not a program"),
        }
    }
}

/// The Python interpreter of the xtask venv.
pub(crate) fn venv_python() -> PathBuf {
    root().join(VENV).join("bin/python")
}

/// `node_modules` of the xtask npm prefix.
pub(crate) fn node_modules() -> PathBuf {
    root().join(NODE_PREFIX).join("node_modules")
}

const PYTHON3: Need = Need::Program {
    names: &["python3"],
    apt: "python3",
};
const NPM: Need = Need::Program {
    names: &["npm"],
    apt: "npm",
};

/// Makes sure everything in `needs` is here, installing what is missing.
pub(crate) fn ensure(needs: &[&'static Need]) -> Result<()> {
    let mut needs = needs.to_vec();
    let wants_pip = needs.iter().any(|need| matches!(need, Need::Pip { .. }));
    let wants_npm = needs.iter().any(|need| matches!(need, Need::Npm { .. }));
    if wants_pip {
        needs.push(&PYTHON3);
    }
    if wants_npm {
        needs.push(&NPM);
    }
    let mut seen = Vec::new();
    needs.retain(|need| {
        let new = !seen.contains(need);
        seen.push(*need);
        new
    });

    // Debian packages first: Python and npm tools are installed with programs from there.
    let mut packages: Vec<&str> = Vec::new();
    for need in &needs {
        if let Need::Program { names, apt } = need
            && names.iter().all(|name| which(name).is_none())
            && !packages.contains(apt)
        {
            packages.push(apt);
        }
    }
    // Debian's python3 ships without `ensurepip`, so `python3 -m venv` needs python3-venv.
    if wants_pip
        && !venv_python().exists()
        && (packages.contains(&"python3")
            || !Cmd::new("python3")
                .args(["-c", "import ensurepip, venv"])
                .probe())
    {
        packages.push("python3-venv");
    }
    if !packages.is_empty() {
        apt_install(&packages)?;
    }
    for need in &needs {
        if let Need::Program { .. } = need {
            println!("found {}", need.path()?.display());
        }
    }

    let pips: Vec<(&str, &str)> = needs
        .iter()
        .filter_map(|need| match need {
            Need::Pip { package, version } => Some((*package, *version)),
            _ => None,
        })
        .collect();
    let npms: Vec<(&str, &str)> = needs
        .iter()
        .filter_map(|need| match need {
            Need::Npm { package, version } => Some((*package, *version)),
            _ => None,
        })
        .collect();
    pip_install(&pips)?;
    npm_install(&npms)
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let manual = format!(
        "sudo apt-get update && sudo apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if which("apt-get").is_none() {
        bail!(
            "missing Debian packages {packages:?} and this machine has no apt-get: install their equivalents, e.g. on Debian:\n    {manual}"
        );
    }
    let sudo = if is_root() {
        false
    } else if which("sudo").is_some() && Cmd::new("sudo").args(["-n", "true"]).probe() {
        true
    } else {
        bail!(
            "missing Debian packages {packages:?}, and this user can neither install them (not root) nor use sudo without a password. Run:\n    {manual}\nthen run this command again."
        );
    };
    let apt_get = |args: &[&str]| {
        if sudo {
            Cmd::new("sudo")
                .args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"])
                .args(args)
        } else {
            Cmd::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(args)
        }
    };
    let started = Instant::now();
    apt_get(&["update"]).run()?;
    apt_get(&["install", "-y", "--no-install-recommends"])
        .args(packages)
        .run()?;
    println!(
        "installed {} in {:.1}s",
        packages.join(" "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn is_root() -> bool {
    Cmd::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}

fn pip_install(pips: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<String> = pips
        .iter()
        .filter(|(package, version)| !pip_installed(package, version))
        .map(|(package, version)| format!("{package}=={version}"))
        .collect();
    for (package, version) in pips {
        if !missing.contains(&format!("{package}=={version}")) {
            println!("found {package} {version} in {VENV}");
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    if !venv_python().exists() {
        Cmd::new("python3").args(["-m", "venv", VENV]).run()?;
    }
    Cmd::new(venv_python())
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(&missing)
        .run()?;
    println!(
        "installed {} in {:.1}s",
        missing.join(" "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether the venv holds exactly this version, read from its `.dist-info` directory.
fn pip_installed(package: &str, version: &str) -> bool {
    let dist_info = format!(
        "{}-{version}.dist-info",
        package.to_lowercase().replace('-', "_")
    );
    let Ok(pythons) = fs::read_dir(root().join(VENV).join("lib")) else {
        return false;
    };
    venv_python().exists()
        && pythons.flatten().any(|python| {
            python
                .path()
                .join("site-packages")
                .join(&dist_info)
                .is_dir()
        })
}

fn npm_install(npms: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<String> = npms
        .iter()
        .filter(|(package, version)| {
            npm_version(&node_modules().join(package)).as_deref() != Some(*version)
        })
        .map(|(package, version)| format!("{package}@{version}"))
        .collect();
    for (package, version) in npms {
        if !missing.contains(&format!("{package}@{version}")) {
            println!("found {package}@{version} in {NODE_PREFIX}");
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    Cmd::new("npm")
        .args([
            "install",
            "--prefix",
            NODE_PREFIX,
            "--no-audit",
            "--no-fund",
        ])
        .args(&missing)
        .run()?;
    println!(
        "installed {} in {:.1}s",
        missing.join(" "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `version` of an installed npm package, from its `package.json`.
fn npm_version(package_dir: &Path) -> Option<String> {
    let manifest = fs::read_to_string(package_dir.join("package.json")).ok()?;
    let after_key = &manifest[manifest.find("\"version\"")? + "\"version\"".len()..];
    let value = after_key.trim_start().strip_prefix(':')?.trim_start();
    let value = value.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_owned())
}
