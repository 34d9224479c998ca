-- nopassword-sqlx, migration 1: outstanding codes and the abuse counters.
--
-- {codes} and {counters} stand for the store's tables, "<schema>"."<prefix>codes" and
-- "<schema>"."<prefix>counters" (schema and prefix are checked identifiers, then quoted);
-- {prefix} for the prefix alone. Times are milliseconds since the Unix epoch.

-- One row per outstanding code. `key` is the first 16 bytes of the link secret's HMAC;
-- `record` is nopassword-core's `CodeRecord::encode` (user id, verifier, keyed hashes of the
-- typed code and of the flow, `next`, issue and expiry times): no code, flow id, e-mail or
-- phone number is stored. `failures` counts refused uses of the code and dies with it.
CREATE TABLE IF NOT EXISTS {codes} (
    key        bytea   PRIMARY KEY,
    record     bytea   NOT NULL,
    failures   integer NOT NULL DEFAULT 0,
    expires_at bigint  NOT NULL
);

-- The sweep deletes expired rows in bounded batches through this index.
CREATE INDEX IF NOT EXISTS "{prefix}codes_expires_at" ON {codes} (expires_at);

-- Consecutive failures per user (`f:<user id>`) and fixed-window rate counters
-- (`r:<keyed-hash bucket>`), each with the end of its window.
CREATE TABLE IF NOT EXISTS {counters} (
    name       text    PRIMARY KEY,
    count      integer NOT NULL,
    expires_at bigint  NOT NULL
);

CREATE INDEX IF NOT EXISTS "{prefix}counters_expires_at" ON {counters} (expires_at);
