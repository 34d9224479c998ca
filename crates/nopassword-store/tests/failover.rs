//! A master of a Redis Cluster with replicas dies (SIGKILL) while logins run: every answer
//! meanwhile is a login or a store outage (which the adapters answer with 503), never another
//! error and never a second login with one code, and logins succeed again within
//! `cluster-node-timeout` + 2 s of the kill, once its replica has taken over.

mod common;

use std::{
    collections::{HashMap, VecDeque},
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

/// `INFO`/`CLUSTER` text of one node.
async fn text(url: &str, args: &[&str]) -> String {
    let mut conn = common::raw(url).await;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(&mut conn).await.expect("ask a node")
}

/// The URL of the master that serves `key`.
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
            let addr = fields[1].split('@').next().expect("host:port");
            return format!("redis://{addr}/");
        }
    }
    panic!("no master serves slot {slot}:\n{nodes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_survive_the_failover_of_a_master() {
    let urls = common::required_env("NOPASSWORD_TEST_REDIS_FAILOVER_URLS");
    let node_timeout = Duration::from_millis(
        common::required_env("NOPASSWORD_TEST_REDIS_FAILOVER_NODE_TIMEOUT_MS")
            .parse()
            .expect("a number of milliseconds"),
    );
    let namespace = common::unique_namespace("failover");
    let settings = Settings {
        namespace: namespace.clone(),
        secret_key: Some("failover-test-secret-key-0123456789abcdef".into()),
        max_sends_per_user_per_hour: u32::MAX,
        max_requests_per_ip_per_minute: u32::MAX,
        ..Settings::default()
    };
    let store = RedisStore::connect(&urls, &namespace)
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
    let client = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    let mut issued = Vec::with_capacity(CODES);
    for _ in 0..CODES {
        let started = service
            .request_login(LoginRequest {
                username: "alice",
                client,
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
    let issued = Arc::new(issued);

    // Every login counts against alice's failure counter: the master of its slot is the one
    // that dies, so every login meets the failover.
    let node_urls: Vec<&str> = urls.split(',').collect();
    let victim = master_of(&node_urls, &format!("{namespace}:f:1")).await;
    let pid: u32 = text(&victim, &["INFO", "server"])
        .await
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .expect("process_id in INFO server");

    let queue = Arc::new(Mutex::new((0..CODES).collect::<VecDeque<usize>>()));
    let log = Arc::new(Mutex::new(Vec::<(Instant, usize, Outcome)>::new()));
    let started = Instant::now();
    let killed_at = started + Duration::from_secs(1);
    let stop_at = killed_at + node_timeout + Duration::from_secs(5);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (service, issued, queue, log) = (
                service.clone(),
                Arc::clone(&issued),
                Arc::clone(&queue),
                Arc::clone(&log),
            );
            tokio::spawn(async move {
                while Instant::now() < stop_at {
                    let Some(i) = queue.lock().expect("lock").pop_front() else {
                        panic!("the issued codes ran out before the end of the run");
                    };
                    let code = &issued[i];
                    // Each answer is logged at the moment it was asked for: "logins succeed
                    // again within the budget" means every login asked for after it succeeds.
                    let asked = Instant::now();
                    let result = service
                        .authenticate(CodeAttempt {
                            username: Some("alice"),
                            code: &code.code,
                            client,
                            flow: Some(&code.flow),
                        })
                        .await;
                    let outcome = outcome(result);
                    // An outage answers at once: pause longer so the codes last the run.
                    let pause = if matches!(outcome, Outcome::LoggedIn) {
                        20
                    } else {
                        50
                    };
                    log.lock().expect("lock").push((asked, i, outcome));
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep_until(killed_at.into()).await;
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -KILL {pid}");
    let killed_at = Instant::now();
    for worker in workers {
        worker.await.expect("a login loop panicked");
    }

    let log = std::mem::take(&mut *log.lock().expect("lock"));
    let since = |at: Instant| at.saturating_duration_since(killed_at);
    let mut logins: HashMap<usize, usize> = HashMap::new();
    let mut unavailable = Vec::new();
    for (at, i, outcome) in &log {
        match outcome {
            Outcome::LoggedIn => *logins.entry(*i).or_default() += 1,
            Outcome::Unavailable(error) => unavailable.push((since(*at), error.clone())),
            Outcome::Refused => panic!("code {i} was refused at {:?}", since(*at)),
            Outcome::Other(error) => {
                panic!("an error other than an outage at {:?}: {error}", since(*at))
            }
        }
    }
    let last_outage = unavailable.iter().map(|(at, _)| *at).max();
    println!(
        "{} attempts: {} logins, {} outages (503) from {:?} to {:?} after the kill; first: {:?}",
        log.len(),
        logins.len(),
        unavailable.len(),
        unavailable.iter().map(|(at, _)| *at).min(),
        last_outage,
        unavailable.first().map(|(_, error)| error)
    );
    let budget = node_timeout + Duration::from_secs(2);
    let recovered_at = log
        .iter()
        .filter(|(at, _, outcome)| {
            *at > killed_at
                && matches!(outcome, Outcome::LoggedIn)
                && last_outage.is_none_or(|last| since(*at) > last)
        })
        .map(|(at, _, _)| since(*at))
        .min()
        .expect("logins succeed again after the failover");
    println!("logins succeed again from {recovered_at:?} after the kill (budget {budget:?})");
    assert!(
        last_outage.is_none_or(|last| last <= budget),
        "logins asked for up to {last_outage:?} after the kill met an outage; the budget is {budget:?}"
    );

    // No code logs in twice: not during the failover, and not when tried again after it.
    for (i, code) in issued.iter().enumerate().take(
        log.iter()
            .map(|(_, i, _)| i + 1)
            .max()
            .expect("some attempts"),
    ) {
        let again = service
            .authenticate(CodeAttempt {
                username: Some("alice"),
                code: &code.code,
                client,
                flow: Some(&code.flow),
            })
            .await
            .expect("the cluster answers after the failover");
        if again.is_some() {
            *logins.entry(i).or_default() += 1;
        }
    }
    let twice: Vec<_> = logins.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "codes that logged in twice: {twice:?}");
}
