//! `redis`: one Redis server, empty, without persistence.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    time::Duration,
};

use super::{Process, Running, Service, free_port};
use crate::{cmd::Cmd, error::Result, preflight::Need};

pub(super) const SERVICE: Service = Service {
    name: "redis",
    needed_by: &[
        "crates/nopassword-store",
        "examples/axum-demo",
        "examples/actix-demo",
        "examples/demo-common",
    ],
    exports: &[
        "NOPASSWORD_TEST_REDIS_URL",
        "NOPASSWORD_TEST_REDIS_SERVER_BIN",
        "NOPASSWORD_TEST_REDIS_CLI_BIN",
    ],
    needs: &[REDIS_SERVER, REDIS_CLI, OPENSSL, KILL],
    start,
};

// The store's fault test pauses and resumes its own server with `kill -STOP` / `-CONT`.
pub(super) const KILL: Need = Need::Program {
    names: &["kill"],
    apt: "procps",
};

// The store's `rediss://` test makes its private CA and certificates with the openssl command.
pub(super) const OPENSSL: Need = Need::Program {
    names: &["openssl"],
    apt: "openssl",
};

pub(super) const REDIS_SERVER: Need = Need::Program {
    names: &["redis-server"],
    apt: "redis-server",
};
// Debian's redis-server depends on redis-tools, which has redis-cli.
pub(super) const REDIS_CLI: Need = Need::Program {
    names: &["redis-cli"],
    apt: "redis-server",
};

fn start() -> Result<Running> {
    let server = REDIS_SERVER.path()?;
    let cli = REDIS_CLI.path()?;
    let port = free_port()?;
    let node = start_node(port, &[])?;
    Ok(Running::new(
        "redis",
        vec![
            (
                "NOPASSWORD_TEST_REDIS_URL",
                format!("redis://127.0.0.1:{port}/"),
            ),
            (
                "NOPASSWORD_TEST_REDIS_SERVER_BIN",
                server.display().to_string(),
            ),
            ("NOPASSWORD_TEST_REDIS_CLI_BIN", cli.display().to_string()),
        ],
        vec![node],
    ))
}

/// Starts `redis-server` on `port` with its data in a temporary directory, and waits until it
/// answers `PING`. `extra` is appended to the command line (the cluster options).
pub(super) fn start_node(port: u16, extra: &[String]) -> Result<Process> {
    let server = REDIS_SERVER.path()?;
    let mut node = Process::spawn(&format!("redis-server-{port}"), |dir| {
        Cmd::new(server)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .args(extra)
    })?;
    node.wait_until("PONG", Duration::from_secs(10), || {
        match command(port, "PING")?.as_str() {
            "PONG" => Ok(()),
            other => Err(format!("PING answered {other:?}")),
        }
    })?;
    Ok(node)
}

/// Sends one inline command to the server on `port` and returns its reply: a simple string,
/// a bulk string, or an integer as text. An error reply is an `Err`.
pub(super) fn command(port: u16, command: &str) -> Result<String, String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|error| format!("connect to 127.0.0.1:{port}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|error| error.to_string())?;
    (&stream)
        .write_all(format!("{command}\r\n").as_bytes())
        .map_err(|error| format!("send {command}: {error}"))?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|error| format!("read the reply to {command}: {error}"))?;
    let line = line.trim_end();
    match line.split_at_checked(1) {
        Some(("+" | ":", value)) => Ok(value.to_owned()),
        Some(("-", error)) => Err(format!("{command}: {error}")),
        Some(("$", len)) => {
            let len: usize = len
                .parse()
                .map_err(|_| format!("bad reply to {command}: {line:?}"))?;
            let mut bulk = vec![0; len];
            reader
                .read_exact(&mut bulk)
                .map_err(|error| format!("read the reply to {command}: {error}"))?;
            Ok(String::from_utf8_lossy(&bulk).into_owned())
        }
        _ => Err(format!("unexpected reply to {command}: {line:?}")),
    }
}
