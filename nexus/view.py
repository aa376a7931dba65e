"""The terminal view of `nexus run` (rich): a DOM ladder, the trade tape, per-venue state,
message rate and wire-to-book latency, and the latest detector signals. It renders a plain `ViewModel` built by the
runtime once per refresh, so the same data feeds `--json` lines and the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STATE_STYLE = {"LIVE": "bold green", "SYNCING": "yellow", "STALE": "bold magenta", "DOWN": "bold red"}
VENUE_COLOURS = ["cyan", "magenta", "yellow", "green", "blue", "red", "white", "bright_black"]


@dataclass
class LadderRow:
    price: str
    qty: str
    # venue -> share of this level's quantity (AGG mode colours the depth by venue)
    shares: dict[str, float] = field(default_factory=dict)


@dataclass
class ViewModel:
    title: str
    t_s: float
    venues: dict[str, dict]
    bids: list[LadderRow]
    asks: list[LadderRow]
    tape: list[dict]  # {"venue","side","price","size","ts"}
    alerts: list[str] = field(default_factory=list)
    venue_order: list[str] = field(default_factory=list)
    signals: list[dict] = field(default_factory=list)  # nexus.flow.live.LiveFlow.recent, oldest first


def _bar(row: LadderRow, width: int, max_qty: float, colours: dict[str, str], side_style: str) -> Text:
    try:
        q = float(row.qty)
    except ValueError:
        q = 0.0
    n = int(round(width * q / max_qty)) if max_qty > 0 else 0
    t = Text()
    if not row.shares:
        t.append("█" * n, style=side_style)
        return t
    used = 0
    items = list(row.shares.items())
    for i, (venue, share) in enumerate(items):
        k = n - used if i == len(items) - 1 else int(round(n * share))
        t.append("█" * max(0, k), style=colours.get(venue, "white"))
        used += max(0, k)
    return t


def render(vm: ViewModel, depth: int = 12) -> Group:
    colours = {v: VENUE_COLOURS[i % len(VENUE_COLOURS)] for i, v in enumerate(vm.venue_order or vm.venues)}
    venues = Table(title=f"{vm.title}   t={vm.t_s:.0f}s", expand=True, show_edge=False)
    for col, j in [("venue", "left"), ("state", "left"), ("msgs/s", "right"), ("latency p50 µs", "right"),
                   ("bid", "right"), ("ask", "right"), ("gaps", "right"), ("resyncs", "right"),
                   ("reconn", "right"), ("cksum fail", "right"), ("malformed", "right")]:
        venues.add_column(col, justify=j)
    for name, s in vm.venues.items():
        lat = s.get("latency_us_p50")
        venues.add_row(
            Text(name, style=colours.get(name, "white")),
            Text(s.get("state", "?"), style=STATE_STYLE.get(s.get("state", ""), "")),
            f"{s.get('msgs_per_s', 0):,.0f}", "-" if lat is None else f"{lat:,.0f}",
            s.get("best_bid") or "-", s.get("best_ask") or "-",
            str(s.get("gaps", 0)), str(s.get("resyncs", 0)), str(s.get("reconnects", 0)),
            str(s.get("checksum_failures", 0)), str(s.get("malformed", 0)),
        )
    rows = vm.asks[:depth][::-1] + vm.bids[:depth]
    max_qty = max((float(r.qty) for r in rows if r.qty), default=0.0)
    ladder = Table(show_header=True, expand=True, show_edge=False, title="order book")
    ladder.add_column("size", justify="right")
    ladder.add_column("price", justify="right")
    ladder.add_column("depth", ratio=1)
    for r in vm.asks[:depth][::-1]:
        ladder.add_row(r.qty, Text(r.price, style="red"), _bar(r, 30, max_qty, colours, "red"))
    for r in vm.bids[:depth]:
        ladder.add_row(r.qty, Text(r.price, style="green"), _bar(r, 30, max_qty, colours, "green"))
    tape = Table(show_header=True, expand=True, show_edge=False, title="trades")
    for col in ("venue", "side", "price", "size"):
        tape.add_column(col, justify="right" if col in ("price", "size") else "left")
    for t in vm.tape[-depth * 2:][::-1]:
        tape.add_row(Text(t["venue"], style=colours.get(t["venue"], "white")),
                     Text(t["side"], style="green" if t["side"] == "buy" else "red"), t["price"], t["size"])
    body = Table.grid(expand=True)
    body.add_column(ratio=3)
    body.add_column(ratio=2)
    body.add_row(ladder, tape)
    parts = [venues, body]
    if vm.signals:
        sig = Table(show_header=True, expand=True, show_edge=False, title="signals")
        for col in ("venue", "signal", "side", "price", "conf"):
            sig.add_column(col, justify="right" if col in ("price", "conf") else "left")
        for s in vm.signals[-6:][::-1]:
            sig.add_row(Text(s["venue"], style=colours.get(s["venue"], "white")), s["signal"],
                        Text(s["side"], style="green" if s["side"] == "buy" else "red"), s["price"], str(s["confidence"]))
        parts.append(sig)
    if vm.alerts:
        parts.append(Panel("\n".join(vm.alerts[-5:]), title="alerts", border_style="yellow"))
    return Group(*parts)
