//! The load benchmark both demos run (`cargo bench -p axum-demo --bench load`, and the same for
//! `actix-demo`): the demo's JSON API under 32 concurrent keep-alive connections, measured in
//! the same run as a bare handler of the same framework that returns a fixed 200 (the HTTP
//! stack's own limit on this machine, which client and servers share).
//!
//! - baseline: `GET /` on an app with that one handler;
//! - (a) `POST {mount}/api/login/`, usernames cycling over known, inactive and unknown ones,
//!   on the demo with a null sender;
//! - (b) `POST {mount}/api/login/code/` with a fresh valid code per request, codes issued
//!   through the service before the timed run and read back from a quiet outbox.
//!
//! The demos use the in-memory store, with the per-address and per-user rate limits raised out
//! of the way (the whole run is one client address). The target is at least 50% of the
//! baseline's requests/s for (a) and (b).
//!
//! With Redis (`NOPASSWORD_TEST_REDIS_URL`, and `NOPASSWORD_TEST_REDIS_CLUSTER_URLS` for a
//! cluster, which `cargo xtask bench` starts and exports), the run goes on with the deployment
//! for more than one instance: codes in `RedisStore` and sessions in Redis, on each Redis in
//! turn, each right after `redis-benchmark -c 32` on the same server(s) (`SET k v EX 900` and
//! `GETDEL k`, keys and values of a code's sizes; `--cluster` on the cluster):
//!
//! - (c) `POST {mount}/api/login/` against `SET EX`;
//! - (d) `POST {mount}/api/login/code/`, a fresh code per login issued before the timed run,
//!   against `GETDEL`.
//!
//! Targets: (c) and (d) at least 50% of Redis's own figure, and a p99 of at most 10 ms.
//!
//! With PostgreSQL (`NOPASSWORD_TEST_DATABASE_URL`, which `cargo xtask bench` starts and
//! exports), the run ends with the deployment of `database_url`: codes in `PgStore`, users in
//! the demo's table read by a `PgDirectory`, sessions in PostgreSQL:
//!
//! - (e) `POST {mount}/api/login/`, and (f) `POST {mount}/api/login/code/` with a fresh code
//!   per login issued before the timed run, each against the baseline of the same run.
//!
//! Waiting browsers (docs/HTTP.md, Cross-device approval), on the in-memory store and on each
//! Redis: 10,000 pending flows, started before the timed runs,
//!
//! - (g) `GET {mount}/api/login/flow/?flow=...` back to back over them, against the baseline;
//! - (h) `POST {mount}/api/login/code/` alone, then while 64 connections poll the 10,000 flows
//!   at the waiting page's pace (each every 1.5 s: about 6,700 polls/s): logins with pollers
//!   against logins without, on the same server.
//!
//! `waiting` among the arguments (`cargo xtask bench -- -p axum-demo --bench load -- waiting`)
//! runs the baseline and these sections only.
//!
//! Everything here is framework-neutral: the client (one raw HTTP/1.1 keep-alive connection per
//! task on a tokio runtime, so it spends as little of the shared CPU as possible), the
//! scenarios, the measurement and the report. A bench only says how its framework serves the
//! baseline and the demo, by implementing [`Framework`](crate::load::Framework), and calls
//! [`run`](crate::load::run). Every request has a deadline, so a stuck server fails the run
//! instead of hanging it.
//!
//! Run with `--bench` (as `cargo bench` does), it pushes for real; otherwise (`cargo test
//! --benches`) it does a short smoke run that only checks that every scenario works.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use nopassword_core::{
    LoginCodeSender, NoPassword, Outbox, Settings,
    hashing::{CodeHasher, CodeKey},
    secret::SecretString,
    sender::NullSender,
    service::LoginRequest,
    user::User,
};
use serde_json::json;
use tokio::net::TcpStream;

use crate::{DemoParts, demo_users};

/// The Python original (django-nopassword) on this kind of machine, requests/s.
const PYTHON_REQUEST_CODE: f64 = 170.0;
const PYTHON_LOGIN_CODE: f64 = 60.0;
/// The target: each API route at least this share of the baseline's requests/s.
const TARGET: f64 = 0.5;
/// Users for (b), so codes spread over many users as on a real site.
const CODE_USERS: usize = 1000;
/// Codes issued between two reads of the outbox.
const ISSUE_BATCH: usize = 10_000;
/// The longest one request may take before the run fails.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// The p99 target of the Redis runs.
const P99_TARGET: Duration = Duration::from_millis(10);
/// Waiting browsers in (g) and (h): pending flows, each polled every [`POLL_INTERVAL`].
const WAITING: usize = 10_000;
/// How often the waiting page's script asks `api/login/flow/` (core's `nopassword.js`).
const POLL_INTERVAL: Duration = Duration::from_millis(1_500);
/// Keep-alive connections the background pollers of (h) share.
const POLL_CONNECTIONS: usize = 64;
/// Operations per `redis-benchmark` run (each run takes a few seconds).
const REDIS_BENCHMARK_OPS: usize = 300_000;

/// A server a [`Framework`] started for one scenario.
pub trait Server {
    /// Where it listens (on 127.0.0.1).
    fn addr(&self) -> SocketAddr;

    /// Stops the server and waits until its app (and the codes and sessions it holds) is gone,
    /// so one scenario's leftovers do not weigh on the next.
    fn stop(self) -> impl Future<Output = ()>;
}

/// How a web framework serves the two apps of a load run. The futures run on the client's
/// tokio runtime (multi-threaded, all drivers enabled).
pub trait Framework {
    /// A running server.
    type Server: Server;

    /// What the opening line adds after "client and servers share N cores" (e.g. the
    /// framework's own worker count), with its leading separator; empty by default.
    fn note(&self) -> String {
        String::new()
    }

    /// Serves, on a free port of 127.0.0.1, an app whose only route, `GET /`, answers a fixed
    /// 200 "ok".
    fn serve_baseline(&self) -> impl Future<Output = Self::Server>;

    /// Builds the demo from these parts (its `Demo::from_parts`) and serves it on a free port
    /// of 127.0.0.1, with client addresses as the demo binary does. Returns the server and the
    /// demo's service, through which the run issues login codes.
    fn serve_demo(
        &self,
        parts: DemoParts,
    ) -> impl Future<Output = (Self::Server, NoPassword<User>)>;
}

/// Runs the whole load benchmark against `framework`'s servers on a tokio runtime of its own,
/// prints the results (a table, each route's share of the baseline against the 50% target,
/// and the comparison with the Python original) and panics if any answer was unexpected.
///
/// With `--bench` among the arguments (as `cargo bench` passes), 32 connections, 1 s warm-up
/// and 5 s measured per scenario; otherwise a short smoke run.
pub fn run<F: Framework>(framework: F) {
    let (plan, full) = Plan::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run_scenarios(&framework, plan, full));
}

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
struct Plan {
    connections: usize,
    warm_up: Duration,
    measure: Duration,
    /// `waiting` among the arguments: the baseline and the waiting-browser sections only.
    only_waiting: bool,
    /// `routes` among the arguments: no waiting-browser section (their windows overlap, which
    /// `cargo xtask profile` cannot take apart).
    only_routes: bool,
    /// At most this many codes per run (`profile`: Redis's own rate, which sizes the Redis
    /// runs, is far beyond what the bench reaches under callgrind; a run that uses them up
    /// ends its window there and says so).
    max_codes: usize,
}

impl Plan {
    /// `cargo bench` passes `--bench`; anything else is a quick smoke run that only checks that
    /// every scenario works.
    fn from_args() -> (Self, bool) {
        let only_waiting = std::env::args().any(|arg| arg == "waiting");
        let only_routes = std::env::args().any(|arg| arg == "routes");
        if std::env::args().any(|arg| arg == "profile") {
            // Under callgrind everything runs some 50 times slower, on one thread at a time:
            // longer windows, so each still holds a few hundred requests.
            let plan = Self {
                connections: 8,
                warm_up: Duration::from_secs(3),
                measure: Duration::from_secs(10),
                only_waiting,
                only_routes,
                max_codes: 3_000,
            };
            return (plan, false);
        }
        if std::env::args().any(|arg| arg == "--bench") {
            let plan = Self {
                connections: 32,
                warm_up: Duration::from_secs(1),
                measure: Duration::from_secs(5),
                only_waiting,
                only_routes,
                max_codes: usize::MAX,
            };
            (plan, true)
        } else {
            let plan = Self {
                connections: 4,
                warm_up: Duration::from_millis(100),
                measure: Duration::from_millis(300),
                only_waiting,
                only_routes,
                max_codes: usize::MAX,
            };
            (plan, false)
        }
    }
}

/// What a scenario sends and what it expects back.
struct Workload {
    name: String,
    method: Method,
    path: String,
    host: String,
    /// JSON bodies (none for a GET).
    bodies: Vec<Bytes>,
    /// Query strings (`flow=...`), cycled over, one per request; none when empty.
    queries: Vec<String>,
    /// Cycle over `bodies`; otherwise each is sent once and the run ends when they run out.
    cycle: bool,
    next: AtomicUsize,
    /// A 200 whose body contains this.
    expect_body: &'static str,
    /// The answer must set a cookie (a login).
    expect_cookie: bool,
}

impl Workload {
    fn request(&self) -> Option<Request<Full<Bytes>>> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let body = if self.bodies.is_empty() {
            Bytes::new()
        } else if self.cycle {
            self.bodies[i % self.bodies.len()].clone()
        } else {
            self.bodies.get(i)?.clone()
        };
        let uri = if self.queries.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.queries[i % self.queries.len()])
        };
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(uri)
            .header(header::HOST, &self.host);
        if !body.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        Some(request.body(Full::new(body)).expect("a valid request"))
    }
}

/// What one connection saw.
#[derive(Default)]
struct ConnectionStats {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    exhausted: bool,
    last_done: Option<Instant>,
}

/// A scenario's result.
struct Measured {
    name: String,
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    first_error: Option<String>,
    /// The run ended early because the workload ran out (fresh codes).
    exhausted_after: Option<Duration>,
}

async fn run_scenarios<F: Framework>(framework: &F, plan: Plan, full: bool) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load: {} connections, {:?} warm-up, {:?} measured; client and servers share {cores} cores{}",
        plan.connections,
        plan.warm_up,
        plan.measure,
        framework.note()
    );

    let server = framework.serve_baseline().await;
    let baseline_addr = server.addr();
    let baseline = measure(
        baseline_addr,
        Workload {
            name: "baseline: GET / (fixed 200)".into(),
            method: Method::GET,
            path: "/".into(),
            host: baseline_addr.to_string(),
            bodies: Vec::new(),
            queries: Vec::new(),
            cycle: true,
            next: AtomicUsize::new(0),
            expect_body: "ok",
            expect_cookie: false,
        },
        plan,
    )
    .await;
    server.stop().await;

    let mut in_memory = Vec::new();
    if !plan.only_waiting {
        // (a): the demo with a null sender.
        let (server, service) = framework
            .serve_demo(DemoParts::with_sender(
                settings(),
                demo_users(),
                Outbox::new(1).quiet(),
                Some(Arc::new(NullSender)),
            ))
            .await;
        let mount = service.settings().mount_path.clone();
        let request_addr = server.addr();
        drop(service);
        // Known (alice, bob, carol), inactive (dave) and unknown users, all answered alike.
        let usernames = [
            "alice",
            "bob",
            "carol+test@example.com",
            "dave",
            "nobody",
            "mallory@example.com",
        ];
        let request_code = measure(
            request_addr,
            Workload {
                name: format!("(a) POST {mount}/api/login/"),
                method: Method::POST,
                path: format!("{mount}/api/login/"),
                host: request_addr.to_string(),
                bodies: usernames
                    .iter()
                    .map(|username| json_body(&json!({ "username": username })))
                    .collect(),
                queries: Vec::new(),
                cycle: true,
                next: AtomicUsize::new(0),
                expect_body: "Login code has been sent.",
                expect_cookie: false,
            },
            plan,
        )
        .await;
        server.stop().await;

        // (b): enough fresh codes to last the whole run at the baseline's rate, which no route
        // of the demo can beat; should they run out anyway, the run ends there and says so.
        let run_seconds = (plan.warm_up + plan.measure).as_secs_f64();
        let codes_needed = ((baseline.per_second * run_seconds * 1.1) as usize)
            .max(1000)
            .min(plan.max_codes);
        let users = code_users();
        // The outbox holds one batch at a time (read after each), which keeps memory down.
        let outbox = Outbox::new(ISSUE_BATCH).quiet();
        let (server, service) = framework
            .serve_demo(DemoParts::with_sender(
                settings(),
                users.clone(),
                outbox.clone(),
                None,
            ))
            .await;
        let code_addr = server.addr();
        let codes = issue_codes(&service, &outbox, &users, codes_needed).await;
        drop((service, outbox));
        let login_code = measure(
            code_addr,
            Workload {
                name: format!("(b) POST {mount}/api/login/code/"),
                method: Method::POST,
                path: format!("{mount}/api/login/code/"),
                host: code_addr.to_string(),
                bodies: codes,
                queries: Vec::new(),
                cycle: false,
                next: AtomicUsize::new(0),
                expect_body: "\"next\"",
                expect_cookie: true,
            },
            plan,
        )
        .await;
        server.stop().await;
        report(&baseline, &[&request_code, &login_code], full);
        in_memory.extend([request_code, login_code]);
    }
    // (g) and (h) on the in-memory store: logins run about 40% of the baseline.
    let run_seconds = (plan.warm_up + plan.measure).as_secs_f64();
    let mut waiting_runs = Vec::new();
    if !plan.only_routes {
        waiting_runs.push(
            run_waiting(
                framework,
                "in-memory",
                plan,
                full,
                ((baseline.per_second * run_seconds * 0.6) as usize).max(1000),
                |users, outbox| async move {
                    DemoParts::with_sender(settings(), users, outbox, None)
                },
            )
            .await,
        );
    }
    let mut redis_runs = Vec::new();
    for target in redis_targets() {
        if !plan.only_waiting {
            redis_runs.push(run_redis(framework, &target, plan, full).await);
        }
        if plan.only_routes {
            continue;
        }
        // Logins on Redis run about a quarter of the baseline.
        let namespace = format!("bench{}w{}", std::process::id(), u8::from(target.cluster));
        let (urls, namespace) = (&target.urls, &namespace);
        waiting_runs.push(
            run_waiting(
                framework,
                &format!("Redis {}", target.name),
                plan,
                full,
                ((baseline.per_second * run_seconds * 0.35) as usize).max(1000),
                |users, outbox| async move {
                    redis_parts(urls, namespace, users, outbox, None).await
                },
            )
            .await,
        );
    }
    if !redis_runs.is_empty() {
        report_redis(&redis_runs, full);
    }
    let postgres_run = match std::env::var("NOPASSWORD_TEST_DATABASE_URL") {
        Ok(url) if !plan.only_waiting => {
            Some(run_postgres(framework, &url, plan, baseline.per_second).await)
        }
        _ => None,
    };
    if let Some(run) = &postgres_run {
        report_postgres(&baseline, run, full);
    }
    if !waiting_runs.is_empty() {
        report_waiting(&baseline, &waiting_runs, full);
    }
    let failed: Vec<_> = std::iter::once(&baseline)
        .chain(&in_memory)
        .chain(
            redis_runs
                .iter()
                .flat_map(|run| [&run.request_code, &run.login_code]),
        )
        .chain(
            postgres_run
                .iter()
                .flat_map(|run| [&run.request_code, &run.login_code]),
        )
        .chain(waiting_runs.iter().flat_map(|run| {
            [
                &run.polls,
                &run.login_alone,
                &run.login_polled,
                &run.background,
            ]
        }))
        .filter(|m| m.errors > 0)
        .collect();
    for m in &failed {
        eprintln!(
            "{}: {} unexpected answers, the first: {}",
            m.name,
            m.errors,
            m.first_error.as_deref().unwrap_or("?")
        );
    }
    assert!(
        failed.is_empty(),
        "some requests got unexpected answers: the figures above are not valid"
    );
}

/// Issues `needed` codes through `service` (cycling over `users`) before a timed run, and
/// returns one `api/login/code/` body per code, each with the flow its request got.
async fn issue_codes(
    service: &NoPassword<User>,
    outbox: &Outbox,
    users: &[User],
    needed: usize,
) -> Vec<Bytes> {
    let issuing = Instant::now();
    let mut codes = Vec::with_capacity(needed);
    // Typed codes count only within their flow (docs/HTTP.md, Login flows): each body carries the flow
    // its request got. The flow names its code's store key, which the run computes from the
    // link in the message to pair them (delivery runs in the background, in any order).
    let keyed = settings();
    let hasher = CodeHasher::new(
        keyed.hash_algorithm,
        keyed
            .secret_key
            .as_ref()
            .expect("the load settings have a key"),
        &[],
    );
    while codes.len() < needed {
        let batch = ISSUE_BATCH.min(needed - codes.len());
        let mut flows = std::collections::HashMap::<CodeKey, String>::with_capacity(batch);
        for i in codes.len()..codes.len() + batch {
            let request = LoginRequest {
                username: &users[i % users.len()].username,
                host: Some("127.0.0.1"),
                ..LoginRequest::default()
            };
            // Codes are issued in the background, at most 1,024 at a time: when the queue is
            // full, let it drain.
            let started = loop {
                match service.request_login(request).await {
                    Err(nopassword_core::Error::Busy { .. }) => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    other => break other.expect("the service issues a code"),
                }
            };
            flows.insert(started.flow.code_key(), started.flow.expose());
        }
        let deadline = Instant::now() + REQUEST_DEADLINE;
        loop {
            let bodies: Vec<Bytes> = outbox
                .messages()
                .into_iter()
                .filter_map(|m| {
                    let link = m.url.trim_end_matches('/').rsplit('/').next()?.to_owned();
                    let flow = flows.get(&hasher.hash(&link).key)?;
                    Some(json_body(&json!({
                        "username": m.username,
                        "code": m.code.expose(),
                        "flow": flow,
                    })))
                })
                .collect();
            if bodies.len() == batch {
                codes.extend(bodies);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {batch} login messages arrived",
                bodies.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    println!(
        "issued {needed} codes for {} users in {:.1?}",
        users.len(),
        issuing.elapsed()
    );
    codes
}

/// A Redis the run measures the demo against: one node, or a cluster.
struct RedisTarget {
    /// "one node" or "3-master cluster".
    name: &'static str,
    /// What `redis_url` says: one URL, or the cluster's comma-separated node URLs.
    urls: String,
    /// Where `redis-benchmark` connects (one node of the cluster).
    host: String,
    port: u16,
    cluster: bool,
}

/// The Redis servers `cargo xtask bench` started (or a developer exported): none, one node,
/// a cluster, or both.
fn redis_targets() -> Vec<RedisTarget> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let host_port = |url: &str| {
        let rest = url
            .trim()
            .trim_start_matches("redis://")
            .trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':')?;
        Some((host.rsplit('@').next()?.to_owned(), port.parse().ok()?))
    };
    let mut targets = Vec::new();
    if let Some(url) = var("NOPASSWORD_TEST_REDIS_URL") {
        let (host, port) = host_port(&url).expect("NOPASSWORD_TEST_REDIS_URL names host:port");
        targets.push(RedisTarget {
            name: "one node",
            urls: url,
            host,
            port,
            cluster: false,
        });
    }
    if let Some(urls) = var("NOPASSWORD_TEST_REDIS_CLUSTER_URLS") {
        let first = urls.split(',').next().unwrap_or_default();
        let (host, port) =
            host_port(first).expect("NOPASSWORD_TEST_REDIS_CLUSTER_URLS names host:port");
        targets.push(RedisTarget {
            name: "3-master cluster",
            urls,
            host,
            port,
            cluster: true,
        });
    }
    targets
}

/// `redis-benchmark` beside `redis-cli` (`NOPASSWORD_TEST_REDIS_CLI_BIN`), else on `PATH`.
fn redis_benchmark_bin() -> std::path::PathBuf {
    std::env::var("NOPASSWORD_TEST_REDIS_CLI_BIN")
        .ok()
        .and_then(|cli| {
            std::path::Path::new(&cli)
                .parent()
                .map(|dir| dir.join("redis-benchmark"))
        })
        .filter(|path| path.exists())
        .unwrap_or_else(|| "redis-benchmark".into())
}

/// `redis-benchmark -c 32 -n OPS -r OPS --csv [--cluster] <command>`: requests per second.
fn redis_benchmark(target: &RedisTarget, ops: usize, command: &[&str]) -> f64 {
    let bin = redis_benchmark_bin();
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(["-h", &target.host, "-p", &target.port.to_string()])
        .args(["-c", "32", "-n", &ops.to_string(), "-r", &ops.to_string()])
        .arg("--csv");
    if target.cluster {
        cmd.arg("--cluster");
    }
    let output = cmd
        .args(command)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "redis-benchmark failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "test","rps",... then "SET ...","95238.10",...
    stdout
        .lines()
        .filter(|line| !line.starts_with("\"test\""))
        .find_map(|line| line.split("\",\"").nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("no rate in redis-benchmark's output: {stdout}"))
}

/// One Redis target's figures.
struct RedisRun {
    target: &'static str,
    set_ex: f64,
    getdel: f64,
    request_code: Measured,
    login_code: Measured,
}

/// The demo with Redis codes and Redis sessions on `target`, beside `redis-benchmark` on the
/// same server(s) in the same run.
async fn run_redis<F: Framework>(
    framework: &F,
    target: &RedisTarget,
    plan: Plan,
    full: bool,
) -> RedisRun {
    println!("\nRedis: {} ({})", target.name, target.urls);
    let ops = if full { REDIS_BENCHMARK_OPS } else { 2_000 };
    // Keys and values of a code's sizes (`__rand_int__` is 12 digits; a record ~74 bytes). In
    // cluster mode redis-benchmark sends a key to its node only if it holds `{tag}`, which it
    // replaces by a tag of that node's slots.
    let key = if target.cluster {
        "{tag}nopassword:c:bench__rand_int__"
    } else {
        "{nopassword:c:bench_____rand_int__}"
    };
    let value = "v".repeat(74);
    let set_ex = redis_benchmark(target, ops, &["SET", key, &value, "EX", "900"]);
    let getdel = redis_benchmark(target, ops, &["GETDEL", key]);
    println!("redis-benchmark -c 32: SET EX {set_ex:.0}/s, GETDEL {getdel:.0}/s");
    // A namespace of this run's own, so runs and targets do not meet.
    let namespace = format!("bench{}{}", std::process::id(), u8::from(target.cluster));
    // (c): the demo with a null sender.
    let (server, service) = framework
        .serve_demo(
            redis_parts(
                &target.urls,
                &namespace,
                demo_users(),
                Outbox::new(1).quiet(),
                Some(Arc::new(NullSender)),
            )
            .await,
        )
        .await;
    let mount = service.settings().mount_path.clone();
    let addr = server.addr();
    drop(service);
    let usernames = ["alice", "bob", "carol+test@example.com", "dave", "nobody"];
    let request_code = measure(
        addr,
        Workload {
            name: format!("(c) POST {mount}/api/login/, Redis {}", target.name),
            method: Method::POST,
            path: format!("{mount}/api/login/"),
            host: addr.to_string(),
            bodies: usernames
                .iter()
                .map(|username| json_body(&json!({ "username": username })))
                .collect(),
            queries: Vec::new(),
            cycle: true,
            next: AtomicUsize::new(0),
            expect_body: "Login code has been sent.",
            expect_cookie: false,
        },
        plan,
    )
    .await;
    server.stop().await;

    // (d): no login can outrun GETDEL on the same Redis (each costs one and more), so codes
    // for 3/4 of GETDEL's rate over the run last; if they run out anyway, the run says so.
    let run_seconds = (plan.warm_up + plan.measure).as_secs_f64();
    let codes_needed = ((getdel * run_seconds * 0.75) as usize)
        .max(1000)
        .min(plan.max_codes);
    let users = code_users();
    let outbox = Outbox::new(ISSUE_BATCH).quiet();
    let (server, service) = framework
        .serve_demo(
            redis_parts(
                &target.urls,
                &namespace,
                users.clone(),
                outbox.clone(),
                None,
            )
            .await,
        )
        .await;
    let addr = server.addr();
    let codes = issue_codes(&service, &outbox, &users, codes_needed).await;
    drop((service, outbox));
    let login_code = measure(
        addr,
        Workload {
            name: format!("(d) POST {mount}/api/login/code/, Redis {}", target.name),
            method: Method::POST,
            path: format!("{mount}/api/login/code/"),
            host: addr.to_string(),
            bodies: codes,
            queries: Vec::new(),
            cycle: false,
            next: AtomicUsize::new(0),
            expect_body: "\"next\"",
            expect_cookie: true,
        },
        plan,
    )
    .await;
    server.stop().await;
    RedisRun {
        target: target.name,
        set_ex,
        getdel,
        request_code,
        login_code,
    }
}

/// The demo's parts with codes (`RedisStore`) and sessions in the Redis at `urls` (one URL, or
/// a cluster's), under `namespace`.
async fn redis_parts(
    urls: &str,
    namespace: &str,
    users: Vec<User>,
    outbox: Outbox,
    sender: Option<Arc<dyn LoginCodeSender>>,
) -> DemoParts {
    let mut parts = DemoParts::with_sender(
        Settings {
            namespace: namespace.to_owned(),
            ..settings()
        },
        users,
        outbox,
        sender,
    );
    parts.settings.redis.redis_url = Some(SecretString::new(urls.to_owned()));
    parts.store = crate::code_store(&parts.settings)
        .await
        .expect("connect the code store to Redis");
    parts
}

/// [`CODE_USERS`] users with an e-mail address each, for the runs that issue codes.
fn code_users() -> Vec<User> {
    (0..CODE_USERS)
        .map(|i| {
            User::new(format!("{}", 100 + i), format!("user{i:04}"))
                .with_email(format!("user{i:04}@example.com"))
        })
        .collect()
}

/// One store's waiting-browser figures: (g) and (h).
struct WaitingRun {
    store: String,
    waiting: usize,
    /// (g): `api/login/flow/` back to back over the pending flows.
    polls: Measured,
    /// (h): logins with no one polling.
    login_alone: Measured,
    /// (h): logins while every waiting browser polls every [`POLL_INTERVAL`].
    login_polled: Measured,
    /// The background polls during `login_polled`.
    background: Measured,
    /// The polls/s the background pollers were paced to.
    poll_rate: f64,
}

/// (g) and (h) on one demo (a store: `make` builds its parts from the users and the outbox):
/// [`WAITING`] pending flows (one code each, never used) and fresh codes for two login windows
/// are issued first, and every message is delivered, before anything is timed. Then
///
/// - (g) `GET api/login/flow/?flow=...` back to back over the flows, on the run's
///   connections: what polling costs, against the baseline;
/// - (h) `POST api/login/code/` alone, then again while [`POLL_CONNECTIONS`] connections poll
///   the flows at the waiting page's pace (each flow every [`POLL_INTERVAL`]: 10,000 flows make
///   about 6,700 polls/s, requests spread evenly in time), all on the same server with the
///   same flows in its store: whether polls slow logins.
async fn run_waiting<F, M, Fut>(
    framework: &F,
    store: &str,
    plan: Plan,
    full: bool,
    codes_per_window: usize,
    make: M,
) -> WaitingRun
where
    F: Framework,
    M: Fn(Vec<User>, Outbox) -> Fut,
    Fut: Future<Output = DemoParts>,
{
    let waiting = if full { WAITING } else { 200 };
    println!("\nWaiting browsers, {store}: {waiting} pending flows");
    let users = code_users();
    let outbox = Outbox::new(ISSUE_BATCH).quiet();
    let (server, service) = framework
        .serve_demo(make(users.clone(), outbox.clone()).await)
        .await;
    let mount = service.settings().mount_path.clone();
    let addr = server.addr();
    let mut alone_codes = issue_codes(&service, &outbox, &users, 2 * codes_per_window).await;
    let polled_codes = alone_codes.split_off(codes_per_window);
    let flows = issue_flows(&service, &outbox, &users, waiting).await;
    drop((service, outbox));
    let queries: Vec<String> = flows.iter().map(|flow| format!("flow={flow}")).collect();
    let polls = |name: String| Workload {
        name,
        method: Method::GET,
        path: format!("{mount}/api/login/flow/"),
        host: addr.to_string(),
        bodies: Vec::new(),
        queries: queries.clone(),
        cycle: true,
        next: AtomicUsize::new(0),
        expect_body: "\"pending\"",
        expect_cookie: false,
    };
    let logins = |name: String, codes: Vec<Bytes>| Workload {
        name,
        method: Method::POST,
        path: format!("{mount}/api/login/code/"),
        host: addr.to_string(),
        bodies: codes,
        queries: Vec::new(),
        cycle: false,
        next: AtomicUsize::new(0),
        expect_body: "\"next\"",
        expect_cookie: true,
    };

    let poll_throughput = measure(
        addr,
        polls(format!(
            "(g) GET {mount}/api/login/flow/ ({waiting} pending flows), {store}"
        )),
        plan,
    )
    .await;
    let login_alone = measure(
        addr,
        logins(
            format!("(h) POST {mount}/api/login/code/, {store}"),
            alone_codes,
        ),
        plan,
    )
    .await;
    let poll_rate = waiting as f64 / POLL_INTERVAL.as_secs_f64();
    let poll_connections = if full { POLL_CONNECTIONS } else { 4 };
    let measure_from = Instant::now() + plan.warm_up;
    let background = tokio::spawn(gather(
        addr,
        polls(format!(
            "(h) background: {waiting} browsers polling every {POLL_INTERVAL:?}, {store}"
        )),
        poll_connections,
        Some(poll_rate),
        measure_from,
        measure_from + plan.measure,
    ));
    let login_polled = measure(
        addr,
        logins(
            format!("(h) POST {mount}/api/login/code/ while {waiting} browsers poll, {store}"),
            polled_codes,
        ),
        plan,
    )
    .await;
    let background = background.await.expect("the pollers");
    server.stop().await;
    WaitingRun {
        store: store.to_owned(),
        waiting,
        polls: poll_throughput,
        login_alone,
        login_polled,
        background,
        poll_rate,
    }
}

/// Starts `count` login flows through `service` (one code each, cycling over `users`) and
/// returns their tokens once every code's message has reached `outbox` (so no delivery runs
/// in a timed window).
async fn issue_flows(
    service: &NoPassword<User>,
    outbox: &Outbox,
    users: &[User],
    count: usize,
) -> Vec<String> {
    assert!(
        count <= ISSUE_BATCH,
        "the outbox holds every flow's message"
    );
    let issuing = Instant::now();
    let keyed = settings();
    let hasher = CodeHasher::new(
        keyed.hash_algorithm,
        keyed
            .secret_key
            .as_ref()
            .expect("the load settings have a key"),
        &[],
    );
    let mut keys = std::collections::HashSet::with_capacity(count);
    let mut flows = Vec::with_capacity(count);
    for i in 0..count {
        let request = LoginRequest {
            username: &users[i % users.len()].username,
            host: Some("127.0.0.1"),
            ..LoginRequest::default()
        };
        let started = loop {
            match service.request_login(request).await {
                Err(nopassword_core::Error::Busy { .. }) => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                other => break other.expect("the service issues a code"),
            }
        };
        keys.insert(started.flow.code_key());
        flows.push(started.flow.expose());
    }
    let deadline = Instant::now() + REQUEST_DEADLINE;
    loop {
        let delivered = outbox
            .messages()
            .iter()
            .filter_map(|m| m.url.trim_end_matches('/').rsplit('/').next())
            .filter(|link| keys.contains(&hasher.hash(link).key))
            .count();
        if delivered == count {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} of {count} flows' messages arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("started {count} pending flows in {:.1?}", issuing.elapsed());
    flows
}

/// The waiting-browser table: (g) against the baseline, (h) with pollers against without.
fn report_waiting(baseline: &Measured, runs: &[WaitingRun], full: bool) {
    println!();
    println!(
        "| store | (g) polls/s | of the baseline ({:.0}/s) | (g) p99 | (h) logins/s alone | (h) logins/s while polled | with / without | login p99 alone → polled | background polls/s (paced to) | poll p99 |",
        baseline.per_second
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|");
    for run in runs {
        println!(
            "| {} ({} flows) | {:.0} | {:.0}% | {:.2?} | {:.0} | {:.0} | {:.0}% | {:.2?} → {:.2?} | {:.0} ({:.0}) | {:.2?} |",
            run.store,
            run.waiting,
            run.polls.per_second,
            run.polls.per_second / baseline.per_second.max(1e-9) * 100.0,
            run.polls.p99,
            run.login_alone.per_second,
            run.login_polled.per_second,
            run.login_polled.per_second / run.login_alone.per_second.max(1e-9) * 100.0,
            run.login_alone.p99,
            run.login_polled.p99,
            run.background.per_second,
            run.poll_rate,
            run.background.p99,
        );
        for m in [&run.login_alone, &run.login_polled] {
            if let Some(after) = m.exhausted_after {
                println!(
                    "  note: {}: its fresh codes ran out {after:.1?} into the measured window",
                    m.name
                );
            }
        }
    }
    if !full {
        println!("(smoke run: figures are not meaningful; `cargo bench` runs the real thing)");
    }
}

/// The PostgreSQL run's figures.
struct PostgresRun {
    request_code: Measured,
    login_code: Measured,
}

/// The demo on `database_url` (codes, users and sessions in PostgreSQL at `url`).
async fn run_postgres<F: Framework>(
    framework: &F,
    url: &str,
    plan: Plan,
    baseline_per_second: f64,
) -> PostgresRun {
    println!("\nPostgreSQL: codes, users and sessions");
    // Tables of this run's own, so runs do not meet.
    let namespace = format!("bench{}pg", std::process::id());
    let connected = |users: Vec<User>, outbox: Outbox, sender: Option<Arc<dyn LoginCodeSender>>| {
        let namespace = namespace.clone();
        async move {
            let mut parts = DemoParts::with_sender(
                Settings {
                    namespace,
                    ..settings()
                },
                users,
                outbox,
                sender,
            );
            parts.settings.database.database_url = Some(SecretString::new(url.to_owned()));
            let postgres = crate::connect_postgres(&parts.settings, &parts.users)
                .await
                .expect("connect the demo to PostgreSQL")
                .expect("database_url is set");
            parts.store = Some(Arc::new(postgres.store.clone()));
            parts.postgres = Some(postgres);
            parts
        }
    };

    // (e): the demo with a null sender.
    let (server, service) = framework
        .serve_demo(
            connected(
                demo_users(),
                Outbox::new(1).quiet(),
                Some(Arc::new(NullSender)),
            )
            .await,
        )
        .await;
    let mount = service.settings().mount_path.clone();
    let addr = server.addr();
    drop(service);
    let usernames = ["alice", "bob", "carol+test@example.com", "dave", "nobody"];
    let request_code = measure(
        addr,
        Workload {
            name: format!("(e) POST {mount}/api/login/, PostgreSQL"),
            method: Method::POST,
            path: format!("{mount}/api/login/"),
            host: addr.to_string(),
            bodies: usernames
                .iter()
                .map(|username| json_body(&json!({ "username": username })))
                .collect(),
            queries: Vec::new(),
            cycle: true,
            next: AtomicUsize::new(0),
            expect_body: "Login code has been sent.",
            expect_cookie: false,
        },
        plan,
    )
    .await;
    server.stop().await;

    // (f): codes for the baseline's rate over the run, which no login on PostgreSQL outruns;
    // if they run out anyway, the run says so.
    let run_seconds = (plan.warm_up + plan.measure).as_secs_f64();
    let codes_needed = ((baseline_per_second * run_seconds * 0.5) as usize).max(1000);
    let users = code_users();
    let outbox = Outbox::new(ISSUE_BATCH).quiet();
    let (server, service) = framework
        .serve_demo(connected(users.clone(), outbox.clone(), None).await)
        .await;
    let addr = server.addr();
    let codes = issue_codes(&service, &outbox, &users, codes_needed).await;
    drop((service, outbox));
    let login_code = measure(
        addr,
        Workload {
            name: format!("(f) POST {mount}/api/login/code/, PostgreSQL"),
            method: Method::POST,
            path: format!("{mount}/api/login/code/"),
            host: addr.to_string(),
            bodies: codes,
            queries: Vec::new(),
            cycle: false,
            next: AtomicUsize::new(0),
            expect_body: "\"next\"",
            expect_cookie: true,
        },
        plan,
    )
    .await;
    server.stop().await;
    PostgresRun {
        request_code,
        login_code,
    }
}

/// The PostgreSQL run's table: each route against the framework's baseline in the same run.
fn report_postgres(baseline: &Measured, run: &PostgresRun, full: bool) {
    println!();
    println!(
        "| PostgreSQL | requests/s | of the baseline ({:.0}/s) | p50 | p99 |",
        baseline.per_second
    );
    println!("|---|---:|---:|---:|---:|");
    for m in [&run.request_code, &run.login_code] {
        println!(
            "| {} | {:.0} | {:.0}% | {:.2?} | {:.2?} |",
            m.name.split(',').next().unwrap_or(&m.name),
            m.per_second,
            m.per_second / baseline.per_second.max(1e-9) * 100.0,
            m.p50,
            m.p99,
        );
        if let Some(after) = m.exhausted_after {
            println!(
                "  note: {}: its fresh codes ran out {after:.1?} into the measured window",
                m.name
            );
        }
    }
    if !full {
        println!("(smoke run: figures are not meaningful; `cargo bench` runs the real thing)");
    }
}

/// The Redis runs' table: each route against Redis's own figure in the same run.
fn report_redis(runs: &[RedisRun], full: bool) {
    println!();
    println!(
        "| Redis | route | requests/s | redis-benchmark -c 32 | of Redis's figure | p50 | p99 | targets (50%, p99 ≤ 10 ms) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for run in runs {
        for (m, redis_name, redis_rate) in [
            (&run.request_code, "SET EX", run.set_ex),
            (&run.login_code, "GETDEL", run.getdel),
        ] {
            let ratio = m.per_second / redis_rate.max(1e-9);
            let met = |ok: bool| if ok { "met" } else { "MISSED" };
            println!(
                "| {} | {} | {:.0} | {redis_name} {redis_rate:.0} | {:.0}% | {:.2?} | {:.2?} | {}, {} |",
                run.target,
                m.name.split(',').next().unwrap_or(&m.name),
                m.per_second,
                ratio * 100.0,
                m.p50,
                m.p99,
                met(ratio >= TARGET),
                met(m.p99 <= P99_TARGET),
            );
            if let Some(after) = m.exhausted_after {
                println!(
                    "  note: {}: its fresh codes ran out {after:.1?} into the measured window",
                    m.name
                );
            }
        }
    }
    if !full {
        println!("(smoke run: figures are not meaningful; `cargo bench` runs the real thing)");
    }
}

/// Settings for a load run from one client address: rate limits out of the way, codes valid
/// for longer than the run.
fn settings() -> Settings {
    Settings {
        secret_key: Some(SecretString::new(
            "load-benchmark-secret-key-0123456789abcdef",
        )),
        max_requests_per_ip_per_minute: u32::MAX,
        max_sends_per_user_per_hour: u32::MAX,
        login_code_timeout: 3600,
        ..Settings::default()
    }
}

fn json_body(value: &serde_json::Value) -> Bytes {
    Bytes::from(value.to_string())
}

/// Runs `workload` over `plan.connections` connections and measures the part after warm-up.
async fn measure(addr: SocketAddr, workload: Workload, plan: Plan) -> Measured {
    let measure_from = Instant::now() + plan.warm_up;
    gather(
        addr,
        workload,
        plan.connections,
        None,
        measure_from,
        measure_from + plan.measure,
    )
    .await
}

/// Marks the start of a measured window, for a profiler and nothing else: under callgrind,
/// `--zero-before='*measured_window_opens' --dump-before='*measured_window_closes'` writes one
/// profile per measured window (`cargo xtask profile` does this), so a whole run of the
/// bench yields the instructions each scenario spent in its window, warm-up and set-up left
/// out.
#[inline(never)]
pub fn measured_window_opens(name: &str) {
    // Each mark touches its own counter: two identical bodies would be folded into one
    // function at one address, and callgrind could not tell them apart.
    WINDOWS_OPENED.fetch_add(1, Ordering::Relaxed);
    std::hint::black_box(name);
}

/// Marks the end of a measured window; see [`measured_window_opens`].
#[inline(never)]
pub fn measured_window_closes(name: &str) {
    WINDOWS_CLOSED.fetch_add(1, Ordering::Relaxed);
    std::hint::black_box(name);
}

static WINDOWS_OPENED: AtomicUsize = AtomicUsize::new(0);
static WINDOWS_CLOSED: AtomicUsize = AtomicUsize::new(0);

/// Runs `workload` over `connections` connections from now until `until` (back to back, or
/// paced to `rate` requests/s in all, spread evenly over the connections) and measures the
/// part from `measure_from`.
async fn gather(
    addr: SocketAddr,
    workload: Workload,
    connections: usize,
    rate: Option<f64>,
    measure_from: Instant,
    until: Instant,
) -> Measured {
    let workload = Arc::new(workload);
    let start = Instant::now();
    let marks = tokio::spawn({
        let name = workload.name.clone();
        async move {
            tokio::time::sleep_until(measure_from.into()).await;
            measured_window_opens(&name);
            tokio::time::sleep_until(until.into()).await;
            measured_window_closes(&name);
        }
    });
    let connections: Vec<_> = (0..connections)
        .map(|k| {
            let pace = rate.map(|rate| {
                let interval = Duration::from_secs_f64(connections as f64 / rate.max(1e-9));
                (
                    start + interval.mul_f64(k as f64 / connections as f64),
                    interval,
                )
            });
            tokio::spawn(connection(
                addr,
                Arc::clone(&workload),
                pace,
                measure_from,
                until,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let mut exhausted = false;
    let mut last_done = measure_from;
    for connection in connections {
        let stats = connection.await.expect("a client connection panicked");
        latencies.extend(stats.latencies);
        errors += stats.errors;
        first_error = first_error.or(stats.first_error);
        exhausted |= stats.exhausted;
        last_done = last_done.max(stats.last_done.unwrap_or(measure_from));
    }
    // The closing mark fires at `until` even when the connections stopped early (their codes
    // ran out), so every window gets its profile.
    marks.await.expect("the window marks");
    let window = if exhausted {
        last_done.saturating_duration_since(measure_from)
    } else {
        until.saturating_duration_since(measure_from)
    };
    latencies.sort_unstable();
    let measured = Measured {
        name: workload.name.clone(),
        requests: latencies.len(),
        per_second: latencies.len() as f64 / window.as_secs_f64().max(1e-9),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        errors,
        first_error,
        exhausted_after: exhausted.then_some(window),
    };
    println!(
        "{}: {:.0} requests/s, p99 {:.2?} ({} requests measured)",
        measured.name, measured.per_second, measured.p99, measured.requests
    );
    measured
}

/// One keep-alive HTTP/1.1 connection sending requests until `until`: back to back, or paced
/// (`pace`: the first request at its instant, then one every interval; a late answer is
/// followed at once by the requests it held up).
async fn connection(
    addr: SocketAddr,
    workload: Arc<Workload>,
    pace: Option<(Instant, Duration)>,
    measure_from: Instant,
    until: Instant,
) -> ConnectionStats {
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    let deadline = |what: &str| {
        format!(
            "{}: {what} took over {REQUEST_DEADLINE:?}: the server is stuck",
            workload.name
        )
    };
    let driver = tokio::spawn(driver);
    let mut stats = ConnectionStats::default();
    for n in 0u32.. {
        if let Some((first, interval)) = pace {
            let due = first + interval * n;
            if due >= until {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let sent = Instant::now();
        if sent >= until {
            break;
        }
        let Some(request) = workload.request() else {
            stats.exhausted = true;
            break;
        };
        sender.ready().await.expect("the connection stays open");
        let response = tokio::time::timeout(REQUEST_DEADLINE, sender.send_request(request))
            .await
            .unwrap_or_else(|_| panic!("{}", deadline("a request")))
            .unwrap_or_else(|e| panic!("{}: request failed: {e}", workload.name));
        let status = response.status();
        let sets_cookie = response.headers().contains_key(header::SET_COOKIE);
        let body = tokio::time::timeout(REQUEST_DEADLINE, response.into_body().collect())
            .await
            .unwrap_or_else(|_| panic!("{}", deadline("reading an answer")))
            .unwrap_or_else(|e| panic!("{}: reading the answer failed: {e}", workload.name))
            .to_bytes();
        let done = Instant::now();
        let expected = status == StatusCode::OK
            && (sets_cookie || !workload.expect_cookie)
            && contains(&body, workload.expect_body.as_bytes());
        if !expected {
            stats.errors += 1;
            stats.first_error.get_or_insert_with(|| {
                format!(
                    "{status}{} {}",
                    if sets_cookie { " (sets a cookie)" } else { "" },
                    String::from_utf8_lossy(&body)
                )
            });
        }
        if sent >= measure_from && done <= until {
            stats.latencies.push(done - sent);
            stats.last_done = Some(done);
        }
    }
    drop(sender);
    let _ = driver.await;
    stats
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The `q` quantile of sorted latencies (nearest rank).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(baseline: &Measured, routes: &[&Measured], full: bool) {
    println!();
    println!("| scenario | requests | requests/s | of baseline | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for m in std::iter::once(baseline).chain(routes.iter().copied()) {
        let ratio = m.per_second / baseline.per_second.max(1e-9);
        println!(
            "| {} | {} | {:.0} | {:.0}% | {:.2?} | {:.2?} |",
            m.name,
            m.requests,
            m.per_second,
            ratio * 100.0,
            m.p50,
            m.p99
        );
    }
    println!();
    for (m, python) in routes.iter().zip([PYTHON_REQUEST_CODE, PYTHON_LOGIN_CODE]) {
        let ratio = m.per_second / baseline.per_second.max(1e-9);
        println!(
            "{}: {:.0}% of baseline ({}target {:.0}%); {:.0}x the Python original's ~{python:.0} requests/s",
            m.name,
            ratio * 100.0,
            if ratio >= TARGET {
                "meets the "
            } else {
                "BELOW the "
            },
            TARGET * 100.0,
            m.per_second / python
        );
        if let Some(after) = m.exhausted_after {
            println!(
                "  note: its fresh codes ran out {after:.1?} into the measured window; \
                 the figures cover that window"
            );
        }
    }
    if !full {
        println!("(smoke run: figures are not meaningful; `cargo bench` runs the real thing)");
    }
}
