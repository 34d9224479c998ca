//! `PgDirectory`: the app's existing users table as a `UserDirectory`.

use std::{borrow::Cow, fmt, time::Duration};

use nopassword_core::{UserDirectory, async_trait, error::BoxError, locale::Locale, user::User};
use sqlx::{PgPool, Row, SqlStr, postgres::PgRow};
use tracing::{debug, warn};

use crate::{
    PgStoreError,
    schema::{quote, quote_table},
};

/// Users from a table the app already has: it names the table and its columns, or hands its
/// own two queries. Users come back as core's [`User`].
///
/// Lookups match the username exactly (case-sensitively), like every directory of
/// nopassword-core; [`PgDirectoryBuilder::case_insensitive`] matches `lower(username)` instead
/// and then also counts the per-username send limit under the lower-case name (see
/// [`UserDirectory::limit_key`]). A name that matches more than one row logs nobody in.
///
/// ```no_run
/// # async fn demo(pool: sqlx::PgPool) -> Result<(), nopassword_sqlx::PgStoreError> {
/// use nopassword_sqlx::PgDirectory;
///
/// // SELECT "id"::text, "login", "mail", NULL, "is_active" FROM "app"."members" WHERE "login" = $1
/// let users = PgDirectory::builder("app.members")
///     .username("login")
///     .email("mail")
///     .active("is_active")
///     .build(pool)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgDirectory {
    pool: PgPool,
    by_username: SqlStr,
    by_id: SqlStr,
    case_insensitive: bool,
    timeout: Duration,
}

impl fmt::Debug for PgDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgDirectory")
            .field("by_username", &self.by_username.as_str())
            .field("by_id", &self.by_id.as_str())
            .field("case_insensitive", &self.case_insensitive)
            .finish_non_exhaustive()
    }
}

/// Names the users table's columns for a [`PgDirectory`]. Every name is checked (plain
/// identifiers only) and quoted, so it is used exactly as written.
#[derive(Debug, Clone)]
#[must_use]
pub struct PgDirectoryBuilder {
    table: String,
    id: String,
    username: String,
    email: Option<String>,
    phone: Option<String>,
    active: Option<String>,
    locale: Option<String>,
    case_insensitive: bool,
    timeout: Duration,
}

impl PgDirectoryBuilder {
    /// The id column (default `id`; any type, read as text).
    pub fn id(mut self, column: impl Into<String>) -> Self {
        self.id = column.into();
        self
    }

    /// The username column (default `username`).
    pub fn username(mut self, column: impl Into<String>) -> Self {
        self.username = column.into();
        self
    }

    /// The e-mail column (default `email`).
    pub fn email(mut self, column: impl Into<String>) -> Self {
        self.email = Some(column.into());
        self
    }

    /// The phone column (default `phone`).
    pub fn phone(mut self, column: impl Into<String>) -> Self {
        self.phone = Some(column.into());
        self
    }

    /// The boolean active column (default `active`).
    pub fn active(mut self, column: impl Into<String>) -> Self {
        self.active = Some(column.into());
        self
    }

    /// The column holding each user's language (a language tag such as `es` or `pt-BR`;
    /// default: none). Mail and SMS then go out in that language ([`LoginUser::locale`]); a
    /// value that is not a language tag counts as none.
    ///
    /// [`LoginUser::locale`]: nopassword_core::LoginUser::locale
    pub fn locale(mut self, column: impl Into<String>) -> Self {
        self.locale = Some(column.into());
        self
    }

    /// The table has no e-mail column.
    pub fn no_email(mut self) -> Self {
        self.email = None;
        self
    }

    /// The table has no phone column.
    pub fn no_phone(mut self) -> Self {
        self.phone = None;
        self
    }

    /// The table has no active column: every user is active.
    pub fn no_active(mut self) -> Self {
        self.active = None;
        self
    }

    /// Match `lower(username) = lower($1)` (default: exact). The per-username send limit then
    /// counts under the lower-case name too. An index on `lower(username)` keeps it fast.
    pub fn case_insensitive(mut self, yes: bool) -> Self {
        self.case_insensitive = yes;
        self
    }

    /// The limit on each lookup (default 500 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks every name and builds the two queries over `pool`.
    pub fn build(self, pool: PgPool) -> Result<PgDirectory, PgStoreError> {
        let table = quote_table(&self.table)?;
        let id = quote("column", &self.id)?;
        let username = quote("column", &self.username)?;
        let optional = |column: &Option<String>, absent: &str| match column {
            Some(column) => quote("column", column),
            None => Ok(absent.to_owned()),
        };
        let email = optional(&self.email, "NULL")?;
        let phone = optional(&self.phone, "NULL")?;
        let active = optional(&self.active, "true")?;
        let locale = optional(&self.locale, "NULL")?;
        let select = format!(
            "SELECT {id}::text AS id, {username}::text AS username, {email}::text AS email, \
             {phone}::text AS phone, {active}::boolean AS active, {locale}::text AS locale \
             FROM {table}"
        );
        let by_username = if self.case_insensitive {
            format!("{select} WHERE lower({username}) = lower($1) LIMIT 2")
        } else {
            format!("{select} WHERE {username} = $1 LIMIT 2")
        };
        let by_id = format!("{select} WHERE {id}::text = $1 LIMIT 2");
        Ok(PgDirectory {
            pool,
            by_username: safe(by_username),
            by_id: safe(by_id),
            case_insensitive: self.case_insensitive,
            timeout: self.timeout,
        })
    }
}

fn safe(sql: String) -> SqlStr {
    // Built from checked, quoted identifiers only; the username and id are bind parameters.
    sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql))
}

impl PgDirectory {
    /// A builder over `table` (`users` or `schema.users`) with columns `id`, `username`,
    /// `email`, `phone` and `active`; rename or drop them on the builder.
    ///
    /// ```no_run
    /// # fn demo(pool: sqlx::PgPool) -> Result<(), nopassword_sqlx::PgStoreError> {
    /// let users = nopassword_sqlx::PgDirectory::builder("users").no_phone().build(pool)?;
    /// # Ok(()) }
    /// ```
    pub fn builder(table: impl Into<String>) -> PgDirectoryBuilder {
        PgDirectoryBuilder {
            table: table.into(),
            id: "id".into(),
            username: "username".into(),
            email: Some("email".into()),
            phone: Some("phone".into()),
            active: Some("active".into()),
            locale: None,
            case_insensitive: false,
            timeout: Duration::from_millis(500),
        }
    }

    /// The app's own queries: each takes `$1` (the username, the id as text) and returns the
    /// columns `id`, `username`, `email`, `phone` (text, may be NULL) and `active` (boolean),
    /// and may return `locale` (text, a language tag, may be NULL).
    ///
    /// ```no_run
    /// # fn demo(pool: sqlx::PgPool) {
    /// let users = nopassword_sqlx::PgDirectory::with_queries(
    ///     pool,
    ///     "SELECT id::text, name AS username, mail AS email, NULL::text AS phone, \
    ///      NOT banned AS active FROM accounts WHERE name = $1",
    ///     "SELECT id::text, name AS username, mail AS email, NULL::text AS phone, \
    ///      NOT banned AS active FROM accounts WHERE id = $1::bigint",
    /// );
    /// # }
    /// ```
    pub fn with_queries(pool: PgPool, by_username: &'static str, by_id: &'static str) -> Self {
        Self {
            pool,
            by_username: sqlx::SqlSafeStr::into_sql_str(by_username),
            by_id: sqlx::SqlSafeStr::into_sql_str(by_id),
            case_insensitive: false,
            timeout: Duration::from_millis(500),
        }
    }

    /// The pool the directory reads.
    ///
    /// ```no_run
    /// # fn demo(users: nopassword_sqlx::PgDirectory) {
    /// let pool: &sqlx::PgPool = users.pool();
    /// # }
    /// ```
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn find(&self, sql: &SqlStr, value: &str) -> Result<Option<User>, BoxError> {
        let query = sqlx::query(sql.clone()).bind(value.to_owned());
        let rows = tokio::time::timeout(self.timeout, query.fetch_all(&self.pool))
            .await
            .map_err(|_| format!("user lookup took longer than {:?}", self.timeout))??;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => Ok(Some(user(row)?)),
            _ => {
                warn!("several users match one name or id; refusing the login");
                Ok(None)
            }
        }
    }
}

fn user(row: &PgRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        active: row.try_get::<Option<bool>, _>("active")?.unwrap_or(false),
        locale: locale(row)?,
    })
}

/// The optional `locale` column: absent from the app's own queries, NULL, or not a language
/// tag all mean no preference.
fn locale(row: &PgRow) -> Result<Option<Locale>, sqlx::Error> {
    let tag = match row.try_get::<Option<String>, _>("locale") {
        Ok(tag) => tag,
        Err(sqlx::Error::ColumnNotFound(_)) => None,
        Err(error) => return Err(error),
    };
    Ok(tag.and_then(|tag| match tag.parse::<Locale>() {
        Ok(locale) => Some(locale),
        Err(_) => {
            debug!("a user's locale column holds no language tag; ignored");
            None
        }
    }))
}

#[async_trait]
impl UserDirectory for PgDirectory {
    type User = User;

    async fn find_by_username(&self, username: &str) -> Result<Option<User>, BoxError> {
        self.find(&self.by_username, username).await
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<User>, BoxError> {
        self.find(&self.by_id, id).await
    }

    fn limit_key<'a>(&self, username: &'a str) -> Cow<'a, str> {
        if self.case_insensitive {
            Cow::Owned(username.to_lowercase())
        } else {
            Cow::Borrowed(username)
        }
    }
}
