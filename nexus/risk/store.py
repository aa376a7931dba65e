"""The risk gate's persisted state: settings, per-symbol limits, the day's PnL, positions, the
trading state and the LIMIT HIT latch, every fill, and an audit table of resets.

SQLite file by default (`default_url()`, under the user's data directory; synchronous=FULL:
a committed fill survives SIGKILL and power loss), PostgreSQL with `postgresql://...`
(SQLAlchemy Core, as the broker). Money and quantities are exact decimal strings.

A store that was expected and is missing, unreadable, fails SQLite's quick_check, or holds a
value that does not parse raises `RiskStateError`: the gate then refuses to trade (HALTED with
the reason); nothing is ever silently reset to zero. "Expected" for a SQLite file: a marker
file `<db>.expected` written when the store was created.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from nexus.broker.db import make_pool, normalize_url, redact
from nexus.exceptions import NexusError
from nexus.risk.codes import Latch, State
from nexus.risk.settings import RiskSettings, settings_from_obj

SCHEMA_VERSION = 2        # 2: risk_fills.fee (a store at 1 is migrated when opened)
NAME_CHARS_MAX = 64
AMOUNT_CHARS_MAX = 80
TEXT_CHARS_MAX = 500   # reset reasons, halt reasons, signal tags
MARKER_SUFFIX = ".expected"
DB_FILE = "risk.sqlite3"


class RiskStateError(NexusError):
    """The persisted risk state is missing where expected, unreadable or inconsistent."""


def data_dir() -> Path:
    """$NEXUS_DATA_DIR, else $XDG_DATA_HOME/nexus, else ~/.local/share/nexus."""
    if os.environ.get("NEXUS_DATA_DIR"):
        return Path(os.environ["NEXUS_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nexus"


def default_url() -> str:
    return str(data_dir() / DB_FILE)


metadata = sa.MetaData()
_amount = lambda name, nullable=False: sa.Column(name, sa.String(AMOUNT_CHARS_MAX), nullable=nullable)  # noqa: E731

risk_meta = sa.Table(
    "risk_meta", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("created_at_ns", sa.BigInteger, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON of RiskSettings.to_obj()
)
risk_limits = sa.Table(
    "risk_limits", metadata,
    sa.Column("venue", sa.String(NAME_CHARS_MAX), primary_key=True),
    sa.Column("symbol", sa.String(NAME_CHARS_MAX), primary_key=True),
    sa.Column("tick_size", sa.String(AMOUNT_CHARS_MAX), nullable=False),
    sa.Column("lot_size", sa.String(AMOUNT_CHARS_MAX), nullable=False),
    sa.Column("contract_value", sa.String(AMOUNT_CHARS_MAX), nullable=False),
    sa.Column("contract_kind", sa.String(16), nullable=False),
    sa.Column("quote", sa.String(NAME_CHARS_MAX), nullable=False),
    sa.Column("price_exponent", sa.Integer, nullable=False),
    sa.Column("qty_exponent", sa.Integer, nullable=False),
    _amount("max_qty"),
    _amount("max_notional"),
)
risk_state = sa.Table(
    "risk_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),
    _amount("realised_day"),
    _amount("upnl_day_start"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("latch", sa.String(16), nullable=False),
    sa.Column("halt_reason", sa.String(TEXT_CHARS_MAX), nullable=True),
    sa.Column("fills", sa.BigInteger, nullable=False),
    sa.Column("updated_at_ns", sa.BigInteger, nullable=False),
)
risk_positions = sa.Table(
    "risk_positions", metadata,
    sa.Column("venue", sa.String(NAME_CHARS_MAX), primary_key=True),
    sa.Column("symbol", sa.String(NAME_CHARS_MAX), primary_key=True),
    _amount("qty"), _amount("cost"), _amount("bid", True), _amount("ask", True),
)
risk_fills = sa.Table(
    "risk_fills", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts_ns", sa.BigInteger, nullable=False),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("venue", sa.String(NAME_CHARS_MAX), nullable=False),
    sa.Column("symbol", sa.String(NAME_CHARS_MAX), nullable=False),
    sa.Column("side", sa.String(4), nullable=False),
    _amount("qty"), _amount("price"), _amount("realised"),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("tag", sa.String(TEXT_CHARS_MAX), nullable=False),  # the signal that opened it
    sa.Column("fee", sa.String(AMOUNT_CHARS_MAX), nullable=False, server_default="0"),  # quote currency, paid > 0
)
risk_resets = sa.Table(
    "risk_resets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_ns", sa.BigInteger, nullable=False),
    sa.Column("who", sa.String(NAME_CHARS_MAX), nullable=False),
    sa.Column("reason", sa.String(TEXT_CHARS_MAX), nullable=False),
    sa.Column("latch_before", sa.String(16), nullable=False),
    sa.Column("state_before", sa.String(16), nullable=False),
    sa.Column("state_after", sa.String(16), nullable=False),
    _amount("day_pnl_before", True),
    sa.Column("halt_reason_before", sa.String(TEXT_CHARS_MAX), nullable=True),
)


@dataclass
class DayState:
    day: str
    realised_day: Decimal
    upnl_day_start: Decimal
    state: State
    latch: Latch
    halt_reason: str | None
    fills: int
    updated_at_ns: int


@dataclass(frozen=True)
class PositionRow:
    venue: str
    symbol: str
    qty: Decimal
    cost: Decimal
    bid: Decimal | None
    ask: Decimal | None


@dataclass(frozen=True)
class FillRow:
    ts_ns: int
    day: str
    venue: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    realised: Decimal
    source: str
    tag: str
    fee: Decimal = Decimal(0)     # what the venue charged for this fill, in the quote currency (a rebate < 0)


def _sqlite_path(url: str) -> Path | None:
    u = sa.engine.make_url(normalize_url(url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _dec(v: Any, name: str) -> Decimal:
    d = Decimal(v)  # InvalidOperation on garbage: reported as unreadable state
    if not d.is_finite():
        raise ValueError(f"{name} {v!r} is not finite")
    return d


class RiskStore:
    """Open (or, when none was expected, create) the risk state at `url`."""

    def __init__(self, url: str | None = None, *, now_ns: int | None = None, create: bool = True) -> None:
        self.url = url or default_url()
        self.where = redact(self.url)
        path = _sqlite_path(self.url)
        marker = Path(str(path) + MARKER_SUFFIX) if path else None
        if path is not None and not path.exists():
            if marker is not None and marker.exists():
                raise RiskStateError(f"risk state {path} is missing (expected since "
                                     f"{marker.read_text().strip() or 'an earlier run'}); refusing to start from zero")
            if not create:
                raise RiskStateError(f"no risk state at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.pool: Engine = make_pool(self.url, pool_size=2)
        except NexusError as e:
            raise RiskStateError(f"risk state {self.where}: {e}") from None
        if path is not None:
            @event.listens_for(self.pool, "connect")
            def _full(dbapi_conn, _rec):  # pragma: no cover - driver glue
                dbapi_conn.execute("PRAGMA synchronous=FULL")
        try:
            self._open(now_ns if now_ns is not None else time.time_ns(), create and not (marker and marker.exists()))
        except RiskStateError:
            self.pool.dispose()
            raise
        except Exception as e:  # sqlite "file is not a database", malformed values, ...
            self.pool.dispose()
            cause = getattr(e, "orig", None) or e
            raise RiskStateError(f"risk state {self.where} is unreadable: {type(cause).__name__}: {cause}") from None
        if marker is not None and not marker.exists():
            marker.write_text(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")

    def _open(self, now_ns: int, may_create: bool) -> None:
        with self.pool.connect() as conn:
            if self.pool.dialect.name == "sqlite":
                res = conn.exec_driver_sql("PRAGMA quick_check").scalar()
                if res != "ok":
                    raise RiskStateError(f"risk state {self.where} failed SQLite's quick_check: {res}")
            have = set(sa.inspect(conn).get_table_names())
            conn.rollback()
        ours = {t.name for t in metadata.sorted_tables}
        if not have & ours:
            if not may_create:
                raise RiskStateError(f"risk state {self.where} has no risk tables (expected an existing state)")
            metadata.create_all(self.pool)
            with self.pool.begin() as conn:
                conn.execute(sa.insert(risk_meta).values(id=1, schema_version=SCHEMA_VERSION, created_at_ns=now_ns,
                                                         settings=_json(RiskSettings().to_obj())))
                conn.execute(sa.insert(risk_state).values(
                    id=1, day="", realised_day="0", upnl_day_start="0", state=State.ACTIVE.name,
                    latch=Latch.NONE.name, halt_reason=None, fills=0, updated_at_ns=now_ns))
            return
        if ours - have:
            raise RiskStateError(f"risk state {self.where} lacks tables {sorted(ours - have)}")
        self._migrate()
        self.settings()  # every value must parse, or the state is refused as a whole
        self.state()
        self.limits()
        self.positions()

    def _migrate(self) -> None:
        """Bring an older store to SCHEMA_VERSION in one transaction. 1 -> 2: `risk_fills.fee`
        (fills recorded before it carry fee 0: their fees were not known)."""
        with self.pool.begin() as conn:
            row = conn.execute(sa.select(risk_meta.c.schema_version).where(risk_meta.c.id == 1)).first()
            version = None if row is None else row[0]
            if version == 1:
                cols = {c["name"] for c in sa.inspect(conn).get_columns("risk_fills")}
                if "fee" not in cols:
                    conn.exec_driver_sql(f"ALTER TABLE risk_fills ADD COLUMN fee VARCHAR({AMOUNT_CHARS_MAX}) NOT NULL DEFAULT '0'")
                conn.execute(sa.update(risk_meta).where(risk_meta.c.id == 1).values(schema_version=2))

    # -- reads -------------------------------------------------------------------------
    def _one(self, table: sa.Table) -> Any:
        with self.pool.connect() as conn:
            rows = conn.execute(sa.select(table)).all()
        if len(rows) != 1:
            raise RiskStateError(f"risk state {self.where}: {table.name} holds {len(rows)} rows, expected 1")
        return rows[0]._mapping

    def settings(self) -> RiskSettings:
        import json

        m = self._one(risk_meta)
        if m["schema_version"] != SCHEMA_VERSION:
            raise RiskStateError(f"risk state {self.where}: schema {m['schema_version']}, expected {SCHEMA_VERSION}")
        return settings_from_obj(json.loads(m["settings"]))

    def state(self) -> DayState:
        m = self._one(risk_state)
        return DayState(day=m["day"], realised_day=_dec(m["realised_day"], "realised_day"),
                        upnl_day_start=_dec(m["upnl_day_start"], "upnl_day_start"), state=State[m["state"]],
                        latch=Latch[m["latch"]], halt_reason=m["halt_reason"], fills=int(m["fills"]),
                        updated_at_ns=int(m["updated_at_ns"]))

    def limits(self) -> list[dict[str, Any]]:
        with self.pool.connect() as conn:
            rows = conn.execute(sa.select(risk_limits).order_by(risk_limits.c.venue, risk_limits.c.symbol)).all()
        out = [dict(r._mapping) for r in rows]
        for r in out:
            r["max_qty"], r["max_notional"] = _dec(r["max_qty"], "max_qty"), _dec(r["max_notional"], "max_notional")
        return out

    def positions(self) -> list[PositionRow]:
        with self.pool.connect() as conn:
            rows = conn.execute(sa.select(risk_positions)).all()
        return [PositionRow(r.venue, r.symbol, _dec(r.qty, "qty"), _dec(r.cost, "cost"),
                            None if r.bid is None else _dec(r.bid, "bid"), None if r.ask is None else _dec(r.ask, "ask"))
                for r in rows]

    def fills(self, since_ns: int = 0) -> list[FillRow]:
        with self.pool.connect() as conn:
            rows = conn.execute(sa.select(risk_fills).where(risk_fills.c.ts_ns >= since_ns).order_by(risk_fills.c.id)).all()
        return [FillRow(r.ts_ns, r.day, r.venue, r.symbol, r.side, Decimal(r.qty), Decimal(r.price),
                        Decimal(r.realised), r.source, r.tag, Decimal(r.fee)) for r in rows]

    def resets(self) -> list[dict[str, Any]]:
        with self.pool.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(risk_resets).order_by(risk_resets.c.id)).all()]

    # -- writes (each one transaction) ---------------------------------------------------
    def put_settings(self, s: RiskSettings) -> None:
        with self.pool.begin() as conn:
            conn.execute(sa.update(risk_meta).where(risk_meta.c.id == 1).values(settings=_json(s.to_obj())))

    def put_limits(self, row: dict[str, Any]) -> None:
        values = {**row, "max_qty": str(row["max_qty"]), "max_notional": str(row["max_notional"])}
        key = (risk_limits.c.venue == row["venue"]) & (risk_limits.c.symbol == row["symbol"])
        with self.pool.begin() as conn:
            if not conn.execute(sa.update(risk_limits).where(key).values(**values)).rowcount:
                conn.execute(sa.insert(risk_limits).values(**values))

    def put_state(self, st: DayState, conn: Connection | None = None, positions: list[PositionRow] = ()) -> None:
        """The day's state (and, when given, positions with their last touch)."""
        if conn is None:
            with self.pool.begin() as c:
                return self.put_state(st, c, positions)
        for pos in positions:
            self._put_position(conn, pos)
        conn.execute(sa.update(risk_state).where(risk_state.c.id == 1).values(
            day=st.day, realised_day=str(st.realised_day), upnl_day_start=str(st.upnl_day_start),
            state=st.state.name, latch=st.latch.name, halt_reason=st.halt_reason, fills=st.fills,
            updated_at_ns=st.updated_at_ns))

    def record_fill(self, fill: FillRow, pos: PositionRow, st: DayState) -> None:
        """The fill, the position it leaves and the day's state, in one transaction."""
        with self.pool.begin() as conn:
            conn.execute(sa.insert(risk_fills).values(
                ts_ns=fill.ts_ns, day=fill.day, venue=fill.venue, symbol=fill.symbol, side=fill.side,
                qty=str(fill.qty), price=str(fill.price), realised=str(fill.realised), source=fill.source,
                tag=fill.tag[:TEXT_CHARS_MAX], fee=str(fill.fee)))
            self._put_position(conn, pos)
            self.put_state(st, conn)

    def add_fee(self, tag: str, fee: Decimal) -> bool:
        """Add a fee the venue itemised after the fill was recorded (Binance USD-M answers a
        MARKET order with its average only; the per-fill commission follows on the private
        stream) to the latest fill of the trade `tag`. False when there is no such fill."""
        with self.pool.begin() as conn:
            row = conn.execute(sa.select(risk_fills.c.id, risk_fills.c.fee).where(risk_fills.c.tag == tag[:TEXT_CHARS_MAX])
                               .order_by(risk_fills.c.id.desc()).limit(1)).first()
            if row is None:
                return False
            conn.execute(sa.update(risk_fills).where(risk_fills.c.id == row.id).values(fee=str(Decimal(row.fee) + fee)))
            return True

    @staticmethod
    def _put_position(conn: Connection, pos: PositionRow) -> None:
        key = (risk_positions.c.venue == pos.venue) & (risk_positions.c.symbol == pos.symbol)
        values = {"qty": str(pos.qty), "cost": str(pos.cost), "bid": _opt(pos.bid), "ask": _opt(pos.ask)}
        if not conn.execute(sa.update(risk_positions).where(key).values(**values)).rowcount:
            conn.execute(sa.insert(risk_positions).values(venue=pos.venue, symbol=pos.symbol, **values))

    def record_reset(self, who: str, reason: str, before: DayState, day_pnl: Decimal | None, after: DayState) -> None:
        with self.pool.begin() as conn:
            conn.execute(sa.insert(risk_resets).values(
                at_ns=after.updated_at_ns, who=who[:NAME_CHARS_MAX], reason=reason[:TEXT_CHARS_MAX],
                latch_before=before.latch.name, state_before=before.state.name, state_after=after.state.name,
                day_pnl_before=_opt(day_pnl), halt_reason_before=before.halt_reason))
            self.put_state(after, conn)

    def close(self) -> None:
        self.pool.dispose()


def _opt(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, sort_keys=True)


def move_aside(url: str, now_ns: int) -> Path | None:
    """Rename an unreadable SQLite state (and its marker, WAL and SHM files) to
    `<db>.corrupt-<ns>` so a new one can be created; the old file is kept for inspection."""
    path = _sqlite_path(url)
    if path is None:
        return None
    dest = Path(f"{path}.corrupt-{now_ns}")
    if path.exists():
        path.rename(dest)
    for suffix in ("-wal", "-shm", MARKER_SUFFIX):
        p = Path(str(path) + suffix)
        if p.exists():
            p.rename(Path(str(dest) + suffix))
    return dest
