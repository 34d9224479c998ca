//! `PgStore`'s combined operations beyond the shared suite: each is one statement (counted on
//! the store's own `call` spans), and the atomicity one statement gives that the trait's
//! defaults (a sequence of single statements) do not.

mod common;

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use nopassword_core::{CodeStore, hashing::CodeKey, store::CodeUse};
use tokio::sync::Barrier;
use tracing::{
    Event, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};

const LONG: Duration = Duration::from_secs(900);
const RACERS: usize = 64;

use common::{key, record};

/// The `op` of every `nopassword_sqlx` span the store opens: one per `call`, and each `call`
/// sends one statement (there is no retry on a healthy server).
#[derive(Clone, Default)]
struct Calls {
    ops: Arc<Mutex<Vec<String>>>,
    ids: Arc<AtomicU64>,
}

impl Calls {
    /// Starts counting on this thread (the tests run on a current-thread runtime).
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.clone())
    }

    /// The calls made since the last `take`.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.ops.lock().expect("lock"))
    }
}

struct Op(Option<String>);

impl Visit for Op {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "op" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "op" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for Calls {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        if span.metadata().name() == "nopassword_sqlx" {
            let mut op = Op(None);
            span.record(&mut op);
            self.ops
                .lock()
                .expect("lock")
                .push(op.0.unwrap_or_default());
        }
        Id::from_u64(self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Each combined operation is one call (one statement, one round trip); the defaults took two
/// or three.
#[tokio::test]
async fn each_combined_operation_is_one_statement() {
    let store = common::store("one").await;
    let calls = Calls::default();
    let _counting = calls.install();
    let user = common::unique("user");
    let minute = Duration::from_secs(60);

    store
        .hits(&[("ip", minute), ("send", minute)])
        .await
        .expect("hits");
    assert_eq!(calls.take(), ["hits"], "hits: was hit, hit");

    let (code, over) = (key(), key());
    store
        .put_counted(&code, &record(&user), LONG, ("send", minute), 2)
        .await
        .expect("put_counted");
    store
        .put_counted(&over, &record(&user), LONG, ("send", minute), 2)
        .await
        .expect("put_counted");
    assert_eq!(
        calls.take(),
        ["put_counted", "put_counted"],
        "put_counted, within and over the limit: was hit, put"
    );

    store
        .count_user_try(&user, LONG, 5, false)
        .await
        .expect("count");
    store
        .count_user_try(&user, LONG, 5, true)
        .await
        .expect("count");
    assert_eq!(
        calls.take(),
        ["incr_user_failures", "count_user_try"],
        "count_user_try, wrong and right: the right one was incr_user_failures, clear_user_failures"
    );

    assert_eq!(
        store.use_code(&code, 5, false).await.expect("use"),
        CodeUse::Refused { tries: 1 }
    );
    assert!(matches!(
        store.use_code(&code, 5, true).await.expect("use"),
        CodeUse::Taken(_)
    ));
    assert_eq!(
        calls.take(),
        ["use_code", "use_code"],
        "use_code, refused and taken: the take was incr_code_failures, take"
    );

    let link = key();
    store.put(&link, &record(&user), LONG).await.expect("put");
    calls.take();
    assert!(
        store
            .take_and_reset(&link, &user)
            .await
            .expect("take")
            .is_some()
    );
    assert_eq!(
        calls.take(),
        ["take_and_reset"],
        "take_and_reset: was take, clear_user_failures"
    );
}

/// The store statements of a code request, a typed-code login and a link login through the
/// service (users in memory, so only the store is counted).
#[tokio::test]
async fn login_paths_cost_these_statements() {
    use nopassword_core::{
        NoPassword, Outbox, Settings,
        service::{CodeAttempt, LinkLogin, LoginRequest},
        user::{MemoryDirectory, User},
    };

    let store = common::store("path").await;
    let settings = Settings {
        secret_key: Some("a test key of at least thirty-two bytes".into()),
        numeric_codes: true,
        code_length: 6,
        ..Settings::default()
    };
    let outbox = Outbox::new(10).quiet();
    let users = MemoryDirectory::new([User::new("1", "alice").with_email("alice@example.com")]);
    let service = NoPassword::builder(settings, users)
        .store(store)
        .sender(outbox.clone())
        .deliver_inline()
        .build()
        .expect("service");
    let client = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let calls = Calls::default();
    let _counting = calls.install();

    let started = service
        .request_login(LoginRequest {
            username: "alice",
            client,
            ..LoginRequest::default()
        })
        .await
        .expect("requested");
    assert_eq!(
        calls.take(),
        ["hits", "put_counted"],
        "a code request: was hit, hit, hit, put"
    );

    let mail = outbox.latest_for("alice").expect("sent");
    let flow = started.flow.expose();
    let login = service
        .authenticate(CodeAttempt {
            username: Some("alice"),
            code: mail.code.expose(),
            client,
            flow: Some(&flow),
        })
        .await
        .expect("judged");
    assert!(login.is_some(), "the right code logs in");
    assert_eq!(
        calls.take(),
        ["hit_and_get", "count_user_try", "use_code"],
        "a typed-code login: was hit, get, incr_user_failures, clear_user_failures, \
         incr_code_failures, take"
    );

    service
        .request_login(LoginRequest {
            username: "alice",
            ..LoginRequest::default()
        })
        .await
        .expect("requested");
    calls.take();
    let mail = outbox.latest_for("alice").expect("sent");
    let secret = mail
        .url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("a segment")
        .to_owned();
    let login = service
        .login_with_link(CodeAttempt {
            username: Some("alice"),
            code: &secret,
            ..CodeAttempt::default()
        })
        .await
        .expect("link");
    assert!(matches!(login, LinkLogin::LoggedIn(_)), "the link logs in");
    assert_eq!(
        calls.take(),
        ["get", "take_and_reset"],
        "a link login: was get, take, clear_user_failures"
    );
}

/// [`RACERS`] concurrent wrong tries at one code with 5 attempts: the tries are counted one
/// after the other (refused at 1 to 4, each once), exactly one withdraws the code at 5, and
/// every other finds it gone. The default (count, then take) let every try past the limit
/// withdraw, each with its own count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_tries_end_a_code_exactly_once() {
    let store = Arc::new(common::store("wrong").await);
    let rec = record("u");
    for round in 0..20 {
        let key = key();
        store.put(&key, &rec, LONG).await.expect("put");
        let outcomes = race(&store, key, |_| false).await;
        let refused: Vec<u32> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                CodeUse::Refused { tries } => Some(*tries),
                _ => None,
            })
            .collect();
        let mut sorted = refused.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3, 4], "round {round}: refused {refused:?}");
        let withdrawn: Vec<&CodeUse> = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, CodeUse::Withdrawn { .. }))
            .collect();
        assert_eq!(
            withdrawn,
            [&CodeUse::Withdrawn { tries: 5 }],
            "round {round}: exactly one try withdraws the code"
        );
        let gone = outcomes.iter().filter(|o| **o == CodeUse::Gone).count();
        assert_eq!(gone, RACERS - 5, "round {round}: the rest find it gone");
    }
}

/// Right and wrong tries race at one code with 5 attempts: exactly one ends it (taken or
/// withdrawn), the refused ones before it count 1, 2, ... each once, and the rest find it gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_mixed_tries_end_a_code_exactly_once() {
    let store = Arc::new(common::store("mixed").await);
    let rec = record("u");
    for round in 0..40 {
        let key = key();
        store.put(&key, &rec, LONG).await.expect("put");
        // A few right tries among many wrong ones, so some rounds end by withdrawal.
        let outcomes = race(&store, key, |i| i % 16 == 15).await;
        let mut refused: Vec<u32> = Vec::new();
        let mut ended = Vec::new();
        for outcome in &outcomes {
            match outcome {
                CodeUse::Refused { tries } => refused.push(*tries),
                CodeUse::Gone => {}
                other => ended.push(other.clone()),
            }
        }
        refused.sort_unstable();
        let k = u32::try_from(refused.len()).unwrap_or(u32::MAX);
        assert_eq!(
            refused,
            (1..=k).collect::<Vec<u32>>(),
            "round {round}: refused tries counted one after the other"
        );
        assert_eq!(ended.len(), 1, "round {round}: ended by {ended:?}");
        match &ended[0] {
            CodeUse::Taken(taken) => assert_eq!(taken, &rec),
            CodeUse::Withdrawn { tries } => {
                assert_eq!((k, *tries), (4, 5), "round {round}: withdrawn at the limit");
            }
            other => panic!("round {round}: {other:?}"),
        }
        assert!(store.get(&key).await.expect("get").is_none());
    }
}

async fn race(
    store: &Arc<nopassword_sqlx::PgStore>,
    key: CodeKey,
    right: impl Fn(usize) -> bool,
) -> Vec<CodeUse> {
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let (store, barrier, matched) = (Arc::clone(store), Arc::clone(&barrier), right(i));
            tokio::spawn(async move {
                barrier.wait().await;
                store.use_code(&key, 5, matched).await.expect("use")
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(RACERS);
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    outcomes
}

/// One failure short of the cap, [`RACERS`] concurrent right tries all reset the count: a
/// right try never counts, so none is locked out by another's passing count (the default
/// counted it, then cleared it). At the cap, every right try is refused and the count stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_right_tries_below_the_cap_all_reset() {
    let store = Arc::new(common::store("right").await);
    for round in 0..20 {
        let user = Arc::new(common::unique("user"));
        for _ in 0..2 {
            store
                .count_user_try(&user, LONG, 3, false)
                .await
                .expect("count");
        }
        let outcomes = right_tries(&store, &user).await;
        assert!(
            outcomes.iter().all(|outcome| *outcome == Some(0)),
            "round {round}: {} of {RACERS} right tries refused",
            outcomes.iter().filter(|o| o.is_none()).count()
        );
        assert_eq!(store.user_failures(&user).await.expect("read"), 0);

        for _ in 0..3 {
            store
                .count_user_try(&user, LONG, 3, false)
                .await
                .expect("count");
        }
        let outcomes = right_tries(&store, &user).await;
        assert!(
            outcomes.iter().all(Option::is_none),
            "round {round}: a locked-out user's right tries are all refused"
        );
        assert_eq!(store.user_failures(&user).await.expect("read"), 3);
    }
}

async fn right_tries(
    store: &Arc<nopassword_sqlx::PgStore>,
    user: &Arc<String>,
) -> Vec<Option<u32>> {
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (store, user, barrier) =
                (Arc::clone(store), Arc::clone(user), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .count_user_try(&user, LONG, 3, true)
                    .await
                    .expect("count")
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(RACERS);
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    outcomes
}

/// `take_and_reset` resets the user's failures only when it took the code: a request that
/// finds the code gone resets nothing.
#[tokio::test]
async fn take_and_reset_resets_only_when_it_took_the_code() {
    let store = common::store("reset").await;
    let user = common::unique("user");
    for _ in 0..2 {
        store
            .incr_user_failures(&user, LONG, 100)
            .await
            .expect("incr");
    }
    assert_eq!(
        store.take_and_reset(&key(), &user).await.expect("take"),
        None
    );
    assert_eq!(
        store.user_failures(&user).await.expect("read"),
        2,
        "nothing taken, nothing reset"
    );
}

/// A bucket named twice in one `hits` counts twice, each occurrence with its own count in
/// order, as one `hit` after the other: in a new window and in a running one.
#[tokio::test]
async fn hits_counts_a_bucket_named_twice_in_order() {
    let store = common::store("twice").await;
    let (a, b) = (common::unique("a"), common::unique("b"));
    let minute = Duration::from_secs(60);
    assert_eq!(
        store
            .hits(&[(&a, minute), (&b, minute), (&a, minute)])
            .await
            .expect("hits"),
        [1, 1, 2]
    );
    assert_eq!(
        store
            .hits(&[(&b, minute), (&a, minute), (&a, minute)])
            .await
            .expect("hits"),
        [2, 3, 4]
    );
    assert_eq!(store.hit(&a, minute).await.expect("hit"), 5);
}
