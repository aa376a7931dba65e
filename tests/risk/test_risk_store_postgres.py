"""The same persisted state on PostgreSQL (`--db postgresql://...`): latch and exact PnL
survive a new process, reset is audited."""

import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

from risk_helpers import INST, seed_store
from nexus.risk.codes import Latch, Side, State
from nexus.risk.gate import Gate
from nexus.risk.store import RiskStore

pytestmark = pytest.mark.postgres


def test_latch_and_pnl_survive_on_postgresql(pg_url):
    seed_store(pg_url)
    g = Gate.open(pg_url)
    g.touch(INST, 650000, 650001)
    g.on_fill(INST, Side.BUY, 70, 650003)
    g.on_fill(INST, Side.SELL, 30, 640000)   # -30.009 realised
    g.touch(INST, 640000, 640001)            # -40.012 unrealised: past the 50 cap
    assert g.latch == Latch.LOSS
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from nexus.risk.gate import Gate
        g = Gate.open(sys.argv[1])
        print(g.state.name, g.latch.name, g.snapshot()["realised"])
    """), pg_url], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["HALTED", "LOSS"]
    assert Decimal(out[2]) == Decimal(30 * 640000 - 30 * 650003).scaleb(-4)
    Gate.open(pg_url).reset("carol", "checked")
    assert RiskStore(pg_url).resets()[0]["who"] == "carol"
    g2 = Gate.open(pg_url)  # the day's PnL is still past the cap: it latches again at once
    assert (g2.state, g2.latch) == (State.HALTED, Latch.LOSS)
