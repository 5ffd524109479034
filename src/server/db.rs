//! The database behind one sqlx `Any` pool, so every query is written once for SQLite and
//! PostgreSQL. Portable SQL only: `$n` placeholders, Unix-second integers, 0/1 flags,
//! `CAST(SUM(…) AS BIGINT)` where PostgreSQL would return NUMERIC.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::{Connection, Executor};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::point_read::PointReader;

/// How long a PostgreSQL connection may sit idle before it is pinged when handed out again.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Pings a PostgreSQL connection before it is handed out only when it sat idle past
/// [`STALE_AFTER`] (the server may have restarted, a proxy may have dropped it): sqlx's own
/// `test_before_acquire` pings before every query.
fn ping_when_stale<C: Connection>(conn: &mut C, meta: sqlx::pool::PoolConnectionMetadata) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        if meta.idle_for >= STALE_AFTER {
            conn.ping().await?;
        }
        Ok(true)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// Where [`Db::point_i64`] reads: SQLite's own connections (none for an in-memory database), or
/// a typed PostgreSQL pool.
#[derive(Clone, Debug)]
enum PointReads {
    Sqlite(Option<Arc<PointReader>>),
    Postgres(sqlx::PgPool),
}

/// The session store needs the driver's own pool type.
#[derive(Clone, Debug)]
pub enum SessionPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
    pub sessions: SessionPool,
    /// State kept beside this database and shared by every clone of it: the caches of what it
    /// holds (one value per type, see [`Db::shared`]).
    shared: Shared,
    /// Reads of one row on the hottest paths (see [`Db::point_i64`]).
    point: PointReads,
    /// Where [`Db::for_background`] connects; `None` when a second pool would not reach this
    /// database.
    background_url: Option<Arc<str>>,
}

/// The background pool of a database (see [`Db::for_background`]), once created.
#[derive(Default)]
struct BackgroundPool(Mutex<Option<AnyPool>>);

/// The options of a pool of `max` connections: on SQLite every connection's pragmas, on
/// PostgreSQL a ping only when stale.
fn pool_options(kind: DbKind, max: u32) -> AnyPoolOptions {
    // sqlx pings every connection it hands out by default: a second round trip (to the server,
    // or to SQLite's worker thread) before every query. A SQLite file does not hang up, so it is
    // never pinged; a PostgreSQL connection is pinged only after a minute idle, when the server
    // may have restarted or a proxy may have dropped it.
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30)).test_before_acquire(false).max_connections(max);
    match kind {
        DbKind::Sqlite => {
            // A page cache of up to 32 MiB per connection (SQLite's default is 2 MiB: at
            // millions of findings nearly every index page a write touched was a read from the
            // OS), all connections together kept under 128 MiB. The log is checkpointed by a
            // task of its own (`wal`); a commit only does it as a fallback.
            let pragmas: Arc<str> = format!(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; PRAGMA synchronous = NORMAL;
                 PRAGMA cache_size = -32768; PRAGMA soft_heap_limit = 134217728;
                 PRAGMA wal_autocheckpoint = {};",
                super::wal::FALLBACK_PAGES
            )
            .into();
            options.after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    conn.execute(&*pragmas).await?;
                    Ok(())
                })
            })
        }
        DbKind::Postgres => options.before_acquire(ping_when_stale),
    }
}

/// One value per type, created on first use.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite:// or postgres://".into(),
            ));
        };
        let (pool, sessions) = match kind {
            DbKind::Sqlite => {
                let pool = pool_options(kind, 8).connect(url).await?;
                sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
                let sessions = sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).test_before_acquire(false).connect(url).await?;
                (pool, SessionPool::Sqlite(sessions))
            }
            DbKind::Postgres => {
                let pool = pool_options(kind, 16).connect(url).await?;
                let sessions = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url).await?;
                (pool, SessionPool::Postgres(sessions))
            }
        };
        let shared = Shared::default();
        if kind == DbKind::Sqlite {
            super::wal::spawn(url.to_string(), Arc::downgrade(&shared.0));
        }
        let point = match kind {
            DbKind::Sqlite => PointReads::Sqlite(PointReader::for_url(url).map(Arc::new)),
            // A small pool of the driver's own, whose rows need no conversion to `Any` rows.
            DbKind::Postgres => PointReads::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .min_connections(0)
                    .test_before_acquire(false)
                    .before_acquire(ping_when_stale)
                    .connect_lazy(url)?,
            ),
        };
        // A second pool reaches the same data unless the database lives in this process only.
        let reachable = kind == DbKind::Postgres || matches!(point, PointReads::Sqlite(Some(_)));
        let background_url = reachable.then(|| Arc::from(url));
        Ok(Db { pool, kind, sessions, shared, point, background_url })
    }

    /// Whether [`Db::for_background`] reaches this database.
    pub fn for_background_possible(&self) -> bool {
        self.background_url.is_some()
    }

    /// This database for the background thread (`background`): the same caches and readers, with
    /// a small pool of its own (two connections), created on first use. Its connections open on
    /// the thread that first asks for one, so call it there only: a SQLite connection's worker
    /// thread, started by that thread, shares its CPU priority. `None` for a database a second
    /// pool cannot reach (in-memory SQLite).
    pub fn for_background(&self) -> Option<Result<Db, sqlx::Error>> {
        let url = self.background_url.as_ref()?;
        let held = self.shared::<BackgroundPool>();
        let mut pool = held.0.lock().unwrap_or_else(|p| p.into_inner());
        let pool = match pool.as_ref() {
            Some(pool) => pool.clone(),
            None => match pool_options(self.kind, 2).connect_lazy(url) {
                Ok(created) => pool.insert(created).clone(),
                Err(e) => return Some(Err(e)),
            },
        };
        Some(Ok(Db { pool, ..self.clone() }))
    }

    /// This database's value of type `T` (a cache of something it holds), created with
    /// `T::default()` on first use and shared by every clone of this `Db`, so every request of
    /// this console reads the same one, and two consoles (or two test databases) never mix.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.shared.0.lock().unwrap_or_else(|p| p.into_inner());
        let value = map.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default())).clone();
        drop(map);
        value.downcast::<T>().unwrap_or_else(|_| unreachable!("the value under a type's id has that type"))
    }

    /// The one integer `sql` selects (a statement that reads one row by its key, with no
    /// parameters), on a path where the pool's round trip is most of the request's cost. On a
    /// SQLite file it is read on this thread (see `point_read`), falling back to the pool when
    /// SQLite cannot answer at once; on PostgreSQL through a small pool of the driver's own type.
    pub async fn point_i64(&self, sql: &'static str) -> Result<i64, sqlx::Error> {
        match &self.point {
            PointReads::Sqlite(Some(reader)) => match reader.scalar_i64(sql) {
                Some(value) => Ok(value),
                None => sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.pool).await,
            },
            PointReads::Sqlite(None) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.pool).await,
            PointReads::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
        }
    }

    /// The row `sql` selects by one key (`$1`), as a tuple, on a path where the pool's round
    /// trip is most of the request's cost: on a SQLite file read on this thread (see
    /// `point_read`), falling back to the pool when SQLite cannot answer at once; on PostgreSQL
    /// through the pool.
    pub async fn point_row<T, K>(&self, sql: &'static str, key: K) -> Result<Option<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error> + Send + Unpin,
        K: rusqlite::ToSql + for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        if let PointReads::Sqlite(Some(reader)) = &self.point {
            if let Some(found) = reader.row(sql, [&key], |row| T::try_from(row)) {
                return Ok(found);
            }
        }
        sqlx::query_as::<_, T>(sql).bind(key).fetch_optional(&self.pool).await
    }

    /// Connects and brings the schema (and the session table) up to date.
    pub async fn open(url: &str) -> Result<Db, Box<dyn std::error::Error + Send + Sync>> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        db.migrate_sessions().await?;
        Ok(db)
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a transaction that reads first and writes later could otherwise fail with
    /// "database is locked" when another writer got there in between, instead of waiting.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.kind {
            DbKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            DbKind::Postgres => self.pool.begin().await,
        }
    }

    /// Creates the session store's tables; idempotent.
    async fn migrate_sessions(&self) -> Result<(), sqlx::Error> {
        match &self.sessions {
            SessionPool::Sqlite(pool) => SqliteStore::new(pool.clone()).migrate().await,
            SessionPool::Postgres(pool) => PostgresStore::new(pool.clone()).migrate().await,
        }
    }

    /// Applies the embedded migrations of this database's dialect.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.kind {
            DbKind::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            DbKind::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        }
    }
}

/// One page of a list of `total` rows, `size` to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// The page shown, from 1 to the last: a page past the end, or any number a client sends,
    /// shows the last (no arithmetic on the raw number, so none overflows).
    pub page: i64,
    /// How many pages there are (at least one).
    pub pages: i64,
    /// The page's first row, for OFFSET.
    pub offset: i64,
}

pub fn page_window(page: i64, total: i64, size: i64) -> PageWindow {
    let pages = (total.max(0) / size + i64::from(total % size > 0)).max(1);
    let page = page.clamp(1, pages);
    PageWindow { page, pages, offset: (page - 1) * size }
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` binds (both dialects number them).
pub fn placeholders(first: usize, count: usize) -> String {
    (0..count).map(|i| format!("${}", first + i)).collect::<Vec<_>>().join(", ")
}

/// Whether a connection is SQLite's (the `Any` pool can hold either engine).
pub fn is_sqlite(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// The n-th bind marker of a statement built for bulk writes: `$n` on PostgreSQL, a plain `?`
/// on SQLite. SQLite finds a numbered parameter's name by walking a list, and sqlx asks for
/// every parameter's name, so a statement of thousands of `$n` costs time quadratic in its
/// binds (a 500-row insert ran at 38,000 rows/s; with `?`, at the engine's speed). Plain `?`
/// are numbered in order of appearance: the binds must follow the text, one per marker.
pub fn marker(sqlite: bool, n: usize) -> String {
    if sqlite {
        "?".to_string()
    } else {
        format!("${n}")
    }
}

/// `count` markers for an `IN (…)` list, numbered from `first`: `?, ?, ?`.
pub fn marker_list(sqlite: bool, first: usize, count: usize) -> String {
    (0..count).map(|i| marker(sqlite, first + i)).collect::<Vec<_>>().join(", ")
}

/// `rows` parenthesised rows of `width` markers, numbered from `first`: `(?, ?), (?, ?)`.
pub fn marker_rows(sqlite: bool, first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (0..width).map(|c| marker(sqlite, first + r * width + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern and wraps it for a substring match.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Serializes, until the transaction ends, the writers that check a per-account quota before
/// they add a row (count, then insert). On PostgreSQL the account's row is locked, so two
/// replicas cannot both see room for one more; on SQLite a write transaction (`BEGIN
/// IMMEDIATE`) already excludes every other writer.
pub async fn lock_account(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(account_id).fetch_optional(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_stay_between_the_first_and_the_last() {
        use super::{page_window, PageWindow};
        let window = |page, pages, offset| PageWindow { page, pages, offset };
        assert_eq!(page_window(1, 0, 50), window(1, 1, 0));
        assert_eq!(page_window(3, 120, 50), window(3, 3, 100));
        assert_eq!(page_window(4, 120, 50), window(3, 3, 100));
        assert_eq!(page_window(i64::MAX, 120, 50), window(3, 3, 100));
        assert_eq!(page_window(i64::MIN, 120, 50), window(1, 3, 0));
        assert_eq!(page_window(2, 100, 50), window(2, 2, 50));
    }

    #[test]
    fn bulk_markers_are_numbered_or_positional() {
        assert_eq!(super::marker_rows(false, 3, 2, 2), "($3, $4), ($5, $6)");
        assert_eq!(super::marker_rows(true, 3, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("Web_01%"), "%web\\_01\\%%");
    }
}
