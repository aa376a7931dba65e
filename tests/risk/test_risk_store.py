"""The persisted risk state: latch and exact PnL across SIGKILL (real processes), corrupt or
missing state = HALTED with the reason, day rollover, audited reset."""

import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from risk_helpers import INST, seed_store
from nexus.risk.codes import Latch, OrderType, Reason, Side, State
from nexus.risk.gate import Gate
from nexus.risk.store import RiskStore

NS_PER_DAY = 86_400 * 10**9
DAY0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z

CHILD = textwrap.dedent("""
    import sys, time
    from nexus.risk.gate import Gate
    from nexus.risk.codes import Side
    g = Gate.open(sys.argv[1])
    inst = g.instrument("bybit-perp", "BTCUSDT")
    g.touch(inst, 650000, 650001)
    # buy 0.07 in two fills, sell 0.02 at a loss: realised -(cost released, floor division)
    g.on_fill(inst, Side.BUY, 30, 650001)
    g.on_fill(inst, Side.BUY, 40, 650004)
    g.on_fill(inst, Side.SELL, 20, 620000)   # realised about -60: crosses the 50 loss cap
    print("FILLED", g.state.name, g.latch.name, g.day_pnl(), flush=True)
    time.sleep(60)
""")


def test_sigkill_restart_comes_back_halted_with_exact_pnl(db):
    p = subprocess.Popen([sys.executable, "-c", CHILD, db], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    assert line[:3] == ["FILLED", "HALTED", "LOSS"], line
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys, json
        from nexus.risk.gate import Gate
        g = Gate.open(sys.argv[1])
        print(json.dumps(g.snapshot()))
    """), db], capture_output=True, text=True, check=True).stdout
    import json
    snap = json.loads(out)
    cost = 30 * 650001 + 40 * 650004                  # at exponent 4
    released = cost * 20 // 70
    realised = Decimal(20 * 620000 - released).scaleb(-4)
    assert snap["state"] == "HALTED" and snap["limit_hit"] and snap["latch"] == "LOSS"
    assert Decimal(snap["realised"]) == realised
    assert snap["positions"][0]["qty"] == "0.05"
    assert snap["fills"] == 3
    g = Gate.open(db)
    assert g.check(INST, Side.SELL, OrderType.LIMIT, 1, 650000) == Reason.DAILY_LOSS


def test_corrupt_state_file_halts_with_reason(db):
    Gate.open(db).on_fill(INST, Side.BUY, 1, 650000)
    with open(db, "r+b") as f:
        f.write(b"this is not a sqlite database at all" * 4)
    g = Gate.open(db)
    assert g.state == State.HALTED and "unreadable" in g.halt_reason
    assert g.store is None
    assert not g.usable
    assert g.rg.check(3, INST.instrument_id, 1, 1, 1, 0, 0, 0, 0) == Reason.HALTED
    assert g.snapshot()["settings"] is None and g.snapshot()["halt_reason"]


def test_garbage_value_halts_not_zero(db):
    Gate.open(db).on_fill(INST, Side.BUY, 1, 650000)
    import sqlite3
    with sqlite3.connect(db) as c:
        c.execute("UPDATE risk_state SET realised_day = 'twelve'")
    g = Gate.open(db)
    assert g.state == State.HALTED and "unreadable" in g.halt_reason


def test_missing_state_file_when_expected_halts(db):
    os.remove(db)
    g = Gate.open(db)
    assert g.state == State.HALTED and "missing" in g.halt_reason
    assert not os.path.exists(db), "nothing was silently re-created"


def test_day_rollover_resets_pnl_but_not_the_latch(tmp_path):
    url = str(tmp_path / "r.sqlite3")
    seed_store(url, daily_loss="5", now_ns=DAY0)
    now = [DAY0 + 3600 * 10**9]
    g = Gate.open(url, clock_ns=lambda: now[0])
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 100, 650000)
    assert g.on_fill(INST, Side.SELL, 100, 649000) == Decimal("-10.0000")
    assert g.latch == Latch.LOSS and g.day == "2026-01-01"
    now[0] = DAY0 + NS_PER_DAY + 1
    g2 = Gate.open(url, clock_ns=lambda: now[0])
    assert g2.day == "2026-01-02" and g2.day_pnl() == 0
    assert g2.latch == Latch.LOSS and g2.state == State.HALTED
    assert RiskStore(url).state().realised_day == 0
    g2.touch(INST, 649000, 649001)            # today's PnL is 0 at this touch: a reset sticks
    entry = g2.reset("dave", "new day")
    assert not entry["relatched"] and g2.state == State.ACTIVE
    assert g2.check(INST, Side.SELL, OrderType.MARKET, 1, 0, ts_ns=now[0]) == Reason.ACCEPT


def test_day_boundary_configurable():
    from nexus.risk.day import trading_day
    assert trading_day(DAY0 - 1) == "2025-12-31"
    assert trading_day(DAY0 + 21 * 3600 * 10**9, 22 * 60) == "2025-12-31"
    assert trading_day(DAY0 + 22 * 3600 * 10**9, 22 * 60) == "2026-01-01"


@given(st.integers(0, 4_000_000_000 * 10**9), st.integers(0, 24 * 60 - 1))
def test_day_span_holds_exactly_the_instants_of_its_day(now, bmin):
    """The gate checks an order's instant against the cached [start, end) of the day it last saw:
    that span must hold exactly the instants trading_day names that day."""
    from nexus.risk.day import day_span_ns, trading_day
    start, end = day_span_ns(now, bmin)
    assert start <= now < end and end - start == 86_400 * 10**9
    assert trading_day(start, bmin) == trading_day(now, bmin) == trading_day(end - 1, bmin)
    assert trading_day(start - 1, bmin) != trading_day(now, bmin) != trading_day(end, bmin)


def test_gate_rolls_the_day_at_the_boundary_with_the_span_cached(db):
    now = [DAY0 + 10 * 3600 * 10**9]
    g = Gate.open(db, clock_ns=lambda: now[0])
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 100, 650000)
    g.on_fill(INST, Side.SELL, 100, 649000)             # -10 today
    assert g.check(INST, Side.BUY, OrderType.MARKET, 1, 0, ts_ns=now[0]) == Reason.ACCEPT
    assert g.day == "2026-01-01" and g.day_pnl() == Decimal("-10")
    now[0] = DAY0 + 86_400 * 10**9 - 1                  # the day's last instant: same day
    g.check(INST, Side.BUY, OrderType.MARKET, 1, 0, ts_ns=now[0])
    assert g.day == "2026-01-01" and g.day_pnl() == Decimal("-10")
    now[0] += 1                                         # the boundary: a new day, PnL from 0
    g.check(INST, Side.BUY, OrderType.MARKET, 1, 0, ts_ns=now[0])
    assert g.day == "2026-01-02" and g.day_pnl() == 0


def test_reset_is_audited_and_keeps_pnl(db):
    g = Gate.open(db)
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 100, 650000)
    g.on_fill(INST, Side.SELL, 100, 645000)   # -50: exactly the cap, which latches
    assert g.latch == Latch.LOSS
    entry = Gate.open(db).reset("alice", "new session after review")
    # the day's PnL is still past the cap: the reset is recorded and the latch comes back at once
    assert entry["latch_before"] == "LOSS" and entry["relatched"] and entry["state_after"] == "HALTED"
    audit = RiskStore(db).resets()
    assert [(a["who"], a["reason"], a["latch_before"]) for a in audit] == [("alice", "new session after review", "LOSS")]
    g3 = Gate.open(db)
    assert g3.day_pnl() == Decimal("-50")
    assert g3.check(INST, Side.BUY, OrderType.MARKET, 1, 0) == Reason.DAILY_LOSS


def _as_schema_1(db):
    """Rewrite a store as schema 1 wrote it: risk_fills without the fee column."""
    import sqlite3

    c = sqlite3.connect(db)
    cols = "id, ts_ns, day, venue, symbol, side, qty, price, realised, source, tag"
    c.executescript(f"""
        CREATE TABLE risk_fills_v1 (id INTEGER PRIMARY KEY, ts_ns BIGINT NOT NULL, day VARCHAR(10) NOT NULL,
            venue VARCHAR(64) NOT NULL, symbol VARCHAR(64) NOT NULL, side VARCHAR(4) NOT NULL,
            qty VARCHAR(80) NOT NULL, price VARCHAR(80) NOT NULL, realised VARCHAR(80) NOT NULL,
            source VARCHAR(8) NOT NULL, tag VARCHAR(500) NOT NULL);
        INSERT INTO risk_fills_v1 SELECT {cols} FROM risk_fills;
        DROP TABLE risk_fills;
        ALTER TABLE risk_fills_v1 RENAME TO risk_fills;
        UPDATE risk_meta SET schema_version = 1;
    """)
    c.commit()
    cols_now = [r[1] for r in c.execute("PRAGMA table_info(risk_fills)")]
    c.close()
    assert "fee" not in cols_now


def test_fees_are_stored_per_fill_and_a_schema_1_store_is_migrated(db):
    g = Gate.open(db)
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 100, 650000, fee=Decimal("0.26"))
    g.store.close()
    _as_schema_1(db)
    st = RiskStore(db, create=False)            # opening migrates: schema 2, old fills at fee 0
    assert st.settings() is not None
    old = st.fills()
    assert len(old) == 1 and old[0].fee == 0 and old[0].qty == Decimal("0.1")
    st.close()
    g = Gate.open(db)
    assert g.state == State.ACTIVE and g.fills == 1
    realised = g.on_fill(INST, Side.SELL, 100, 651000, fee=Decimal("0.2604"))
    assert realised == Decimal("10.0000")                 # the gate's PnL is before fees
    g.store.close()
    st = RiskStore(db, create=False)
    fees = [f.fee for f in st.fills()]
    st.close()
    assert fees == [Decimal(0), Decimal("0.2604")]
    import sqlite3

    c = sqlite3.connect(db)
    assert c.execute("SELECT schema_version FROM risk_meta").fetchone()[0] == 2
    c.close()
