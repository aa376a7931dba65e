"""The EXECUTE panel of `nexus trade`: run on a pty against the simulator (a real process,
real sockets, a real SQLite risk state) it shows the trading state, AUTO, the day's PnL
against the caps, the loss streak and next size, open positions with TP/SL, the last orders
and the refusals with their reason text; rendered from a real trader whose loss cap latched
it shows HALTED, AUTO off and LIMIT HIT."""

import fcntl
from pathlib import Path
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from decimal import Decimal

from rich.console import Console

from nexus._native import Book
from nexus.instruments import Instrument
from nexus.risk.gate import Gate
from nexus.risk.settings import InstrumentLimits, RiskSettings
from nexus.trade.config import AutoSettings
from nexus.trade.paper import PaperRouter
from nexus.trade.tap import MarketTap
from nexus.trade.trader import AutoTrader
from nexus.view.execute import render

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]")
ROWS, COLS = 40, 120


def _nexus(args, db, **kw):
    env = {**os.environ, "NEXUS_RISK_DB": db}
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, **kw)


def test_trade_on_a_pty_shows_the_execute_panel(tmp_path):
    db = str(tmp_path / "risk.sqlite3")
    listing = Path(__file__).resolve().parents[1] / "fixtures" / "venues" / "binance-perp" / "instruments.json"
    r = _nexus(["risk", "set", "--instrument", "binance-perp:BTCUSDT", "--instruments", str(listing),
                "--max-qty", "0.05", "--max-notional", "10000"], db)
    assert r.returncode == 0, r.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLS), "LINES": str(ROWS), "NEXUS_RISK_DB": db}
    # a cooldown longer than the session: the first signal trades, later entries are refused;
    # TP / SL 500 USDT away: the position stays open, shown with its legs
    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "trade", "--venue", "binance-perp", "--sim", "--auto",
                          "--confirm-caps", "--daily-loss", "1000", "--daily-profit", "900", "--threshold", "50",
                          "--cooldown-ms", "600000", "--tp-ticks", "5000", "--sl-ticks", "5000", "--smart", "--duration", "30"],
                         stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    out = b""
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            rd, _, _ = select.select([master], [], [], 0.2)
            if rd:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
            if p.poll() is not None and not rd:
                break
        assert p.wait(30) == 0, ANSI.sub(b"", out)[-3000:]
    finally:
        if p.poll() is None:
            p.kill()
        os.close(master)
        os.close(slave)
    screen = ANSI.sub(b"", out).decode("utf-8", "replace")
    for shown in ("EXECUTE", "binance-perp BTCUSDT", "sim", "feed LIVE", "state ACTIVE", "AUTO ON", "[SMART]",
                  "loss cap -1000", "profit cap +900", "fees ", "loss streak 0", "next size 0.001 (SMART)",
                  "open positions", "last orders", "last refusals"):
        assert shown in screen, (shown, screen[-3000:])
    # an entry reached the simulator (MARKET, then its TP LIMIT / SL STOP legs) ...
    assert re.search(r"#1 entry market (buy|sell) 0\.001", screen), screen[-3000:]
    assert re.search(r"#1 tp limit (buy|sell) 0\.001 @ \d", screen) and re.search(r"#1 sl stop (buy|sell) 0\.001 @ \d", screen)
    # ... an open position was shown with its signal, TP and SL ...
    assert re.search(r"#1 \w+ (buy|sell) 0\.001 @ [\d.]+  TP [\d.]+  SL [\d.]+", screen), screen[-3000:]
    # ... and a later signal's entry was refused by the cooldown, with the reason's text
    assert "entry" in screen and "COOLDOWN: auto-trade cooldown not elapsed" in screen, screen[-3000:]
    assert "summary  AUTO" in screen


INST = Instrument("binance-perp", "BTCUSDT", "0.1", "0.001", contract_kind="linear", base="BTC", quote="USDT")


def _text(line: dict) -> str:
    c = Console(record=True, width=COLS, force_terminal=False)
    c.print(render({"venue": "binance-perp", "symbol": "BTCUSDT", "mode": "paper", "feed": "LIVE", "t_s": 9, **line}))
    return c.export_text()


def test_panel_after_the_loss_cap_latched_shows_halted_and_limit_hit():
    clock = [1_700_000_000_000_000_000]
    now = lambda: clock[0]  # noqa: E731
    risk = RiskSettings(cooldown_ms=0, max_orders=1000, daily_loss=Decimal("5"), daily_profit=Decimal("1000"))
    gate = Gate(risk, [(INST, InstrumentLimits(INST.venue, INST.symbol, Decimal("1"), Decimal("1000000")))], clock_ns=now)
    book = Book(INST.price_exponent, INST.qty_exponent)
    paper = PaperRouter(INST)
    trader = AutoTrader(AutoSettings(base_qty=Decimal("0.1"), reverse=True), gate, INST, paper, clock_ns=now, session="t")
    paper.sink = trader
    tap = MarketTap(trader, INST, paper)

    def quote(bid, ask):
        book.clear()
        book.set(1, INST.price_to_int(bid), 5_000)
        book.set(2, INST.price_to_int(ask), 5_000)
        tap.on_batch(book, None)

    quote("65000.0", "65000.1")
    trader.enable()
    before = _text(trader.status())
    assert "state ACTIVE" in before and "AUTO ON" in before and "[REVERSE]" in before and "LIMIT HIT" not in before
    assert "loss cap -5" in before and "profit cap +1000" in before
    # REVERSE: a sell signal buys 0.1 at 65000.1; the market falls 100: -10 crosses the 5 cap
    assert trader.on_signal({"venue": "binance-perp", "signal": "absorption", "side": "sell", "confidence": 80})
    clock[0] += 1_000_000
    quote("64900.0", "64900.1")
    after = _text(trader.status())
    assert "state HALTED" in after and "AUTO off" in after and "LIMIT HIT" in after, after
    assert re.search(r"day PnL -\d", after), after
    assert re.search(r"#1 entry market buy 0\.1", after), after
    # a new signal now is skipped (AUTO is off); an order through the gate is refused with its text
    assert trader.on_signal({"venue": "binance-perp", "signal": "absorption", "side": "sell", "confidence": 80}) is None
