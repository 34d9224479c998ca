//! Running programs: every command is printed (`$ cargo fmt --all --check`) before it runs,
//! in a form that can be pasted into a shell at the workspace root.

use std::{
    env,
    ffi::OsStr,
    fmt,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::{
    error::{Context, Error, Result},
    root,
};

/// A command that prints itself before it runs. Always runs at the workspace root.
pub(crate) struct Cmd(Command);

impl Cmd {
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program);
        command.current_dir(root());
        Cmd(command)
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.0.arg(arg);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.0.args(args);
        self
    }

    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.0.env(key, value);
        self
    }

    pub(crate) fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.0.envs(vars);
        self
    }

    /// Prints the command, runs it with this terminal's stdio, fails unless it exits 0.
    pub(crate) fn run(mut self) -> Result<()> {
        println!("$ {self}");
        let status = self.0.status().context(format!("cannot run `{self}`"))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::new(format!("`{self}` failed ({status})")))
        }
    }

    /// Prints the command, runs it with output captured, and returns its stdout.
    /// On failure the error carries both stdout and stderr, so nothing is lost.
    pub(crate) fn read(mut self) -> Result<String> {
        println!("$ {self}");
        let output = self
            .0
            .stdin(Stdio::null())
            .output()
            .context(format!("cannot run `{self}`"))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            Ok(stdout)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(Error::new(format!(
                "`{self}` failed ({}):\n{stdout}{stderr}",
                output.status
            )))
        }
    }

    /// Prints the command and runs it silently: a yes/no question about the machine.
    pub(crate) fn probe(mut self) -> bool {
        println!("$ {self}");
        self.0
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// The underlying command, for callers that spawn a long-running process.
    pub(crate) fn into_command(self) -> Command {
        self.0
    }
}

/// Shell form of a command: `KEY=value program arg ...`. Paths under the workspace root are
/// shown relative to it, which is where every command runs.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let command = &self.0;
        let mut words = Vec::new();
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                words.push(format!(
                    "{}={}",
                    key.to_string_lossy(),
                    quote(&value.to_string_lossy())
                ));
            }
        }
        words.push(quote(&relative(command.get_program())));
        words.extend(command.get_args().map(|arg| quote(&relative(arg))));
        f.write_str(&words.join(" "))
    }
}

fn relative(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let prefix = format!("{}/", root().display());
    match word.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => word.into_owned(),
    }
}

/// Quotes a word for a POSIX shell, leaving plain words bare.
pub(crate) fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+=:,./@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The first executable called `name` on `PATH`, like `command -v`.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub(crate) fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
