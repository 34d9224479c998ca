//! The soak run (`cargo xtask soak`, not in CI): the demo with Redis codes and Redis sessions
//! under a steady mix of requests for a long time, to show that nothing grows and nothing
//! fails. Each of 32 keep-alive connections plays one user in a loop: request a code
//! (`api/login/`), log in with it (`api/login/code/`), `GET /whoami`, log out (`api/logout/`);
//! every fourth round only requests a code and leaves it unused, to expire.
//!
//! First a calibration measures the mix's maximum for 10 s; the soak then runs at half of it
//! (or at `--rate`) for `--duration` seconds (default 600). It reports the unexpected answers
//! (target 0), the process's resident memory (server and client share the process) and
//! Redis's `used_memory` after the warm-up and at the end, and whether every expired code left
//! Redis: codes live `login_code_timeout` = 60 s here, and after the load stops the run waits
//! that long and counts the code keys left.
//!
//! Needs `NOPASSWORD_TEST_REDIS_URL` (`cargo xtask soak` starts a server and exports it).

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use nopassword_core::{
    Outbox, Settings, flow::FlowToken, hashing::CodeHasher, secret::SecretString,
    settings::HashAlgorithm, user::User,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::{
    DemoParts,
    load::{Framework, Server},
};

/// Connections, one simulated user each.
const USERS: usize = 32;
/// How long codes live in the soak (short, so that expiry shows within the run).
const CODE_SECONDS: u64 = 60;
/// The calibration's length.
const CALIBRATION: Duration = Duration::from_secs(10);
/// The soak's `secret_key` (the client hashes link secrets with it to pair messages with flows).
const SECRET_KEY: &str = "soak-secret-key-0123456789abcdef0123";
/// Load before the "start" figures are taken.
const WARM_UP: Duration = Duration::from_secs(30);

/// What the command line asks for.
struct Options {
    duration: Duration,
    rate: Option<f64>,
}

impl Options {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let value = |flag: &str| {
            args.iter()
                .position(|arg| arg == flag)
                .and_then(|i| args.get(i + 1))
                .map(|value| {
                    value
                        .parse::<f64>()
                        .unwrap_or_else(|_| panic!("{flag} takes a number, not {value:?}"))
                })
        };
        Self {
            duration: Duration::from_secs_f64(value("--duration").unwrap_or(600.0)),
            rate: value("--rate"),
        }
    }
}

/// Counts shared by every connection.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap_or_else(|e| e.into_inner());
        if first.len() < 5 {
            first.push(what);
        }
    }
}

/// Runs the soak against `framework`'s demo, on a tokio runtime of its own, and panics if any
/// answer was unexpected or an expired code stayed in Redis. Without `--soak` among the
/// arguments (`cargo bench --workspace` runs every bench) it only says how to run it.
pub fn run<F: Framework>(framework: F) {
    if !std::env::args().any(|arg| arg == "--soak") {
        println!("soak: not run (it takes 10 minutes); `cargo xtask soak` runs it");
        return;
    }
    let options = Options::from_args();
    let url = std::env::var("NOPASSWORD_TEST_REDIS_URL").expect(
        "NOPASSWORD_TEST_REDIS_URL is not set: run the soak with `cargo xtask soak`, which \
         starts a Redis server and exports it",
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(soak(&framework, &url, options));
}

async fn soak<F: Framework>(framework: &F, url: &str, options: Options) {
    let namespace = format!("soak{}", std::process::id());
    let users: Vec<User> = (0..USERS)
        .map(|i| User::new(format!("{}", 1000 + i), format!("soak{i:02}")))
        .collect();
    let outbox = Outbox::new(4 * USERS).quiet();
    let mut parts = DemoParts::with_sender(
        Settings {
            namespace: namespace.clone(),
            secret_key: Some(SecretString::new(SECRET_KEY)),
            max_requests_per_ip_per_minute: u32::MAX,
            max_sends_per_user_per_hour: u32::MAX,
            login_code_timeout: CODE_SECONDS,
            ..Settings::default()
        },
        users.clone(),
        outbox.clone(),
        None,
    );
    parts.settings.redis.redis_url = Some(SecretString::new(url));
    parts.store = crate::code_store(&parts.settings)
        .await
        .expect("connect the code store to Redis");
    let (server, service) = framework.serve_demo(parts).await;
    let mount = service.settings().mount_path.clone();
    drop(service);
    let addr = server.addr();
    let mut redis = redis::Client::open(url)
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");

    println!("soak: calibrating for {CALIBRATION:?} ({USERS} connections, unpaced)");
    let calibration = drive(addr, &mount, &users, &outbox, None, CALIBRATION).await;
    let max = calibration.requests.load(Ordering::Relaxed) as f64 / CALIBRATION.as_secs_f64();
    let rate = options.rate.unwrap_or(max / 2.0);
    println!(
        "soak: maximum {max:.0} requests/s ({} unexpected answers); soaking at {rate:.0}/s for {:?}",
        calibration.errors.load(Ordering::Relaxed),
        options.duration
    );
    let warm_up = WARM_UP.min(options.duration / 4);
    let started = Instant::now();
    let soaking = {
        let (mount, users, outbox) = (mount.clone(), users.clone(), outbox.clone());
        let duration = options.duration;
        tokio::spawn(
            async move { drive(addr, &mount, &users, &outbox, Some(rate), duration).await },
        )
    };
    tokio::time::sleep(warm_up).await;
    let rss_start = rss_kib();
    let redis_start = used_memory(&mut redis).await;
    println!("soak: after {warm_up:?}: RSS {rss_start} KiB, Redis used_memory {redis_start} bytes");
    let tally = soaking.await.expect("the soak's client panicked");
    let elapsed = started.elapsed();
    let rss_end = rss_kib();
    let redis_end = used_memory(&mut redis).await;
    let live_codes = count_keys(&mut redis, &format!("{{{namespace}:c:*")).await;
    let requests = tally.requests.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    println!(
        "soak: {requests} requests in {elapsed:.0?} ({:.0}/s), {errors} unexpected answers",
        requests as f64 / elapsed.as_secs_f64()
    );
    for error in tally
        .first_errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        println!("  unexpected: {error}");
    }
    println!("soak: at the end: RSS {rss_end} KiB, Redis used_memory {redis_end} bytes");
    println!("soak: code keys in Redis when the load stopped: {live_codes}");
    let wait = Duration::from_secs(CODE_SECONDS + 5);
    println!("soak: waiting {wait:?} for the last codes to expire");
    tokio::time::sleep(wait).await;
    let left = count_keys(&mut redis, &format!("{{{namespace}:c:*")).await;
    let redis_after = used_memory(&mut redis).await;
    println!("soak: code keys left {wait:?} later: {left}; Redis used_memory {redis_after} bytes");
    println!();
    println!("| figure | after warm-up | end |");
    println!("|---|---:|---:|");
    println!("| process RSS (server and client) | {rss_start} KiB | {rss_end} KiB |");
    println!("| Redis used_memory | {redis_start} | {redis_end} |");
    println!(
        "| requests / unexpected answers | {requests} / {errors} over {elapsed:.0?} at {rate:.0}/s | |"
    );
    println!("| code keys: when the load stopped / {wait:?} later | {live_codes} | {left} |");
    server.stop().await;
    assert_eq!(errors, 0, "unexpected answers during the soak");
    assert_eq!(left, 0, "expired codes stayed in Redis");
}

/// Runs the mix on [`USERS`] connections for `duration`, paced to `rate` requests/s in all
/// (unpaced when `None`).
async fn drive(
    addr: SocketAddr,
    mount: &str,
    users: &[User],
    outbox: &Outbox,
    rate: Option<f64>,
    duration: Duration,
) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let until = Instant::now() + duration;
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let (tally, outbox) = (Arc::clone(&tally), outbox.clone());
            let (mount, username) = (mount.to_owned(), user.username.clone());
            let pace = rate.map(|rate| Duration::from_secs_f64(users.len() as f64 / rate));
            tokio::spawn(async move {
                play(addr, &mount, &username, &outbox, pace, until, &tally).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a soak connection panicked");
    }
    tally
}

/// One user's loop on one keep-alive connection.
async fn play(
    addr: SocketAddr,
    mount: &str,
    username: &str,
    outbox: &Outbox,
    pace: Option<Duration>,
    until: Instant,
    tally: &Tally,
) {
    let stream = TcpStream::connect(addr).await.expect("connect to the demo");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    let driver = tokio::spawn(driver);
    let mut ticks = pace.map(|pace| {
        let mut interval = tokio::time::interval(pace);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });
    let mut send =
        async |method: Method, path: String, body: Option<Value>, cookie: Option<&str>| {
            if let Some(ticks) = &mut ticks {
                ticks.tick().await;
            }
            let mut request = Request::builder()
                .method(method)
                .uri(path)
                .header(header::HOST, addr.to_string());
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            let body = match body {
                Some(body) => {
                    request = request.header(header::CONTENT_TYPE, "application/json");
                    Bytes::from(body.to_string())
                }
                None => Bytes::new(),
            };
            sender.ready().await.expect("the connection stays open");
            let response = sender
                .send_request(request.body(Full::new(body)).expect("a request"))
                .await
                .expect("an answer");
            tally.requests.fetch_add(1, Ordering::Relaxed);
            let status = response.status();
            let cookie = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok()?.split(';').next())
                .find(|pair| pair.contains("_session="))
                .map(str::to_owned);
            let body = response
                .into_body()
                .collect()
                .await
                .expect("a body")
                .to_bytes();
            (status, cookie, body)
        };
    // The message of a request is the one whose link secret hashes to the store key its flow
    // names (delivery runs in the background and may lag: the newest message of the user may
    // still be the previous one).
    let hasher = CodeHasher::new(HashAlgorithm::Sha256, &SecretString::new(SECRET_KEY), &[]);
    let mut round = 0u64;
    while Instant::now() < until {
        round += 1;
        let (status, _, body) = send(
            Method::POST,
            format!("{mount}/api/login/"),
            Some(json!({ "username": username })),
            None,
        )
        .await;
        let flow = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["flow"].as_str().map(str::to_owned));
        let key = flow
            .as_deref()
            .and_then(FlowToken::parse)
            .map(|f| f.code_key());
        let (Some(flow), Some(key)) = (flow.filter(|_| status == StatusCode::OK), key) else {
            tally.error(format!(
                "request: {status} {}",
                String::from_utf8_lossy(&body)
            ));
            continue;
        };
        // Delivery runs in the background: wait for this round's message.
        let deadline = Instant::now() + Duration::from_secs(5);
        let code = loop {
            // One request of this user is in flight: once delivered, its message is the
            // user's newest.
            let mine = outbox.latest_for(username).filter(|m| {
                m.url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .is_some_and(|link| hasher.hash(link).key == key)
            });
            match mine {
                Some(m) => break Some(m.code.expose().to_owned()),
                None if Instant::now() > deadline => break None,
                None => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        };
        let Some(code) = code else {
            tally.error("no login message within 5 s".into());
            continue;
        };
        if round.is_multiple_of(4) {
            // This one is left to expire.
            continue;
        }
        let (status, cookie, body) = send(
            Method::POST,
            format!("{mount}/api/login/code/"),
            Some(json!({ "username": username, "code": code, "flow": flow })),
            None,
        )
        .await;
        let Some(cookie) = cookie.filter(|_| status == StatusCode::OK) else {
            tally.error(format!(
                "login: {status} {}",
                String::from_utf8_lossy(&body)
            ));
            continue;
        };
        let (status, _, body) = send(Method::GET, "/whoami".into(), None, Some(&cookie)).await;
        if status != StatusCode::OK || !String::from_utf8_lossy(&body).contains(username) {
            tally.error(format!(
                "whoami: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let (status, _, body) = send(
            Method::POST,
            format!("{mount}/api/logout/"),
            Some(json!({})),
            Some(&cookie),
        )
        .await;
        if status != StatusCode::OK {
            tally.error(format!(
                "logout: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
    }
    drop(sender);
    let _ = driver.await;
}

/// This process's resident set size, KiB (`VmRSS` of `/proc/self/status`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO memory");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("used_memory in INFO memory")
}

async fn count_keys(conn: &mut redis::aio::MultiplexedConnection, pattern: &str) -> usize {
    let mut cursor = 0u64;
    let mut count = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .expect("SCAN");
        count += batch.len();
        if next == 0 {
            return count;
        }
        cursor = next;
    }
}
