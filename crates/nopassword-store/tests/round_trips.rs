//! The round-trip budget of each service operation on Redis: how many times the store waits
//! for Redis, and how many commands it sends. A proxy between the store and the test's own
//! `redis-server` reads every command (RESP) and holds each request back 50 ms, so commands
//! sent together (a pipeline, or concurrent calls on the multiplexed connection) reach it
//! before any answer, and a command sent after an answer starts a new round trip.
//!
//! Budgets (before issue 14: a typed-code login took 6 round trips and 7 commands, a link login
//! 4 and 5, a code request 4 and 4):
//!
//! | operation | round trips | commands |
//! |---|---:|---:|
//! | request a code (delivery during the request) | 2 | 4 |
//! | log in with a typed code | 3 | 4 |
//! | open a link (`GET`) | 1 | 2 |
//! | log in with a link (`POST`) | 2 | 5 |
//! | a wrong typed code | 3 | 4 |
//! | poll a waiting flow (`GET api/login/flow/`) | 1 | 1 |
//! | approve a flow from another device (the right number) | 2 | 3 |
//! | `CodeStore::approve` alone | 1 | 1 |
//! | complete an approved flow | 2 | 4 |

mod common;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use common::OwnRedis;
use nopassword_core::{
    CodeStore, NoPassword, Outbox, Settings,
    flow::FlowToken,
    hashing::CodeKey,
    service::{Approval, CodeAttempt, FlowStatus, LinkAction, LinkLogin, LoginRequest},
    store::CodeRecord,
    user::{MemoryDirectory, User},
};
use nopassword_store::RedisStore;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    time::Instant,
};

/// How long the proxy holds each request back.
const DELAY: Duration = Duration::from_millis(50);

/// What the proxy saw: the commands of each round trip, in order.
#[derive(Default)]
struct Recorder {
    trips: Mutex<Vec<Vec<String>>>,
    /// An answer went back since the last request arrived: the next request opens a new trip.
    answered: AtomicBool,
}

impl Recorder {
    fn take(&self) -> Vec<Vec<String>> {
        std::mem::take(&mut *self.trips.lock().expect("lock"))
    }
}

/// Reads complete RESP commands (arrays of bulk strings) off the front of `buf`, returning
/// their names; a partial command stays in `buf`.
fn parse_commands(buf: &mut Vec<u8>) -> Vec<String> {
    fn line(buf: &[u8], at: usize) -> Option<(usize, usize)> {
        let end = buf[at..].windows(2).position(|w| w == b"\r\n")? + at;
        let n = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
        Some((n, end + 2))
    }
    let mut names = Vec::new();
    loop {
        let parsed = (|| {
            if buf.first() != Some(&b'*') {
                return None;
            }
            let (count, mut at) = line(buf, 0)?;
            let mut name = None;
            for _ in 0..count {
                let (len, start) = line(buf, at)?;
                if buf.len() < start + len + 2 {
                    return None;
                }
                name.get_or_insert_with(|| {
                    String::from_utf8_lossy(&buf[start..start + len]).to_uppercase()
                });
                at = start + len + 2;
            }
            Some((name.unwrap_or_default(), at))
        })();
        let Some((name, used)) = parsed else {
            return names;
        };
        buf.drain(..used);
        names.push(name);
    }
}

/// Starts the proxy in front of `redis`; returns its address.
async fn proxy(redis: SocketAddr, recorder: Arc<Recorder>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let server = TcpStream::connect(redis).await.expect("reach redis");
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let (queue, mut queued) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
            let seen = Arc::clone(&recorder);
            // Requests: recorded as they arrive, forwarded DELAY later, in order.
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut chunk = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = client_read.read(&mut chunk).await {
                    pending.extend_from_slice(&chunk[..n]);
                    let names = parse_commands(&mut pending);
                    if !names.is_empty() {
                        let mut trips = seen.trips.lock().expect("lock");
                        if seen.answered.swap(false, Ordering::SeqCst) || trips.is_empty() {
                            trips.push(Vec::new());
                        }
                        trips.last_mut().expect("a trip").extend(names);
                    }
                    if queue.send((Instant::now(), chunk[..n].to_vec())).is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((arrived, bytes)) = queued.recv().await {
                    tokio::time::sleep_until(arrived + DELAY).await;
                    if server_write.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
            let answered = Arc::clone(&recorder);
            tokio::spawn(async move {
                let mut chunk = vec![0u8; 64 * 1024];
                while let Ok(n @ 1..) = server_read.read(&mut chunk).await {
                    answered.answered.store(true, Ordering::SeqCst);
                    if client_write.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn client() -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Asserts the budget and prints what was sent.
fn check(what: &str, trips: &[Vec<String>], max_trips: usize, max_commands: usize) {
    let commands: usize = trips.iter().map(Vec::len).sum();
    println!(
        "{what}: {} round trips, {commands} commands: {trips:?}",
        trips.len()
    );
    assert!(
        trips.len() <= max_trips && commands <= max_commands,
        "{what}: {} round trips and {commands} commands ({trips:?}); the budget is {max_trips} and \
         {max_commands}",
        trips.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_keeps_its_round_trip_budget() {
    let redis = OwnRedis::start();
    let recorder = Arc::new(Recorder::default());
    let addr = proxy(
        SocketAddr::from(([127, 0, 0, 1], redis.port())),
        Arc::clone(&recorder),
    )
    .await;
    let store = RedisStore::builder(format!("redis://{addr}/"))
        .command_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect through the proxy");
    let raw_store = store.clone();
    let outbox = Outbox::new(10).quiet();
    let service = NoPassword::builder(
        Settings {
            secret_key: Some("round-trip-budget-secret-key-0123456789".into()),
            ..Settings::default()
        },
        MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]),
    )
    .store(store)
    .sender(outbox.clone())
    .deliver_inline()
    .build()
    .expect("service");

    let request = || async {
        let started = service
            .request_login(LoginRequest {
                username: "alice",
                client: client(),
                ..LoginRequest::default()
            })
            .await
            .expect("request");
        let message = outbox.latest_for("alice").expect("a message");
        let link = message
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .expect("a link secret")
            .to_owned();
        (
            started.flow.expose(),
            message.code.expose().to_owned(),
            link,
        )
    };
    // Once through every path first, so the scripts are loaded (a first call also loads its
    // script: one more round trip, once per server).
    let (flow, code, _) = request().await;
    let typed = CodeAttempt {
        username: Some("alice"),
        code: &code,
        client: client(),
        flow: Some(&flow),
    };
    assert!(service.authenticate(typed).await.expect("login").is_some());
    let (flow, _, link) = request().await;
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &link,
        client: client(),
        flow: Some(&flow),
    };
    assert!(matches!(
        service.login_with_link(attempt).await.expect("login"),
        LinkLogin::LoggedIn(_)
    ));
    let (flow, code, _) = request().await;
    let mut wrong = code.clone().into_bytes();
    wrong[0] = if wrong[0] == b'a' { b'b' } else { b'a' };
    let wrong = String::from_utf8(wrong).expect("ascii");
    let guess = CodeAttempt {
        username: Some("alice"),
        code: &wrong,
        client: client(),
        flow: Some(&flow),
    };
    assert!(service.authenticate(guess).await.expect("guess").is_none());
    let approve = |flow: String, link: String| {
        let service = &service;
        async move {
            let number = service.matching_number(&FlowToken::parse(&flow).expect("a flow token"));
            let other_device = CodeAttempt {
                username: None,
                code: &link,
                client: client(),
                flow: None,
            };
            service
                .approve_flow(other_device, &number.to_string())
                .await
                .expect("approve")
        }
    };
    let (flow, _, link) = request().await;
    assert_eq!(approve(flow.clone(), link).await, Approval::Approved);
    assert!(
        service
            .complete_flow(Some(&flow))
            .await
            .expect("complete")
            .is_some()
    );
    recorder.take();

    // Measured.
    let (flow, code, _) = request().await;
    check("request a code", &recorder.take(), 2, 4);
    let guess = CodeAttempt {
        username: Some("alice"),
        code: &wrong,
        client: client(),
        flow: Some(&flow),
    };
    assert!(service.authenticate(guess).await.expect("guess").is_none());
    check("a wrong typed code", &recorder.take(), 3, 4);
    let typed = CodeAttempt {
        username: Some("alice"),
        code: &code,
        client: client(),
        flow: Some(&flow),
    };
    assert!(service.authenticate(typed).await.expect("login").is_some());
    check("log in with a typed code", &recorder.take(), 3, 4);

    // The typed login used the code: a fresh one for the link.
    let (flow, _, link) = request().await;
    recorder.take();
    let attempt = CodeAttempt {
        username: Some("alice"),
        code: &link,
        client: client(),
        flow: Some(&flow),
    };
    assert_eq!(
        service.open_link(attempt).await.expect("open"),
        LinkAction::Submit
    );
    check("open a link", &recorder.take(), 1, 2);
    assert!(matches!(
        service.login_with_link(attempt).await.expect("login"),
        LinkLogin::LoggedIn(_)
    ));
    check("log in with a link", &recorder.take(), 2, 5);

    // Cross-device approval: the poll, the approval, the completion.
    let (flow, _, link) = request().await;
    recorder.take();
    assert_eq!(
        service.flow_status(Some(&flow)).await.expect("poll"),
        FlowStatus::Pending
    );
    check("poll a waiting flow", &recorder.take(), 1, 1);
    assert_eq!(approve(flow.clone(), link).await, Approval::Approved);
    check("approve a flow from another device", &recorder.take(), 2, 3);
    assert_eq!(
        service.flow_status(Some(&flow)).await.expect("poll"),
        FlowStatus::Approved
    );
    check("poll an approved flow", &recorder.take(), 1, 1);
    assert!(
        service
            .complete_flow(Some(&flow))
            .await
            .expect("complete")
            .is_some()
    );
    check("complete an approved flow", &recorder.take(), 2, 4);

    // The store's own step: one script, one round trip.
    let key = CodeKey::from_bytes([0x5a; 16]);
    let record = CodeRecord {
        user_id: "1".into(),
        verifier: vec![1; 16],
        code_check: vec![2; 16],
        flow: vec![3; 16],
        next: None,
        created_at: 0,
        expires_at: 900,
        device: None,
        approved: false,
    };
    raw_store
        .put(&key, &record, Duration::from_secs(60))
        .await
        .expect("put");
    recorder.take();
    let approved = CodeRecord {
        approved: true,
        ..record.clone()
    };
    assert_eq!(
        raw_store
            .approve(&key, &approved, Duration::from_secs(60))
            .await
            .expect("approve"),
        Some(record)
    );
    check("CodeStore::approve", &recorder.take(), 1, 1);
    drop(redis);
}

#[test]
fn the_proxy_reads_pipelined_and_split_commands() {
    let mut buf =
        b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nset\r\n$1\r\n*\r\n$2\r\n\r\n\r\n*2\r\n$3\r\nGE".to_vec();
    assert_eq!(parse_commands(&mut buf), ["PING", "SET"]);
    assert_eq!(buf, b"*2\r\n$3\r\nGE");
    buf.extend_from_slice(b"T\r\n$1\r\nk\r\n");
    assert_eq!(parse_commands(&mut buf), ["GET"]);
    assert!(buf.is_empty());
}
