//! `PgStore` put + take beside `pgbench` running the same two statements as a custom script,
//! on the same server, in one run: the ratio is what `docs/BENCHMARKS.md` reports (target
//! ≥ 50%). `cargo xtask bench` starts the throwaway PostgreSQL and passes
//! `NOPASSWORD_TEST_DATABASE_URL` and `NOPASSWORD_TEST_POSTGRES_BIN_DIR`.

#![allow(missing_docs)]

use std::{
    env, fs,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use nopassword_core::{
    CodeRng, CodeStore,
    hashing::{CodeKey, SystemRng},
    store::CodeRecord,
};
use nopassword_sqlx::PgStore;

/// Concurrent clients, for the store and for pgbench alike (`-c`).
const CLIENTS: usize = 16;
/// Measured seconds per run.
const SECONDS: u64 = 5;
/// Runs of each, alternating.
const ROUNDS: usize = 2;

fn record() -> CodeRecord {
    CodeRecord {
        user_id: "42".into(),
        verifier: vec![7; 16],
        code_check: vec![8; 16],
        flow: vec![9; 16],
        next: Some("/inbox".into()),
        created_at: 1_767_225_600,
        expires_at: 1_767_226_500,
        device: None,
        approved: false,
    }
}

/// Pairs (put, then take of the same key) per second through `PgStore`.
async fn store_rate(store: &PgStore) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let pairs = Arc::new(AtomicU64::new(0));
    let record = record();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (store, stop, pairs, record) = (
                store.clone(),
                Arc::clone(&stop),
                Arc::clone(&pairs),
                record.clone(),
            );
            tokio::spawn(async move {
                let mut bytes = [0u8; 16];
                while !stop.load(Ordering::Relaxed) {
                    SystemRng.fill_bytes(&mut bytes);
                    let key = CodeKey::from_bytes(bytes);
                    store
                        .put(&key, &record, Duration::from_secs(900))
                        .await
                        .expect("put");
                    assert!(store.take(&key).await.expect("take").is_some());
                    pairs.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_pairs, started) = (pairs.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let done = pairs.load(Ordering::Relaxed) - start_pairs;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("client");
    }
    done as f64 / elapsed
}

/// Transactions (the same put and take) per second through pgbench, prepared statements.
fn pgbench_rate(bin: &str, url: &str, script: &std::path::Path) -> f64 {
    let output = Command::new(format!("{bin}/pgbench"))
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &CLIENTS.to_string(),
            "-j",
            "2",
        ])
        .args(["-T", &SECONDS.to_string(), "-f"])
        .arg(script)
        .arg(url)
        .output()
        .expect("run pgbench");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench's output: {text}"))
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names something else skips this file.
    if env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"throughput pgbench".contains(arg.as_str()))
    {
        return;
    }
    let url = env::var("NOPASSWORD_TEST_DATABASE_URL").expect(
        "NOPASSWORD_TEST_DATABASE_URL is not set: run the benchmarks with `cargo xtask bench`",
    );
    let bin = env::var("NOPASSWORD_TEST_POSTGRES_BIN_DIR").expect(
        "NOPASSWORD_TEST_POSTGRES_BIN_DIR is not set: run the benchmarks with `cargo xtask bench`",
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let store = runtime.block_on(async {
        PgStore::builder()
            .prefix(format!("bench{}_", std::process::id()))
            .max_connections(u32::try_from(CLIENTS).unwrap_or(16))
            .sweep_interval(None)
            .connect(&url)
            .await
            .expect("connect")
    });
    // The same statements the store runs (docs/guide/postgres.md), with a random key and the
    // same 70-byte record.
    let codes = store.tables().0;
    let record: String = record()
        .encode()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = "decode(lpad(to_hex(:k::bigint), 32, '0'), 'hex')";
    let script = format!(
        "\\set k random(1, 1000000000000)\n\
         INSERT INTO {codes} (key, record, failures, expires_at) VALUES ({key}, '\\x{record}'::bytea, 0, 9000000000000) \
         ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, failures = 0, expires_at = EXCLUDED.expires_at;\n\
         DELETE FROM {codes} WHERE key = {key} AND expires_at > 1767225600000 RETURNING record;\n"
    );
    let path = env::temp_dir().join(format!("nopassword-pgbench-{}.sql", std::process::id()));
    fs::write(&path, script).expect("write the pgbench script");
    let (mut ours, mut theirs) = (0.0, 0.0);
    for round in 1..=ROUNDS {
        let store_pairs = runtime.block_on(store_rate(&store));
        let pgbench_tps = pgbench_rate(&bin, &url, &path);
        println!(
            "round {round}: PgStore put+take {store_pairs:.0}/s, pgbench {pgbench_tps:.0}/s, ratio {:.2}",
            store_pairs / pgbench_tps
        );
        ours += store_pairs;
        theirs += pgbench_tps;
    }
    let _ = fs::remove_file(&path);
    println!(
        "PgStore put+take vs pgbench (same SQL, {CLIENTS} clients, {SECONDS} s x {ROUNDS}): \
         {:.0}/s vs {:.0}/s, ratio {:.2} (target >= 0.50)",
        ours / ROUNDS as f64,
        theirs / ROUNDS as f64,
        ours / theirs
    );
}
