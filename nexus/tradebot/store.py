"""The Tradebot's tables, in the broker's database (SQLAlchemy Core; SQLite by default).

Only `tradebot_*` tables are created or touched here, so the Tradebot can share the broker's
database without owning any of its schema. Amounts are stored as decimal strings: exact on every
backend (SQLite has no exact decimal type), and read back into `Decimal`.

- `tradebot_settings`: one row per crypto (see `settings.CryptoSettings`).
- `tradebot_audit`: one row per scheduled run: the snapshot the decision saw (inputs), its
  status, reasons, unbalanced flag, decided actions and notes, and the outcome of executing
  them (per-action results), or the error that prevented a decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexus.tradebot.settings import AMOUNT_FIELDS, NAME_CHARS_MAX, CryptoSettings, validated

AMOUNT_CHARS_MAX = 80  # a sign, 30 + 30 digits and a point fit well within

metadata = sa.MetaData()

tradebot_settings = sa.Table(
    "tradebot_settings",
    metadata,
    sa.Column("crypto", sa.String(NAME_CHARS_MAX), primary_key=True),
    sa.Column("exchange", sa.String(NAME_CHARS_MAX), nullable=False),
    sa.Column("currency", sa.String(NAME_CHARS_MAX), nullable=False),
    *[sa.Column(name, sa.String(AMOUNT_CHARS_MAX), nullable=False) for name in AMOUNT_FIELDS],
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
)

# Outcomes of one run, as stored in tradebot_audit.outcome.
OUTCOMES = ("skipped", "no_action", "executed", "dry_run", "failed", "error")

tradebot_audit = sa.Table(
    "tradebot_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crypto", sa.String(NAME_CHARS_MAX), nullable=False, index=True),
    sa.Column("started_at_ns", sa.BigInteger, nullable=False),
    sa.Column("finished_at_ns", sa.BigInteger, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=True),  # JSON, the decide schema; null on error
    sa.Column("status", sa.String(16), nullable=True),  # ok | skipped; null on error
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list of guard names
    sa.Column("unbalanced", sa.Boolean, nullable=True),
    sa.Column("actions", sa.Text, nullable=False),  # JSON list of decided {action, amount}
    sa.Column("notes", sa.Text, nullable=False),  # JSON list: why a holding rule emitted nothing
    sa.Column("outcome", sa.String(16), nullable=False),  # one of OUTCOMES
    sa.Column("results", sa.Text, nullable=False),  # JSON list: per action {ok, ref | error}
    sa.Column("error", sa.Text, nullable=True),
)


def normalize_url(url: str) -> str:
    """The broker's URL forms: a bare path is a SQLite file; postgres:// and postgresql:// use
    the psycopg 3 driver."""
    if "://" not in url:
        return f"sqlite:///{url}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def open_db(url: str, create: bool = True) -> Engine:
    """A connection pool (SQLAlchemy Engine) for `url`, with the tradebot tables created if missing."""
    url = normalize_url(url)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Scheduler runs use worker threads; an in-memory database must be one shared connection.
        kwargs["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool
        from nexus.broker.db import create_private

        create_private(url)  # the broker's database: owner-only when this creates it
    pool = sa.create_engine(url, **kwargs)
    if create:
        metadata.create_all(pool)
    return pool


class SettingsStore:
    def __init__(self, pool: Engine) -> None:
        self.pool = pool

    def get(self, crypto: str) -> CryptoSettings | None:
        with self.pool.connect() as conn:
            row = conn.execute(sa.select(tradebot_settings).where(tradebot_settings.c.crypto == crypto)).first()
        return None if row is None else _settings_from_row(row._mapping)

    def all(self) -> list[CryptoSettings]:
        with self.pool.connect() as conn:
            rows = conn.execute(sa.select(tradebot_settings).order_by(tradebot_settings.c.crypto)).all()
        return [_settings_from_row(r._mapping) for r in rows]

    def active(self) -> list[CryptoSettings]:
        return [s for s in self.all() if s.active]

    def put(self, s: CryptoSettings, now_ns: int) -> CryptoSettings:
        """Insert or replace, after validation (SettingsRefused for the seed's bad parameters)."""
        validated(s)
        row = {
            "crypto": s.crypto,
            "exchange": s.exchange,
            "currency": s.currency,
            **{name: format(getattr(s, name), "f") for name in AMOUNT_FIELDS},
            "active": s.active,
            "updated_at_ns": now_ns,
        }
        with self.pool.begin() as conn:
            done = conn.execute(
                sa.update(tradebot_settings).where(tradebot_settings.c.crypto == s.crypto).values(**row)
            ).rowcount
            if not done:
                conn.execute(sa.insert(tradebot_settings).values(**row))
        return s


def _settings_from_row(m: Any) -> CryptoSettings:
    return CryptoSettings(
        crypto=m["crypto"],
        exchange=m["exchange"],
        currency=m["currency"],
        **{name: Decimal(m[name]) for name in AMOUNT_FIELDS},
        active=bool(m["active"]),
    )


@dataclass
class AuditEntry:
    crypto: str
    started_at_ns: int
    finished_at_ns: int
    outcome: str
    snapshot: dict[str, Any] | None = None
    status: str | None = None
    reasons: list[str] = field(default_factory=list)
    unbalanced: bool | None = None
    actions: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        assert self.outcome in OUTCOMES, self.outcome

    def to_obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "crypto": self.crypto,
            "started_at_ns": self.started_at_ns,
            "finished_at_ns": self.finished_at_ns,
            "outcome": self.outcome,
            "status": self.status,
            "reasons": self.reasons,
            "unbalanced": self.unbalanced,
            "actions": self.actions,
            "results": self.results,
            "notes": self.notes,
            "error": self.error,
            "snapshot": self.snapshot,
        }


class AuditLog:
    def __init__(self, pool: Engine) -> None:
        self.pool = pool

    def record(self, e: AuditEntry) -> int:
        with self.pool.begin() as conn:
            result = conn.execute(
                sa.insert(tradebot_audit).values(
                    crypto=e.crypto,
                    started_at_ns=e.started_at_ns,
                    finished_at_ns=e.finished_at_ns,
                    snapshot=None if e.snapshot is None else json.dumps(e.snapshot),
                    status=e.status,
                    reasons=json.dumps(e.reasons),
                    unbalanced=e.unbalanced,
                    actions=json.dumps(e.actions),
                    notes=json.dumps(e.notes),
                    outcome=e.outcome,
                    results=json.dumps(e.results),
                    error=e.error,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            e.id = int(key[0])
        return e.id

    def entries(self, crypto: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The last `limit` entries (optionally of one crypto), oldest first."""
        q = sa.select(tradebot_audit).order_by(tradebot_audit.c.id.desc()).limit(limit)
        if crypto is not None:
            q = q.where(tradebot_audit.c.crypto == crypto)
        with self.pool.connect() as conn:
            rows = conn.execute(q).all()
        return [_entry_from_row(r._mapping) for r in reversed(rows)]


def _entry_from_row(m: Any) -> AuditEntry:
    return AuditEntry(
        id=m["id"],
        crypto=m["crypto"],
        started_at_ns=m["started_at_ns"],
        finished_at_ns=m["finished_at_ns"],
        outcome=m["outcome"],
        snapshot=None if m["snapshot"] is None else json.loads(m["snapshot"]),
        status=m["status"],
        reasons=json.loads(m["reasons"]),
        unbalanced=m["unbalanced"],
        actions=json.loads(m["actions"]),
        notes=json.loads(m["notes"]),
        results=json.loads(m["results"]),
        error=m["error"],
    )
