//! `RedisStore` throughput beside `redis-benchmark`, and Redis memory per outstanding code.
//!
//! `cargo bench -p nopassword-store --bench throughput` (or `cargo xtask bench`). Uses the
//! server at `NOPASSWORD_TEST_REDIS_URL` when set, else starts its own `redis-server`
//! (`NOPASSWORD_TEST_REDIS_SERVER_BIN`, else the one on `PATH`) on a free port and stops it
//! after. `redis-benchmark` is looked up beside `NOPASSWORD_TEST_REDIS_CLI_BIN`, then on `PATH`.
//!
//! With 32 concurrent clients on both sides:
//! - `RedisStore::put` against `SET key value EX 900`, `RedisStore::take` against `GETDEL key`
//!   (one round trip each: the physical limit); target: at least 50% of redis-benchmark;
//! - `INFO memory` `used_memory` before and after storing 100,000 codes; target: at most
//!   240 bytes per code (200 before v0.2; the flow binding of docs/HTTP.md, Login flows adds a 16-byte
//!   code check and a 16-byte flow hash to every record).

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use nopassword_core::{
    CodeRng, CodeStore,
    hashing::{CodeKey, SystemRng},
    store::CodeRecord,
};
use nopassword_store::RedisStore;

const CLIENTS: usize = 32;
const OPS: usize = 100_000;
const CODES: usize = 100_000;
const TTL: Duration = Duration::from_secs(900);
const THROUGHPUT_TARGET: f64 = 0.5;
const MEMORY_TARGET: f64 = 240.0;

/// A record shaped like a real one: numeric user id, 16-byte verifier, code check and flow
/// hash, a short `next`.
fn record() -> CodeRecord {
    CodeRecord {
        user_id: "1048576".into(),
        verifier: vec![0xa5; 16],
        code_check: vec![0x5a; 16],
        flow: vec![0xc3; 16],
        next: Some("/inbox".into()),
        created_at: 1_767_225_600,
        expires_at: 1_767_226_500,
        device: None,
        approved: false,
    }
}

/// The stored value's length: the record as core encodes it.
fn value_len() -> usize {
    record().encode().len()
}

fn keys(n: usize) -> Arc<Vec<CodeKey>> {
    Arc::new(
        (0..n)
            .map(|_| {
                let mut bytes = [0u8; 16];
                SystemRng.fill_bytes(&mut bytes);
                CodeKey::from_bytes(bytes)
            })
            .collect(),
    )
}

/// Runs `op` on every key from `CLIENTS` tasks; returns operations per second.
async fn concurrently<F, Fut>(keys: &Arc<Vec<CodeKey>>, op: F) -> f64
where
    F: Fn(CodeKey) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let (keys, op) = (Arc::clone(keys), Arc::clone(&op));
            tokio::spawn(async move {
                for key in keys.iter().skip(task).step_by(CLIENTS) {
                    op(*key).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("bench task");
    }
    keys.len() as f64 / started.elapsed().as_secs_f64()
}

async fn put_all(store: &RedisStore, keys: &Arc<Vec<CodeKey>>) -> f64 {
    let store = store.clone();
    let record = Arc::new(record());
    concurrently(keys, move |key| {
        let (store, record) = (store.clone(), Arc::clone(&record));
        async move { store.put(&key, &record, TTL).await.expect("put") }
    })
    .await
}

async fn take_all(store: &RedisStore, keys: &Arc<Vec<CodeKey>>) -> f64 {
    let store = store.clone();
    concurrently(keys, move |key| {
        let store = store.clone();
        async move {
            assert!(
                store.take(&key).await.expect("take").is_some(),
                "take finds the code"
            );
        }
    })
    .await
}

/// A redis-server of our own, when no test server was given.
struct OwnServer {
    child: Child,
    dir: PathBuf,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_server() -> (String, u16, OwnServer) {
    let bin = std::env::var("NOPASSWORD_TEST_REDIS_SERVER_BIN")
        .unwrap_or_else(|_| "redis-server".to_owned());
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = std::env::temp_dir().join(format!("nopassword-bench-{port}"));
    std::fs::create_dir_all(&dir).expect("server dir");
    let child = Command::new(&bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin} (set NOPASSWORD_TEST_REDIS_SERVER_BIN): {e}"));
    let server = OwnServer { child, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("started redis-server on port {port}");
    (format!("redis://127.0.0.1:{port}/"), port, server)
}

fn redis_benchmark_bin() -> PathBuf {
    std::env::var("NOPASSWORD_TEST_REDIS_CLI_BIN")
        .ok()
        .and_then(|cli| Path::new(&cli).parent().map(|d| d.join("redis-benchmark")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("redis-benchmark"))
}

/// `redis-benchmark -c 32 -n OPS -r OPS --csv <command>`: requests per second.
fn redis_benchmark(host: &str, port: u16, command: &[&str]) -> f64 {
    let bin = redis_benchmark_bin();
    let output = Command::new(&bin)
        .args(["-h", host, "-p", &port.to_string()])
        .args(["-c", &CLIENTS.to_string(), "-n", &OPS.to_string()])
        .args(["-r", &OPS.to_string(), "--csv"])
        .args(command)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "redis-benchmark failed: {stdout}");
    // "test","rps",... then "SET ...","95238.10",...
    stdout
        .lines()
        .filter(|line| !line.starts_with("\"test\""))
        .find_map(|line| line.split("\",\"").nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("no rate in redis-benchmark's output: {stdout}"))
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO memory");
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

async fn unlink_matching(conn: &mut redis::aio::MultiplexedConnection, pattern: &str) {
    let mut cursor = 0u64;
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
        if !batch.is_empty() {
            redis::cmd("UNLINK")
                .arg(&batch)
                .query_async::<()>(conn)
                .await
                .expect("UNLINK");
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "target met" } else { "TARGET MISSED" }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (url, port, _own) = match std::env::var("NOPASSWORD_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let port = url
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("a port in NOPASSWORD_TEST_REDIS_URL");
            println!("using NOPASSWORD_TEST_REDIS_URL (port {port})");
            (url, port, None)
        }
        _ => {
            let (url, port, server) = start_server();
            (url, port, Some(server))
        }
    };
    runtime.block_on(run(&url, port));
}

async fn run(url: &str, port: u16) {
    let mut raw = redis::Client::open(url)
        .expect("URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");

    // Memory first, on a server as empty as we found it.
    // The default namespace: key sizes as in a real installation.
    let namespace = "nopassword";
    let store = RedisStore::connect(url, namespace).await.expect("connect");
    let codes = keys(CODES);
    let before = used_memory(&mut raw).await;
    put_all(&store, &codes).await;
    // Let incremental rehashing finish so both hash tables are not counted.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = used_memory(&mut raw).await;
    let per_code = (after - before) as f64 / CODES as f64;
    // `{ns:c:` + 22 base64url characters + `}`.
    let key_len = namespace.len() + 27;
    take_all(&store, &codes).await;

    // Throughput: warm up, then measure put and take of fresh keys.
    let warm = keys(10_000);
    put_all(&store, &warm).await;
    take_all(&store, &warm).await;
    let ops = keys(OPS);
    let put_rate = put_all(&store, &ops).await;
    let take_rate = take_all(&store, &ops).await;

    // redis-benchmark's keys and values have the store's sizes (`__rand_int__` is 12 digits).
    let value = "v".repeat(value_len());
    let key = format!("{{{namespace}:c:bench_____rand_int__}}");
    let set_rate = redis_benchmark("127.0.0.1", port, &["SET", &key, &value, "EX", "900"]);
    let getdel_rate = redis_benchmark("127.0.0.1", port, &["GETDEL", &key]);
    unlink_matching(&mut raw, &format!("{{{namespace}:c:bench*")).await;

    let put_ratio = put_rate / set_rate;
    let take_ratio = take_rate / getdel_rate;
    println!();
    println!("{CLIENTS} concurrent clients, {OPS} operations each, one redis-server:");
    println!(
        "  RedisStore::put  {put_rate:>9.0} ops/s   redis-benchmark SET k v EX 900 {set_rate:>9.0} ops/s   ratio {put_ratio:.2}  ({})",
        verdict(put_ratio >= THROUGHPUT_TARGET)
    );
    println!(
        "  RedisStore::take {take_rate:>9.0} ops/s   redis-benchmark GETDEL k       {getdel_rate:>9.0} ops/s   ratio {take_ratio:.2}  ({})",
        verdict(take_ratio >= THROUGHPUT_TARGET)
    );
    println!(
        "  memory per outstanding code: {per_code:.0} bytes (used_memory delta over {CODES} codes; \
         key {key_len} B, value {} B)  ({})",
        value_len(),
        verdict(per_code <= MEMORY_TARGET)
    );
}
