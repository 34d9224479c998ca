//! Just enough HTTP/1.1 to check a local service: one request per connection, std only.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

pub(super) struct Response {
    pub(super) status: u16,
    pub(super) body: String,
}

/// Sends one request to `127.0.0.1:port` and reads the whole response.
/// Errors are strings: they end up as the "last check" of a readiness wait.
pub(super) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|error| format!("connect to 127.0.0.1:{port}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|error| error.to_string())?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("send {method} {path}: {error}"))?;
    // Read exactly one response: some servers (chromedriver) keep the connection open anyway.
    let mut raw = Vec::new();
    let mut buffer = [0; 16 * 1024];
    while complete_length(&raw).is_none_or(|length| raw.len() < length) {
        let read = stream
            .read(&mut buffer)
            .map_err(|error| format!("read the response to {method} {path}: {error}"))?;
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..read]);
    }
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("incomplete response to {method} {path}: {raw:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in the response to {method} {path}: {head:?}"))?;
    let chunked = head
        .lines()
        .any(|line| line.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Response { status, body })
}

/// The length of the whole response once its head is in `raw`, when its framing tells:
/// `Content-Length`, or a chunked body up to its last chunk. `None` means read to the end.
fn complete_length(raw: &[u8]) -> Option<usize> {
    let head_end = raw.windows(4).position(|window| window == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match (name.trim(), value.trim()) {
            ("content-length", length) => return Some(head_end + length.parse::<usize>().ok()?),
            ("transfer-encoding", "chunked") => {
                let body = &raw[head_end..];
                let end = if body.starts_with(b"0\r\n\r\n") {
                    5
                } else {
                    body.windows(7)
                        .position(|window| window == b"\r\n0\r\n\r\n")?
                        + 7
                };
                return Some(head_end + end);
            }
            _ => {}
        }
    }
    None
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        let (Some(chunk), Some(next)) = (after.get(..size), after.get(size..)) else {
            break;
        };
        if size == 0 {
            break;
        }
        body.push_str(chunk);
        rest = next.trim_start_matches("\r\n");
    }
    body
}
