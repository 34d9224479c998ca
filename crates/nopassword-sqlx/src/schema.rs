//! Identifiers (checked, then quoted), the store's table names, its statements and its
//! migrations.

use std::borrow::Cow;

use sqlx::{
    AssertSqlSafe, SqlSafeStr, SqlStr,
    migrate::{Migration, MigrationType, Migrator},
};

use crate::PgStoreError;

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`); longer ones it silently cuts.
const MAX_IDENTIFIER: usize = 63;

/// The longest suffix the store appends to its prefix (`codes_expires_at`).
const LONGEST_SUFFIX: usize = "codes_expires_at".len();

/// An identifier as PostgreSQL will see it: checked, then double-quoted, so it is used exactly
/// as written (case included) and can never close the quotes around it.
///
/// Accepted: 1 to 63 bytes of ASCII letters, digits, `_` and `$`, not starting with a digit or
/// `$`. Anything else (quotes, spaces, dots, semicolons, comment dashes, non-ASCII) is refused
/// before any SQL is built.
pub(crate) fn quote(what: &'static str, name: &str) -> Result<String, PgStoreError> {
    check(what, name, MAX_IDENTIFIER)?;
    Ok(format!("\"{name}\""))
}

fn check(what: &'static str, name: &str, max: usize) -> Result<(), PgStoreError> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && name.len() <= max;
    if valid {
        Ok(())
    } else {
        Err(PgStoreError::InvalidIdentifier {
            what,
            name: name.to_owned(),
        })
    }
}

/// A table name as the app gives it: `table` or `schema.table`, each part checked and quoted.
pub(crate) fn quote_table(name: &str) -> Result<String, PgStoreError> {
    match name.split_once('.') {
        Some((schema, table)) => Ok(format!(
            "{}.{}",
            quote("schema", schema)?,
            quote("table", table)?
        )),
        None => quote("table", name),
    }
}

/// The store's tables, under its schema and prefix, and every statement it runs.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub(crate) schema: String,
    pub(crate) prefix: String,
    /// `"schema"."prefixcodes"`.
    pub(crate) codes: String,
    /// `"schema"."prefixcounters"`.
    pub(crate) counters: String,
    /// `"schema"."prefixmigrations"`: sqlx's record of the migrations run.
    pub(crate) migrations: String,
    pub(crate) sql: Statements,
}

/// The statements, built once (from checked identifiers only) and prepared once per connection.
/// Times are milliseconds since the Unix epoch, passed by the store from its clock.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    /// `$1` key, `$2` record, `$3` expiry.
    pub(crate) put: SqlStr,
    /// `$1` key, `$2` now.
    pub(crate) get: SqlStr,
    /// `$1` keys (an array), `$2` now: the live ones among them, with their keys.
    pub(crate) get_many: SqlStr,
    /// `$1` key, `$2` now: one atomic `DELETE ... RETURNING`.
    pub(crate) take: SqlStr,
    /// `$1` key, `$2` now.
    pub(crate) incr_code_failures: SqlStr,
    /// `$1` key, `$2` approved record, `$3` now: the replaced record, or no row.
    pub(crate) approve: SqlStr,
    /// `$1` name, `$2` now, `$3` window, `$4` cap.
    pub(crate) incr_capped: SqlStr,
    /// `$1` name, `$2` now.
    pub(crate) read_counter: SqlStr,
    /// `$1` name.
    pub(crate) clear_counter: SqlStr,
    /// `$1` name, `$2` now, `$3` window.
    pub(crate) hit: SqlStr,
    /// `$1` names (an array), `$2` now, `$3` windows, `$4` hits per name: `(name, count)`.
    pub(crate) hits: SqlStr,
    /// `$1` counter name, `$2` now, `$3` window, `$4` keys (an array): `(count, key, record,
    /// failures)` for each live code, or one row of the count alone when none is live.
    pub(crate) hit_and_get: SqlStr,
    /// `$1` counter name, `$2` now, `$3` window, `$4` key, `$5` record, `$6` expiry, `$7`
    /// limit: the count.
    pub(crate) put_counted: SqlStr,
    /// `$1` name, `$2` now, `$3` cap: whether the count was reset (else it is at the cap).
    pub(crate) reset_uncapped: SqlStr,
    /// `$1` key, `$2` now, `$3` max attempts, `$4` right try: no row when the code is gone,
    /// else the tries and, when taken, the record.
    pub(crate) use_code: SqlStr,
    /// `$1` key, `$2` now, `$3` counter name: the record, when it was there.
    pub(crate) take_and_reset: SqlStr,
    /// `$1` now, `$2` batch size.
    pub(crate) sweep_codes: SqlStr,
    /// `$1` now, `$2` batch size.
    pub(crate) sweep_counters: SqlStr,
    /// `$1` now: live codes and live counters.
    pub(crate) live_rows: SqlStr,
}

fn sql(text: String) -> SqlStr {
    // Every identifier in `text` went through `quote`; every value is a bind parameter.
    AssertSqlSafe(text).into_sql_str()
}

/// The store's SQL, for the benchmark's pgbench script and the docs: `put` and `take` on
/// `codes`, as [`PgStore`](crate::PgStore) runs them.
pub(crate) fn statements(codes: &str, counters: &str) -> Statements {
    Statements {
        put: sql(format!(
            "INSERT INTO {codes} (key, record, failures, expires_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (key) DO UPDATE \
             SET record = EXCLUDED.record, failures = 0, expires_at = EXCLUDED.expires_at"
        )),
        get: sql(format!(
            "SELECT record, failures FROM {codes} WHERE key = $1 AND expires_at > $2"
        )),
        get_many: sql(format!(
            "SELECT key, record, failures FROM {codes} WHERE key = ANY($1) AND expires_at > $2"
        )),
        take: sql(format!(
            "DELETE FROM {codes} WHERE key = $1 AND expires_at > $2 RETURNING record"
        )),
        incr_code_failures: sql(format!(
            "UPDATE {codes} SET failures = failures + 1 \
             WHERE key = $1 AND expires_at > $2 RETURNING failures"
        )),
        // One statement: the CTE locks the row (`FOR UPDATE`) and reads the record it
        // replaces; a concurrent approval waits for the lock, then re-checks the row as the
        // winner left it (approved: no row). The expiry is not touched. Byte 0 of a record is
        // its version, byte 1 its flags, bit 0x02 approved in version 4 (`CodeRecord::encode`);
        // the padding keeps `get_byte` within a malformed record.
        approve: sql(format!(
            "WITH old AS ( \
               SELECT key, record FROM {codes} \
               WHERE key = $1 AND expires_at > $3 AND failures = 0 \
                 AND get_byte(record || '\\x0000'::bytea, 0) IN (3, 4) \
                 AND NOT (get_byte(record || '\\x0000'::bytea, 0) = 4 \
                          AND (get_byte(record || '\\x0000'::bytea, 1) & 2) <> 0) \
               FOR UPDATE) \
             UPDATE {codes} AS c SET record = $2 FROM old WHERE c.key = old.key \
             RETURNING old.record"
        )),
        // One statement, one row lock: concurrent calls queue on the row, each sees the
        // count its predecessor left, and the WHERE refuses an increment at the cap.
        incr_capped: sql(format!(
            "INSERT INTO {counters} AS c (name, count, expires_at) VALUES ($1, 1, $2 + $3) \
             ON CONFLICT (name) DO UPDATE \
             SET count = CASE WHEN c.expires_at <= $2 THEN 1 ELSE c.count + 1 END, \
                 expires_at = $2 + $3 \
             WHERE c.expires_at <= $2 OR c.count < $4 \
             RETURNING count"
        )),
        read_counter: sql(format!(
            "SELECT count FROM {counters} WHERE name = $1 AND expires_at > $2"
        )),
        clear_counter: sql(format!("DELETE FROM {counters} WHERE name = $1")),
        hit: sql(format!(
            "INSERT INTO {counters} AS c (name, count, expires_at) VALUES ($1, 1, $2 + $3) \
             ON CONFLICT (name) DO UPDATE \
             SET count = CASE WHEN c.expires_at <= $2 THEN 1 ELSE c.count + 1 END, \
                 expires_at = CASE WHEN c.expires_at <= $2 THEN $2 + $3 ELSE c.expires_at END \
             RETURNING count"
        )),
        // One statement: the hit (as `hit`; the CTE runs once whatever the codes), then the
        // live codes. The LEFT JOIN from the hit's one row keeps the count when no code is
        // live.
        hit_and_get: sql(format!(
            "WITH hit AS ( \
               INSERT INTO {counters} AS c (name, count, expires_at) VALUES ($1, 1, $2 + $3) \
               ON CONFLICT (name) DO UPDATE \
               SET count = CASE WHEN c.expires_at <= $2 THEN 1 ELSE c.count + 1 END, \
                   expires_at = CASE WHEN c.expires_at <= $2 THEN $2 + $3 \
                                     ELSE c.expires_at END \
               RETURNING count) \
             SELECT hit.count, k.key, k.record, k.failures FROM hit \
             LEFT JOIN {codes} AS k ON k.key = ANY($4) AND k.expires_at > $2"
        )),
        // One statement for all the buckets. Names are sorted (the caller sends each once,
        // with its number of hits), so concurrent calls lock the rows in one order and never
        // deadlock; each row is counted as `hit` counts it.
        hits: sql(format!(
            "INSERT INTO {counters} AS c (name, count, expires_at) \
             SELECT name, n, $2 + w FROM unnest($1::text[], $3::bigint[], $4::integer[]) \
               AS t(name, w, n) ORDER BY name \
             ON CONFLICT (name) DO UPDATE \
             SET count = CASE WHEN c.expires_at <= $2 THEN EXCLUDED.count \
                              ELSE c.count + EXCLUDED.count END, \
                 expires_at = CASE WHEN c.expires_at <= $2 THEN EXCLUDED.expires_at \
                                   ELSE c.expires_at END \
             RETURNING name, count"
        )),
        // One statement: the hit (as `hit`, one row lock on the counter), then the write
        // only within the limit; over it, whatever the key holds is deleted, so no code stays
        // (a repeat of a call whose reply was lost cannot leave one behind either). Only one
        // of the two writes on `codes` matches.
        put_counted: sql(format!(
            "WITH hit AS ( \
               INSERT INTO {counters} AS c (name, count, expires_at) VALUES ($1, 1, $2 + $3) \
               ON CONFLICT (name) DO UPDATE \
               SET count = CASE WHEN c.expires_at <= $2 THEN 1 ELSE c.count + 1 END, \
                   expires_at = CASE WHEN c.expires_at <= $2 THEN $2 + $3 \
                                     ELSE c.expires_at END \
               RETURNING count), \
             stored AS ( \
               INSERT INTO {codes} (key, record, failures, expires_at) \
               SELECT $4, $5, 0, $6 FROM hit WHERE hit.count <= $7 \
               ON CONFLICT (key) DO UPDATE \
               SET record = EXCLUDED.record, failures = 0, expires_at = EXCLUDED.expires_at), \
             withdrawn AS ( \
               DELETE FROM {codes} WHERE key = $4 AND (SELECT count FROM hit) > $7) \
             SELECT count FROM hit"
        )),
        // One statement: the CTE locks the user's counter (`FOR UPDATE`; a concurrent
        // failure waits, or is waited for and then seen as it left the row), and the row
        // is deleted unless it is live and at the cap. No row at all: nothing to reset.
        reset_uncapped: sql(format!(
            "WITH cur AS ( \
               SELECT name, count, expires_at FROM {counters} WHERE name = $1 FOR UPDATE), \
             locked AS (SELECT 1 FROM cur WHERE expires_at > $2 AND count >= $3), \
             reset AS ( \
               DELETE FROM {counters} AS c USING cur \
               WHERE c.name = cur.name AND NOT EXISTS (SELECT 1 FROM locked)) \
             SELECT NOT EXISTS (SELECT 1 FROM locked)"
        )),
        // One statement: the CTE locks the live code (`FOR UPDATE`), so concurrent tries
        // queue on it and each sees the count its predecessor left, or no row once one of
        // them ended the code. A right try, or a wrong one that reaches the attempts, deletes
        // the row; any other counts on it. Only one of the two writes matches.
        use_code: sql(format!(
            "WITH cur AS ( \
               SELECT key, record, failures + 1 AS tries FROM {codes} \
               WHERE key = $1 AND expires_at > $2 FOR UPDATE), \
             ended AS ( \
               DELETE FROM {codes} AS c USING cur \
               WHERE c.key = cur.key AND ($4 OR cur.tries >= $3)), \
             counted AS ( \
               UPDATE {codes} AS c SET failures = cur.tries FROM cur \
               WHERE c.key = cur.key AND NOT ($4 OR cur.tries >= $3)) \
             SELECT tries, CASE WHEN $4 AND tries <= $3 THEN record END FROM cur"
        )),
        // One statement: the take (as `take`), and the reset of the user's failures only
        // when this call took the code.
        take_and_reset: sql(format!(
            "WITH taken AS ( \
               DELETE FROM {codes} WHERE key = $1 AND expires_at > $2 RETURNING record), \
             reset AS ( \
               DELETE FROM {counters} WHERE name = $3 AND EXISTS (SELECT 1 FROM taken)) \
             SELECT record FROM taken"
        )),
        sweep_codes: sql(format!(
            "DELETE FROM {codes} WHERE ctid = ANY(ARRAY( \
             SELECT ctid FROM {codes} WHERE expires_at <= $1 LIMIT $2))"
        )),
        sweep_counters: sql(format!(
            "DELETE FROM {counters} WHERE ctid = ANY(ARRAY( \
             SELECT ctid FROM {counters} WHERE expires_at <= $1 LIMIT $2))"
        )),
        live_rows: sql(format!(
            "SELECT (SELECT count(*) FROM {codes} WHERE expires_at > $1), \
                    (SELECT count(*) FROM {counters} WHERE expires_at > $1)"
        )),
    }
}

impl Tables {
    /// Checks `schema` and `prefix` and builds the names and statements from them.
    pub(crate) fn new(schema: &str, prefix: &str) -> Result<Self, PgStoreError> {
        let quoted_schema = quote("schema", schema)?;
        if !prefix.is_empty() {
            check("table prefix", prefix, MAX_IDENTIFIER - LONGEST_SUFFIX)?;
        }
        let table = |suffix: &str| format!("{quoted_schema}.\"{prefix}{suffix}\"");
        let codes = table("codes");
        let counters = table("counters");
        Ok(Self {
            schema: schema.to_owned(),
            prefix: prefix.to_owned(),
            sql: statements(&codes, &counters),
            migrations: table("migrations"),
            codes,
            counters,
        })
    }

    /// The embedded migrations (`migrations/*.sql`), with the schema and the table names put
    /// in, and sqlx's record of them kept in this store's own `{prefix}migrations` table, so
    /// stores under different schemas or prefixes migrate independently.
    pub(crate) fn migrator(&self) -> Migrator {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, template)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql(self.render(template)),
                    false,
                )
            })
            .collect();
        let mut migrator = Migrator::with_migrations(migrations);
        migrator.dangerous_set_table_name(self.migrations.clone());
        migrator.create_schema(format!("\"{}\"", self.schema));
        migrator
    }

    /// A migration template with `{codes}`, `{counters}` and `{prefix}` filled in.
    pub(crate) fn render(&self, template: &str) -> String {
        template
            .replace("{codes}", &self.codes)
            .replace("{counters}", &self.counters)
            .replace("{prefix}", &self.prefix)
    }
}

/// `(version, description, SQL template)`, in order. The templates are documented in
/// `docs/guide/postgres.md`.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "codes and counters",
    include_str!("../migrations/0001_codes_and_counters.sql"),
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_that_could_break_out_are_refused() {
        for name in [
            "",
            "users; DROP TABLE users",
            "users\"",
            "\"users\"",
            "users--",
            "us ers",
            "1users",
            "$users",
            "usérs",
            "users\0",
            "public.users",
            &"x".repeat(64),
        ] {
            assert!(quote("table", name).is_err(), "{name:?} was accepted");
        }
        assert_eq!(quote("column", "Email_2").expect("valid"), "\"Email_2\"");
        assert_eq!(
            quote_table("app.users").expect("valid"),
            "\"app\".\"users\""
        );
        assert!(quote_table("app.users.x").is_err());
        assert!(quote_table("app.\"x").is_err());
    }

    #[test]
    fn prefixes_leave_room_for_the_longest_table_name() {
        assert!(Tables::new("public", &"p".repeat(47)).is_ok());
        assert!(Tables::new("public", &"p".repeat(48)).is_err());
        assert!(Tables::new("public", "np;drop").is_err());
        assert!(Tables::new("bad schema", "np_").is_err());
        let tables = Tables::new("Auth", "np_").expect("valid");
        assert_eq!(tables.codes, "\"Auth\".\"np_codes\"");
        assert!(
            tables
                .render(MIGRATIONS[0].2)
                .contains("\"Auth\".\"np_codes\"")
        );
    }
}
