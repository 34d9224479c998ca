//! A master of a Redis Cluster dies (SIGKILL) while logins run: every answer meanwhile is a
//! login or a store outage (which the adapters answer with 503), never another error and never
//! a second login with one code.
//!
//! - With replicas (xtask's `redis-failover` service), logins succeed again within
//!   `cluster-node-timeout` + 2 s of the kill, once the replica has taken over.
//! - Without replicas (a 3-master cluster the test starts itself), the first outage comes
//!   within a second of the kill, every login meets one until the master is restarted, and
//!   logins succeed again within 2.3 s (+ margin) of the restart.

mod common;

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    net::{IpAddr, Ipv4Addr},
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use nopassword_core::{
    Error, NoPassword, Outbox, Settings,
    service::{CodeAttempt, LoginRequest},
    user::{MemoryDirectory, User},
};
use nopassword_store::RedisStore;

/// Codes issued before the kill, one per login attempt.
const CODES: usize = 2_500;
/// Concurrent login loops.
const WORKERS: usize = 4;
/// Where every login comes from.
const CLIENT: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

/// One issued code: the typed code and the flow it belongs to.
struct Issued {
    code: String,
    flow: String,
}

#[derive(Debug)]
enum Outcome {
    LoggedIn,
    Refused,
    Unavailable(String),
    Other(String),
}

fn outcome(result: Result<Option<nopassword_core::service::Login<User>>, Error>) -> Outcome {
    match result {
        Ok(Some(_)) => Outcome::LoggedIn,
        Ok(None) => Outcome::Refused,
        Err(error @ Error::Store(_)) if error.is_unavailable() => {
            Outcome::Unavailable(error.to_string())
        }
        Err(error) => Outcome::Other(error.to_string()),
    }
}

/// One login attempt: when it was asked for, when its answer came, which code, what answer.
struct Answer {
    asked: Instant,
    answered: Instant,
    code: usize,
    outcome: Outcome,
}

/// `INFO`/`CLUSTER` text of one node.
async fn text(url: &str, args: &[&str]) -> String {
    let mut conn = common::raw(url).await;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(&mut conn).await.expect("ask a node")
}

/// `host:port` of the master that serves `key`.
async fn master_of(urls: &[&str], key: &str) -> String {
    let slot: u16 = {
        let mut conn = common::raw(urls[0]).await;
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("CLUSTER KEYSLOT")
    };
    let nodes = text(urls[0], &["CLUSTER", "NODES"]).await;
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
            continue;
        }
        let serves = fields[8..].iter().any(|range| {
            let (low, high) = range.split_once('-').unwrap_or((range, range));
            matches!((low.parse::<u16>(), high.parse::<u16>()), (Ok(l), Ok(h)) if (l..=h).contains(&slot))
        });
        if serves {
            return fields[1].split('@').next().expect("host:port").to_owned();
        }
    }
    panic!("no master serves slot {slot}:\n{nodes}");
}

/// The service on the cluster at `urls` (alice only, no rate limits), with [`CODES`] codes
/// issued, and the address of the master that serves alice's failure counter: every login
/// counts against that counter, so when that master dies every login meets it.
async fn service_with_codes(
    urls: &str,
    prefix: &str,
) -> (NoPassword<User>, Arc<Vec<Issued>>, String) {
    let namespace = common::unique_namespace(prefix);
    let settings = Settings {
        namespace: namespace.clone(),
        secret_key: Some("failover-test-secret-key-0123456789abcdef".into()),
        max_sends_per_user_per_hour: u32::MAX,
        max_requests_per_ip_per_minute: u32::MAX,
        ..Settings::default()
    };
    let store = RedisStore::connect(urls, &namespace)
        .await
        .expect("connect to the cluster");
    assert!(store.is_cluster());
    let outbox = Outbox::new(4).quiet();
    let service = NoPassword::builder(
        settings,
        MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]),
    )
    .store(store)
    .sender(outbox.clone())
    .deliver_inline()
    .build()
    .expect("service");

    let mut issued = Vec::with_capacity(CODES);
    for _ in 0..CODES {
        let started = service
            .request_login(LoginRequest {
                username: "alice",
                client: CLIENT,
                ..LoginRequest::default()
            })
            .await
            .expect("issue a code");
        let message = outbox.latest_for("alice").expect("a message");
        issued.push(Issued {
            code: message.code.expose().to_owned(),
            flow: started.flow.expose(),
        });
    }
    let node_urls: Vec<&str> = urls.split(',').collect();
    let victim = master_of(&node_urls, &format!("{namespace}:f:1")).await;
    (service, Arc::new(issued), victim)
}

async fn log_in(service: &NoPassword<User>, code: &Issued) -> Outcome {
    outcome(
        service
            .authenticate(CodeAttempt {
                username: Some("alice"),
                code: &code.code,
                client: CLIENT,
                flow: Some(&code.flow),
            })
            .await,
    )
}

/// Logs in on [`WORKERS`] loops until `stop_at`, each issued code once, in order.
fn start_logins(
    service: &NoPassword<User>,
    issued: &Arc<Vec<Issued>>,
    stop_at: Instant,
) -> impl Future<Output = Vec<Answer>> + use<> {
    let queue = Arc::new(Mutex::new((0..issued.len()).collect::<VecDeque<usize>>()));
    let log = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (service, issued, queue, log) = (
                service.clone(),
                Arc::clone(issued),
                Arc::clone(&queue),
                Arc::clone(&log),
            );
            tokio::spawn(async move {
                while Instant::now() < stop_at {
                    let Some(code) = queue.lock().expect("lock").pop_front() else {
                        panic!("the issued codes ran out before the end of the run");
                    };
                    // Each answer is logged with the moment it was asked for: "logins succeed
                    // again within the budget" means every login asked for after it succeeds.
                    let asked = Instant::now();
                    let outcome = log_in(&service, &issued[code]).await;
                    // An outage answers at once: pause longer so the codes last the run.
                    let pause = if matches!(outcome, Outcome::LoggedIn) {
                        20
                    } else {
                        50
                    };
                    log.lock().expect("lock").push(Answer {
                        asked,
                        answered: Instant::now(),
                        code,
                        outcome,
                    });
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            })
        })
        .collect();
    async move {
        for worker in workers {
            worker.await.expect("a login loop panicked");
        }
        let mut log = std::mem::take(&mut *log.lock().expect("lock"));
        log.sort_by_key(|answer| answer.asked);
        log
    }
}

/// Panics on any answer other than a login or an outage; returns how often each code logged
/// in, and the outages.
fn logins_and_outages(log: &[Answer], killed_at: Instant) -> (HashMap<usize, usize>, Vec<&Answer>) {
    let mut logins: HashMap<usize, usize> = HashMap::new();
    let mut outages = Vec::new();
    for answer in log {
        let asked = answer.asked.saturating_duration_since(killed_at);
        match &answer.outcome {
            Outcome::LoggedIn => *logins.entry(answer.code).or_default() += 1,
            Outcome::Unavailable(_) => outages.push(answer),
            Outcome::Refused => panic!(
                "code {} was refused, asked for {asked:?} after the kill",
                answer.code
            ),
            Outcome::Other(error) => {
                panic!("an error other than an outage, asked for {asked:?} after the kill: {error}")
            }
        }
    }
    (logins, outages)
}

/// How many outages said what, numbers left out ("Moved: 2845 127.0.0.1:35365" counts as
/// "Moved: # #.#.#.#:#").
fn outage_kinds(outages: &[&Answer]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for answer in outages {
        if let Outcome::Unavailable(error) = &answer.outcome {
            let mut kind = String::new();
            for c in error.chars() {
                if !c.is_ascii_digit() {
                    kind.push(c);
                } else if !kind.ends_with('#') {
                    kind.push('#');
                }
            }
            *kinds.entry(kind).or_default() += 1;
        }
    }
    kinds
}

/// No code logs in twice: not during the run, and not when every attempted code is tried
/// again after it.
async fn assert_no_code_logs_in_twice(
    service: &NoPassword<User>,
    issued: &[Issued],
    log: &[Answer],
    mut logins: HashMap<usize, usize>,
) {
    let attempted = log
        .iter()
        .map(|answer| answer.code + 1)
        .max()
        .expect("some attempts");
    for (i, code) in issued.iter().enumerate().take(attempted) {
        match log_in(service, code).await {
            Outcome::LoggedIn => *logins.entry(i).or_default() += 1,
            Outcome::Refused => {}
            other => panic!("the cluster must answer after the run, got {other:?}"),
        }
    }
    let twice: Vec<_> = logins.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} codes logged in more than once, among them (code, logins): {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_survive_the_failover_of_a_master() {
    let urls = common::required_env("NOPASSWORD_TEST_REDIS_FAILOVER_URLS");
    let node_timeout = Duration::from_millis(
        common::required_env("NOPASSWORD_TEST_REDIS_FAILOVER_NODE_TIMEOUT_MS")
            .parse()
            .expect("a number of milliseconds"),
    );
    let (service, issued, victim) = service_with_codes(&urls, "failover").await;
    let pid: u32 = text(&format!("redis://{victim}/"), &["INFO", "server"])
        .await
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .expect("process_id in INFO server");

    let killed_at = Instant::now() + Duration::from_secs(1);
    let logins = start_logins(
        &service,
        &issued,
        killed_at + node_timeout + Duration::from_secs(5),
    );
    tokio::time::sleep_until(killed_at.into()).await;
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -KILL {pid}");
    let killed_at = Instant::now();
    let log = logins.await;

    let since = |at: Instant| at.saturating_duration_since(killed_at);
    let (logins, outages) = logins_and_outages(&log, killed_at);
    let last_outage = outages.iter().map(|answer| since(answer.asked)).max();
    println!(
        "{} attempts: {} logins, {} outages (503) from {:?} to {:?} after the kill: {:#?}",
        log.len(),
        logins.len(),
        outages.len(),
        outages.iter().map(|answer| since(answer.asked)).min(),
        last_outage,
        outage_kinds(&outages)
    );
    let budget = node_timeout + Duration::from_secs(2);
    let recovered_at = log
        .iter()
        .filter(|answer| {
            answer.asked > killed_at
                && matches!(answer.outcome, Outcome::LoggedIn)
                && last_outage.is_none_or(|last| since(answer.asked) > last)
        })
        .map(|answer| since(answer.asked))
        .min()
        .expect("logins succeed again after the failover");
    println!("logins succeed again from {recovered_at:?} after the kill (budget {budget:?})");
    assert!(
        last_outage.is_none_or(|last| last <= budget),
        "logins asked for up to {last_outage:?} after the kill met an outage; the budget is {budget:?}"
    );
    assert_no_code_logs_in_twice(&service, &issued, &log, logins).await;
}

/// `cluster-node-timeout` of the cluster without replicas: as short as xtask's
/// `redis-failover`, so the other masters mark the dead one failed within the down time.
const NO_REPLICA_NODE_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How long the master without replica stays dead.
const DOWN_FOR: Duration = Duration::from_secs(2);
/// The first outage is answered within this of the kill. Issue 14 measured "503s within
/// 0.5 s"; the margin is one command timeout (500 ms), which bounds a call that was already
/// waiting on the dying master when it died.
const FIRST_OUTAGE_BUDGET: Duration = Duration::from_millis(1_000);
/// Every login asked for this long after the restart succeeds. Issue 14 measured "logins came
/// back 2.3 s after it restarted": a restarted master refuses queries for 2 s
/// (`CLUSTER_WRITABLE_DELAY` in Redis's `cluster.c`) so the cluster can update its
/// configuration first, then the client reconnects. The margin, 1 s, is for a loaded 2-core
/// machine.
const RECOVERY_BUDGET: Duration = Duration::from_millis(2_300 + 1_000);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_replica_master_killed_answers_503_until_it_is_restarted() {
    // Persistence on, unlike the shared servers: a master restarted without it would come back
    // empty, and the codes it held would be refused (a correct answer, but not the one this
    // test is about). `always` writes each command to the log before its reply goes out, so
    // what a client was told happened survives the SIGKILL.
    let mut cluster = common::OwnCluster::start(
        3,
        NO_REPLICA_NODE_TIMEOUT,
        &["--appendonly", "yes", "--appendfsync", "always"],
    )
    .await;
    let (service, issued, victim) = service_with_codes(&cluster.urls(), "noreplica").await;
    let port: u16 = victim
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .expect("host:port");

    let killed_at = Instant::now() + Duration::from_secs(1);
    let restart_at = killed_at + DOWN_FOR;
    let logins = start_logins(
        &service,
        &issued,
        restart_at + RECOVERY_BUDGET + Duration::from_secs(2),
    );
    tokio::time::sleep_until(killed_at.into()).await;
    let node = cluster.node_mut(port);
    node.kill();
    let killed_at = Instant::now();
    tokio::time::sleep_until(restart_at.into()).await;
    let restarted_at = Instant::now();
    // Same port, same directory: the node reads its nodes-<port>.conf and its log, and rejoins
    // with its slots and its keys.
    tokio::task::block_in_place(|| node.restart());
    let log = logins.await;

    let since = |at: Instant| at.saturating_duration_since(killed_at);
    let (logins, outages) = logins_and_outages(&log, killed_at);
    let first_outage = outages
        .iter()
        .map(|answer| since(answer.answered))
        .min()
        .expect("the kill causes outages");
    let last_outage = outages
        .iter()
        .map(|answer| since(answer.asked))
        .max()
        .expect("the kill causes outages");
    let first_login_after_restart = log
        .iter()
        .filter(|answer| answer.asked > restarted_at && matches!(answer.outcome, Outcome::LoggedIn))
        .map(|answer| answer.asked - restarted_at)
        .min()
        .expect("logins succeed again after the restart");
    println!(
        "{} attempts: {} logins, {} outages (503); first outage answered {first_outage:?} after \
         the kill, last asked for {:?} after the restart ({last_outage:?} after the kill); first \
         login asked for {first_login_after_restart:?} after the restart; outages: {:#?}",
        log.len(),
        logins.len(),
        outages.len(),
        (killed_at + last_outage).saturating_duration_since(restarted_at),
        outage_kinds(&outages)
    );

    assert!(
        first_outage <= FIRST_OUTAGE_BUDGET,
        "the first outage was answered {first_outage:?} after the kill; the budget is \
         {FIRST_OUTAGE_BUDGET:?}"
    );
    // While the master is down every login meets it: each answer is an outage, and the loops
    // keep asking (never a second without an answer).
    let down: Vec<&Answer> = log
        .iter()
        .filter(|answer| answer.asked > killed_at && answer.answered < restarted_at)
        .collect();
    if let Some(login) = down
        .iter()
        .find(|answer| matches!(answer.outcome, Outcome::LoggedIn))
    {
        panic!(
            "a login asked for {:?} after the kill succeeded while its master was down",
            since(login.asked)
        );
    }
    let mut asked: Vec<Instant> = down.iter().map(|answer| answer.asked).collect();
    asked.insert(0, killed_at);
    asked.push(restarted_at);
    let longest_gap = asked
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .expect("two instants");
    assert!(
        longest_gap < Duration::from_secs(1),
        "no login was answered for {longest_gap:?} while the master was down"
    );
    let recovered = restarted_at + RECOVERY_BUDGET;
    let late: Vec<_> = outages
        .iter()
        .filter(|answer| answer.asked > recovered)
        .map(|answer| answer.asked - restarted_at)
        .collect();
    assert!(
        late.is_empty(),
        "logins asked for {late:?} after the restart met an outage; the budget is \
         {RECOVERY_BUDGET:?}"
    );
    assert!(
        log.iter().any(|answer| answer.asked > recovered),
        "no login was asked for after the budget"
    );
    assert_no_code_logs_in_twice(&service, &issued, &log, logins).await;
}
