//! `PgDirectory` over a users table the test creates, as an app's would be.

mod common;

use nopassword_core::{
    MemoryStore, NoPassword, Outbox, Settings, UserDirectory, error::Error, service::LoginRequest,
};
use nopassword_sqlx::{PgDirectory, PgStoreError, sqlx, sqlx::PgPool};

/// A schema of its own with an app-shaped table: integer ids, other column names.
async fn members() -> (PgPool, String) {
    let pool = PgPool::connect(&common::database_url())
        .await
        .expect("connect");
    let schema = common::unique("app");
    for statement in [
        format!("CREATE SCHEMA \"{schema}\""),
        format!(
            "CREATE TABLE \"{schema}\".members (member_id bigint PRIMARY KEY, login text NOT NULL, \
             mail text, mobile text, enabled boolean NOT NULL)"
        ),
        format!(
            "INSERT INTO \"{schema}\".members VALUES \
             (1, 'alice', 'alice@example.com', '+15005550006', true), \
             (2, 'Bob', 'bob@example.com', NULL, true), \
             (3, 'carol', NULL, NULL, false), \
             (4, 'dave', 'dave@example.com', NULL, true), \
             (5, 'DAVE', 'other-dave@example.com', NULL, true)"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .expect("set up the app's table");
    }
    (pool, schema)
}

fn directory(pool: PgPool, schema: &str, case_insensitive: bool) -> PgDirectory {
    PgDirectory::builder(format!("{schema}.members"))
        .id("member_id")
        .username("login")
        .email("mail")
        .phone("mobile")
        .active("enabled")
        .case_insensitive(case_insensitive)
        .build(pool)
        .expect("valid names")
}

#[tokio::test]
async fn finds_users_by_exact_name_and_by_id() {
    let (pool, schema) = members().await;
    let users = directory(pool, &schema, false);
    let alice = users
        .find_by_username("alice")
        .await
        .expect("lookup")
        .expect("alice");
    assert_eq!(alice.id, "1");
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.phone.as_deref(), Some("+15005550006"));
    assert!(alice.active);
    assert!(
        users
            .find_by_username("Alice")
            .await
            .expect("lookup")
            .is_none(),
        "exact by default"
    );
    assert!(
        users
            .find_by_username("bob")
            .await
            .expect("lookup")
            .is_none()
    );
    let carol = users.find_by_id("3").await.expect("lookup").expect("carol");
    assert!(!carol.active && carol.email.is_none());
    assert!(!users.verify_user(&carol).await.expect("verify"));
    assert!(users.find_by_id("99").await.expect("lookup").is_none());
    assert!(
        users
            .find_by_id("1 OR 1=1")
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        users
            .find_by_username("' OR '1'='1")
            .await
            .expect("lookup")
            .is_none(),
        "the name is a bind parameter"
    );
}

#[tokio::test]
async fn case_insensitive_lookups_refuse_ambiguous_names() {
    let (pool, schema) = members().await;
    let users = directory(pool, &schema, true);
    let bob = users
        .find_by_username("BOB")
        .await
        .expect("lookup")
        .expect("bob");
    assert_eq!(bob.username, "Bob");
    assert!(
        users
            .find_by_username("Dave")
            .await
            .expect("lookup")
            .is_none(),
        "two accounts match: nobody logs in"
    );
    assert_eq!(users.limit_key("BoB"), "bob");
}

/// Case-insensitive: `Ghost`, `GHOST` and `ghost` (no such account) share one send limit.
#[tokio::test]
async fn case_insensitive_send_limits_count_the_normalised_name() {
    let (pool, schema) = members().await;
    for (insensitive, limited) in [(true, true), (false, false)] {
        let settings = Settings {
            max_sends_per_user_per_hour: 2,
            max_requests_per_ip_per_minute: 1_000,
            secret_key: Some("a test key of at least thirty-two bytes".into()),
            ..Settings::default()
        };
        let service = NoPassword::builder(settings, directory(pool.clone(), &schema, insensitive))
            .store(MemoryStore::new())
            .sender(Outbox::new(100).quiet())
            .deliver_inline()
            .build()
            .expect("service");
        let mut refused = false;
        for name in ["Ghost", "GHOST", "ghost"] {
            let answer = service
                .request_login(LoginRequest {
                    username: name,
                    next: None,
                    host: None,
                    secure: false,
                    client: None,
                    flow: None,
                    ..LoginRequest::default()
                })
                .await;
            refused |= matches!(answer, Err(Error::RateLimited { .. }));
        }
        assert_eq!(refused, limited, "case_insensitive = {insensitive}");
    }
}

#[tokio::test]
async fn the_apps_own_queries() {
    let (_, schema) = members().await;
    // Real apps write these as constants; the test's schema is unique, so the pool sets it
    // as each connection's search_path instead.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .after_connect({
            let schema = schema.clone();
            move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SET search_path = \"{schema}\""
                    )))
                    .execute(conn)
                    .await
                    .map(drop)
                })
            }
        })
        .connect(&common::database_url())
        .await
        .expect("connect");
    let users = PgDirectory::with_queries(
        pool,
        "SELECT member_id::text AS id, login AS username, mail AS email, NULL::text AS phone, \
         enabled AS active FROM members WHERE login = $1",
        "SELECT member_id::text AS id, login AS username, mail AS email, NULL::text AS phone, \
         enabled AS active FROM members WHERE member_id = $1::bigint",
    );
    assert_eq!(
        users
            .find_by_username("alice")
            .await
            .expect("lookup")
            .expect("alice")
            .id,
        "1"
    );
    assert_eq!(
        users
            .find_by_id("2")
            .await
            .expect("lookup")
            .expect("bob")
            .username,
        "Bob"
    );
}

/// A locale column gives each user their language; NULL or a value that is no language tag
/// gives none, and a directory without the column (the default) gives none.
#[tokio::test]
async fn a_locale_column_gives_each_user_their_language() {
    let (pool, schema) = members().await;
    for statement in [
        format!("ALTER TABLE \"{schema}\".members ADD COLUMN lang text"),
        format!("UPDATE \"{schema}\".members SET lang = 'es' WHERE member_id = 1"),
        format!("UPDATE \"{schema}\".members SET lang = 'not a tag!' WHERE member_id = 2"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .expect("add the language column");
    }
    let with_locale = PgDirectory::builder(format!("{schema}.members"))
        .id("member_id")
        .username("login")
        .email("mail")
        .phone("mobile")
        .active("enabled")
        .locale("lang")
        .build(pool.clone())
        .expect("valid names");
    let alice = with_locale
        .find_by_username("alice")
        .await
        .expect("lookup")
        .expect("alice");
    assert_eq!(alice.locale.as_ref().map(|l| l.as_str()), Some("es"));
    assert_eq!(
        nopassword_core::LoginUser::locale(&alice).map(|l| l.as_str().to_owned()),
        Some("es".to_owned())
    );
    let bob = with_locale
        .find_by_id("2")
        .await
        .expect("lookup")
        .expect("bob");
    assert!(bob.locale.is_none(), "not a language tag: no preference");
    let dave = with_locale
        .find_by_id("4")
        .await
        .expect("lookup")
        .expect("dave");
    assert!(dave.locale.is_none(), "NULL: no preference");
    let without = directory(pool, &schema, false)
        .find_by_username("alice")
        .await
        .expect("lookup")
        .expect("alice");
    assert!(without.locale.is_none(), "no locale column named");
}

/// Column and table names that could inject SQL are refused when the directory is built.
#[tokio::test]
async fn names_that_could_inject_sql_are_refused() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy_with(common::database_url().parse().expect("a URL"));
    let attempts = [
        PgDirectory::builder("users; DROP TABLE users").build(pool.clone()),
        PgDirectory::builder("users")
            .email("mail) FROM pg_shadow --")
            .build(pool.clone()),
        PgDirectory::builder("users").id("id\"").build(pool.clone()),
        PgDirectory::builder("a.b.c").build(pool.clone()),
        PgDirectory::builder("users")
            .username("")
            .build(pool.clone()),
    ];
    for attempt in attempts {
        assert!(matches!(
            attempt,
            Err(PgStoreError::InvalidIdentifier { .. })
        ));
    }
}

/// A lookup on a server that is gone is an error (the service answers 503), within the limit.
#[tokio::test]
async fn an_unreachable_database_is_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(200))
        .connect_lazy(&format!("postgres://nopassword@127.0.0.1:{port}/postgres"))
        .expect("a lazy pool");
    let users = PgDirectory::builder("users").build(pool).expect("valid");
    let started = std::time::Instant::now();
    assert!(users.find_by_username("alice").await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
