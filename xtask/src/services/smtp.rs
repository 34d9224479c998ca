//! `smtp`: a real SMTP server (aiosmtpd) that keeps every message it accepts as files.
//! The handler is `xtask/smtp_sink.py`.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    time::Duration,
};

use super::{Process, Running, Service, free_port, xtask_file};
use crate::{
    cmd::Cmd,
    error::Result,
    preflight::{Need, venv_python},
};

pub(super) const SERVICE: Service = Service {
    name: "smtp",
    needed_by: &["crates/nopassword-email", "examples/axum-demo"],
    exports: &["NOPASSWORD_TEST_SMTP_URL", "NOPASSWORD_TEST_SMTP_MAILDIR"],
    needs: &[Need::Pip {
        package: "aiosmtpd",
        version: "1.4.6",
    }],
    start,
};

fn start() -> Result<Running> {
    let port = free_port()?;
    let mut sink = Process::spawn(&format!("smtp-sink-{port}"), |dir| {
        Cmd::new(venv_python())
            .arg(xtask_file("smtp_sink.py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--maildir")
            .arg(dir.join("maildir"))
    })?;
    sink.wait_until("SMTP greeting", Duration::from_secs(15), || greeting(port))?;
    // The sink creates the directory before it listens.
    let maildir = sink.dir().join("maildir");
    Ok(Running::new(
        "smtp",
        vec![
            (
                "NOPASSWORD_TEST_SMTP_URL",
                format!("smtp://127.0.0.1:{port}"),
            ),
            (
                "NOPASSWORD_TEST_SMTP_MAILDIR",
                maildir.display().to_string(),
            ),
        ],
        vec![sink],
    ))
}

/// Connects, expects the `220` greeting, and says `QUIT`.
fn greeting(port: u16) -> Result<(), String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|error| format!("connect to 127.0.0.1:{port}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|error| error.to_string())?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|error| format!("read the greeting: {error}"))?;
    let _ = (&stream).write_all(b"QUIT\r\n");
    if line.starts_with("220 ") {
        Ok(())
    } else {
        Err(format!("greeting was {line:?}"))
    }
}
