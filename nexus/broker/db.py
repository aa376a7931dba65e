"""Database access: the connection pool for a URL (SQLite file by default, PostgreSQL by URL), write
transactions with retry on lock conflicts, and the migrations that build the schema.

SQLite: WAL journal, and every transaction starts with BEGIN IMMEDIATE so writers queue for
the lock instead of failing on an upgrade. PostgreSQL: READ COMMITTED with explicit row locks
(`FOR UPDATE`) taken in a fixed order (transaction row, then balances sorted).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sqlite3
import time
from typing import Callable, Iterator, TypeVar
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from nexus.broker import schema as S
from nexus.exceptions import ConfigError

log = logging.getLogger("nexus.broker.db")
T = TypeVar("T")

RETRIES_MAX = 8
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` (psycopg 3 driver), `sqlite:///path`, or a bare path."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(normalize_url(url)).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


DB_FILE_MODE = 0o600  # the ledger, customers and addresses: the owner's only


def create_private(url: str) -> None:
    """Create a new SQLite database file owner-only before SQLite does (it would follow the
    umask, usually 0644; its -wal and -shm files copy the database file's mode). An existing
    file is left as it is; other errors are left for SQLite to report."""
    u = sa.engine.make_url(normalize_url(url))
    path = u.database or ""
    if u.get_backend_name() != "sqlite" or path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DB_FILE_MODE))
    except OSError:
        pass


def make_pool(url: str, *, pool_size: int = 10, read_only: bool = False) -> Engine:
    """SQLAlchemy's Engine (its connection pool and dialect) for `url`, set up per backend.
    `read_only` (`nexus broker audit`): SQLite opened with mode=ro, so a missing file is an
    error instead of a new empty database; PostgreSQL sessions default to read-only."""
    url = normalize_url(url)
    try:
        u = sa.engine.make_url(url)
    except Exception as e:
        raise ConfigError(f"not a database URL: {e}") from None
    if u.get_backend_name() == "sqlite":
        args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        if read_only:
            path = u.database or ""
            if not os.path.isfile(path):
                raise ConfigError(f"no database file at {path or '(none)'}: give the path `nexus broker serve --db` was given")
            pool = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, **args))
        else:
            create_private(url)
            pool = sa.create_engine(url, connect_args=args)

        @event.listens_for(pool, "connect")
        def _connect(dbapi_conn, _rec):  # pragma: no cover - driver glue
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(pool, "begin")
        def _begin(conn):  # pragma: no cover - driver glue
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return pool
    if u.get_backend_name() == "postgresql":
        ro = {"connect_args": {"options": "-c default_transaction_read_only=on"}} if read_only else {}
        return sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **ro)
    raise ConfigError(f"unsupported database {u.get_backend_name()!r}: use a SQLite path or postgresql://")


def describe_error(e: sa.exc.SQLAlchemyError, url: str) -> str:
    """What failed, in the driver's words (never the password), and what to check."""
    orig = getattr(e, "orig", None) or e
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    hint = ("is it a broker database (`nexus broker serve --db` creates one) and readable by this user?"
            if normalize_url(url).startswith("sqlite") else
            "is the server running, the URL (user, host, port, database name) right and the password accepted?")
    return f"database {redact(url)}: {type(orig).__name__}: {reason} ({hint})"


def _retryable(e: Exception) -> bool:
    orig = getattr(e, "orig", None)
    name = type(orig).__name__ if orig is not None else ""
    text = str(orig or e).lower()
    return (
        name in ("DeadlockDetected", "SerializationFailure", "LockNotAvailable")
        or "database is locked" in text
        or "deadlock detected" in text
        or "could not serialize" in text
    )


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, read_only: bool = False) -> None:
        self.url = url
        self.pool = make_pool(url, pool_size=pool_size, read_only=read_only)
        self.dialect = self.pool.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.pool.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.pool.connect() as conn:
            yield conn
            conn.rollback()

    def run(self, fn: Callable[[Connection], T], *, retry_integrity: bool = False) -> T:
        """Run `fn` in one write transaction, retrying on lock conflicts (and, when asked, on
        unique violations a concurrent writer may cause)."""
        for attempt in range(RETRIES_MAX):
            try:
                with self.pool.begin() as conn:
                    return fn(conn)
            except sa.exc.IntegrityError:
                if not retry_integrity or attempt == RETRIES_MAX - 1:
                    raise
            except sa.exc.OperationalError as e:
                if not _retryable(e) or attempt == RETRIES_MAX - 1:
                    raise
            except sa.exc.DBAPIError as e:
                if not _retryable(e) or attempt == RETRIES_MAX - 1:
                    raise
            time.sleep(random.uniform(0.001, 0.02) * (attempt + 1))
        raise AssertionError("unreachable")

    def for_update(self, stmt):
        """`SELECT ... FOR UPDATE` on PostgreSQL; SQLite already holds the write lock."""
        return stmt.with_for_update() if self.is_postgres else stmt

    def dispose(self) -> None:
        self.pool.dispose()


# -- migrations ---------------------------------------------------------------------------


def _m1_initial(conn: Connection) -> None:
    tables = [t for t in S.metadata.sorted_tables if t.name != "schema_migrations"]
    S.metadata.create_all(conn, tables=tables)
    conn.execute(
        S.payment_methods.insert(),
        [{"code": "sepa", "fiat": "EUR", "quote_window_s": 15 * 60, "fee_rate": "0.01", "fee_fixed": 0, "callback_url": None}],
    )
    conn.execute(S.crypto_settings.insert(), [{"crypto": "ETH", "send_delay_s": 0}, {"crypto": "USDT", "send_delay_s": 0}])
    conn.execute(S.counters.insert(), [{"name": "hd_index", "value": 0}])


# (version, name, function). Append only; never edit an applied migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "initial schema, sepa payment method, crypto settings", _m1_initial),
]


def migrate(db: Database, now_us: int) -> list[int]:
    """Apply pending migrations in order, each in its own transaction. Returns versions applied."""
    S.schema_migrations.create(db.pool, checkfirst=True)
    applied: list[int] = []
    for version, name, fn in MIGRATIONS:

        def step(conn: Connection) -> bool:
            if db.is_postgres:  # one migrator at a time
                conn.exec_driver_sql("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            done = conn.execute(sa.select(S.schema_migrations.c.version).where(S.schema_migrations.c.version == version)).first()
            if done:
                return False
            fn(conn)
            conn.execute(S.schema_migrations.insert().values(version=version, name=name, applied_at_us=now_us))
            return True

        if db.run(step):
            applied.append(version)
    return applied


def schema_version(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.max(S.schema_migrations.c.version))).scalar() or 0
