"""The view at the size of a small terminal (80x24) and a larger one (120x40), rendered from
real simulator data the way a terminal shows it (rich's Screen: exactly the console's height,
anything taller cut off), read back as text.

The 80x24 assertions are the defects of issue 16 item 10: prices cut (`6499…`), names cut, only
the asks shown, no spread/mid row, signals dropped, a tape without times."""

import io
import re
from decimal import Decimal

from rich.console import Console
from rich.screen import Screen

from nexus.view import CONSENSUS, LadderRow, ViewModel, render
from nexus.view.layout import GUTTER, clock

from tests.view.conftest import FIVE, SEVEN

TIME_MS = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$")


def screen(vm: ViewModel, width: int, height: int, depth: int = 30) -> list[str]:
    c = Console(record=True, width=width, height=height, color_system="truecolor", file=io.StringIO())
    c.print(Screen(render(vm, depth)))
    lines = c.export_text().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assert len(lines) == height
    return lines


def split(lines: list[str]) -> tuple[list[str], list[str], int]:
    """The ladder (left of the gutter) and the right column, from the ladder's header down."""
    head = next(i for i, ln in enumerate(lines) if GUTTER in ln and ln.split(GUTTER)[0].split() == ["price", "size"]
                or GUTTER in ln and ln.split(GUTTER)[0].split()[:3] == ["price", "size", "depth"])
    body = lines[head:]
    return [ln.split(GUTTER)[0] for ln in body], [ln.split(GUTTER, 1)[1] if GUTTER in ln else "" for ln in body], head


def ladder_of(left: list[str]) -> tuple[list[str], str, list[str]]:
    """(ask prices top to bottom, the mid row, bid prices top to bottom) as displayed."""
    mid = next(i for i, ln in enumerate(left) if ln.strip().startswith("mid "))
    asks = [ln.split()[0] for ln in left[1:mid] if ln.strip()]
    bids = [ln.split()[0] for ln in left[mid + 1:] if ln.strip()]
    return asks, left[mid].strip(), bids


def check_book(vm: ViewModel, levels: dict[str, set[str]], lines: list[str]) -> int:
    """Every displayed price is whole and a real level of its side, asks above bids, best next
    to the mid row, the mid/spread exact. Returns the levels shown a side."""
    text = "\n".join(lines)
    assert "…" not in text and "..." not in text
    left, _, _ = split(lines)
    asks, mid, bids = ladder_of(left)
    assert asks and bids, "both sides of the book on screen"
    assert len(asks) == len(bids)
    for p in asks:
        assert p in levels["ask"], p
    for p in bids:
        assert p in levels["bid"], p
    assert asks == [r.price for r in vm.asks[: len(asks)]][::-1]
    assert bids == [r.price for r in vm.bids[: len(bids)]]
    a, b = Decimal(asks[-1]), Decimal(bids[0])
    m = re.fullmatch(r"mid (\S+) · (spread|CROSSED) (\S+)", mid)
    assert m, mid
    assert Decimal(m.group(1)) == (a + b) / 2 and Decimal(m.group(3)) == a - b
    assert (m.group(2) == "spread") == (a > b)
    return len(asks)


def check_tape_and_signals(vm: ViewModel, lines: list[str]) -> None:
    _, right, _ = split(lines)
    head = next(i for i, ln in enumerate(right) if ln.startswith("trades (UTC)"))
    rows = []
    for ln in right[head + 1:]:
        if not ln.strip() or not TIME_MS.match(ln.split()[0]):
            break
        rows.append(ln.split())
    assert rows, "the tape shows trades"
    newest = vm.tape[-1]
    assert rows[0][0] == clock(newest["ts"]) and newest["price"] in rows[0] and newest["size"] in rows[0]
    if vm.signals:
        sig = next(i for i, ln in enumerate(right) if ln.split()[:2] in (["signals", "type"], ["type", "venue"]))
        latest = vm.signals[-1]
        row = right[sig + 1].split()
        assert latest["signal"] in row and latest["price"] in row and f"{latest['confidence']}%" in row, row


def venue_rows(lines: list[str], names: list[str]) -> dict[str, str]:
    """Each venue's line of the venue table, found by its full name as a word."""
    out = {}
    for v in names:
        hits = [ln for ln in lines if re.search(rf"(^|\s){re.escape(v)}(\s|$)", ln.split(GUTTER)[0])]
        assert hits, f"{v} not shown whole"
        out[v] = hits[0]
    return out


def test_80x24_single_venue_books_of_seven_venues(seven):
    for venue in SEVEN:
        vm, levels = seven["views"][venue]
        lines = screen(vm, 80, 24)
        assert all(len(ln) <= 80 for ln in lines)
        assert check_book(vm, levels, lines) >= 5
        rows = venue_rows(lines[2:2 + len(SEVEN)], SEVEN)
        assert rows[venue].lstrip().startswith("▸")
        for v, ln in rows.items():
            s = vm.venues[v]
            assert s["state"] in ln.split()
            assert s["best_bid"] in ln.split() and s["best_ask"] in ln.split()
        check_tape_and_signals(vm, lines)
        assert f"book {venue}" in lines[0]


def test_signals_section_at_80x24_when_signals_exist(seven, agg_run):
    with_signals = [vm for run in (seven, agg_run) for vm, _ in run["views"].values() if vm.signals]
    assert with_signals, "no signal in 60 simulated seconds"
    for vm in with_signals:
        check_tape_and_signals(vm, screen(vm, 80, 24))


def test_80x24_agg_consensus_metrics_and_alerts(agg_run):
    vm, levels = agg_run["views"][CONSENSUS]
    lines = screen(vm, 80, 24)
    check_book(vm, levels, lines)
    # the default five mix spot and perpetuals: "auto" merges the four perpetuals, spot keeps its row
    outside = vm.agg.get("outside", [])
    assert outside == ["binance-spot"] and vm.agg["scope"] == "perps"
    assert "consensus" in lines[0] and "live 4/4" in lines[0], lines[0]
    header = lines[1].split()
    for col in ("msgs/s", "µs", "spread", "depth%"):
        assert col in header
    rows = venue_rows(lines[2:2 + len(FIVE)], FIVE)
    metrics = vm.agg["venue_metrics"]
    for v, ln in rows.items():
        if v in outside:            # read and shown, not merged: no consensus metrics
            assert v not in metrics
            continue
        m = metrics[v]
        assert m["spread"] in ln.split()
        assert f"{Decimal(m['depth_share']) * 100:.1f}%" in ln.split()
    diverged = [a for a in vm.alerts if " divergence okx-swap " in a]
    assert diverged, vm.alerts
    _, right, _ = split(lines)
    at = right.index(next(ln for ln in right if ln.strip() == "alerts"))
    assert any("divergence okx-swap" in ln for ln in right[at + 1:])
    # while okx-swap diverges, its line says so
    if metrics["okx-swap"]["diverged"]:
        assert "diverged" in rows["okx-swap"]


def test_120x40_shows_more_levels_and_the_depth_bars(seven, agg_run):
    for run in (seven, agg_run):
        for vm, levels in run["views"].values():
            small = check_book(vm, levels, screen(vm, 80, 24))
            big_lines = screen(vm, 120, 40)
            big = check_book(vm, levels, big_lines)
            assert big > small
            assert "█" in "\n".join(big_lines)


def test_a_long_price_and_a_tiny_terminal_cut_columns_not_digits():
    """Prices as wide as a real book can hold (a 1e-8 tick) stay whole: columns give way."""
    asks = [LadderRow(f"0.0000{i}1234567", "123456789.123") for i in range(5, 9)]
    bids = [LadderRow(f"0.0000{i}1234567", "0.00000001") for i in range(4, 0, -1)]
    tape = [{"venue": "binance-spot", "side": "buy", "price": "0.000051234567", "size": "98765432.1", "ts": 10**18}]
    sigs = [{"venue": "binance-spot", "signal": "smart_money", "side": "sell", "price": "0.000041234567",
             "confidence": 88, "ts_exchange_ns": 10**18}]
    vm = ViewModel("nexus run PEPEUSDT · book binance-spot", 3.0, {"binance-spot": {"state": "LIVE"}}, bids, asks,
                   tape, venue_order=["binance-spot"], signals=sigs, book="binance-spot")
    levels = {"ask": {r.price for r in asks}, "bid": {r.price for r in bids}}
    for w, h in ((80, 24), (60, 16)):
        lines = screen(vm, w, h)
        assert check_book(vm, levels, lines) >= 2
        assert "0.000051234567" in "\n".join(lines)


def test_without_signals_engine_no_signal_section():
    vm = ViewModel("t", 1.0, {}, [], [], [])
    text = "\n".join(screen(vm, 80, 24))
    assert "signals" not in text
    assert "(no asks)" in text and "(no bids)" in text and "no two-sided quote" in text
