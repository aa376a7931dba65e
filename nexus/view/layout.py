"""The terminal view of `nexus run` (rich), laid out for an 80x24 terminal first and growing
with it.

Top to bottom: a title line; a header and one line per venue (state, message rate, wire-to-book
latency p50, feed events, best bid/ask; in AGG mode also the aggregator's per-venue spread,
depth share and stale/diverged flags); then two columns. Left, the DOM ladder of the picked
book: asks above, a mid/spread row, bids below, the best of each side next to that row, as
many levels a side as the height allows (at most `depth`); both sides are always there. Right,
the trade tape (newest first, exchange times), the flow engine's latest signals, and in AGG
mode the alerts.

Nothing is cut: every column is as wide as its widest cell (prices are decimal strings of any
length), and when a table does not fit the width, whole columns leave, lowest rank first (the
depth bars before any figure). Times are UTC. The size is read from the console at each render.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rich.text import Text

from nexus.view.model import LadderRow, ViewModel

STATE_STYLE = {"LIVE": "bold green", "SYNCING": "yellow", "STALE": "bold magenta", "DOWN": "bold red"}
VENUE_COLOURS = ["cyan", "magenta", "yellow", "green", "blue", "red", "white", "bright_black"]
HEIGHT_DEFAULT = 24
BAR_MAX = 40              # widest depth bar, cells
BAR_MIN = 3               # a narrower bar is left out
GUTTER = " │ "            # between the ladder and the right column
BODY_ROWS_MIN = 6         # ladder header, an ask, the mid row, a bid; tape header and a trade
SIGNAL_ROWS_DIVISOR = 3   # the signals take at most a third of the right column
ALERT_ROWS_MAX = 4
OPTIONAL_COLUMNS = ("events", "flags")  # venue columns shown only when a venue has something in them
EVENT_LABELS = (("gaps", "gaps"), ("resyncs", "resyncs"), ("reconnects", "reconn"),
                ("checksum_failures", "cksum"), ("malformed", "malformed"))


@dataclass(eq=False)
class Column:
    header: str
    cells: list[Text]
    right: bool = False  # right-justified
    rank: int = 0        # when the width runs out, the highest ranks leave first

    @property
    def width(self) -> int:
        return max([len(self.header), *(c.cell_len for c in self.cells)])


def fit(columns: list[Column], width: int) -> list[Column]:
    """The columns (in their order) whose widths and one-cell gaps fit `width`."""
    kept = sorted(columns, key=lambda c: c.rank)
    while kept and _span(kept) > width:
        kept.pop()
    return [c for c in columns if any(c is k for k in kept)]


def _span(columns: list[Column]) -> int:
    return sum(c.width for c in columns) + max(0, len(columns) - 1)


def _cell(t: Text, width: int, right: bool) -> Text:
    pad = " " * max(0, width - t.cell_len)
    return Text.assemble(pad, t) if right else Text.assemble(t, pad)


def _join(cells: list[Text]) -> Text:
    return Text(" ").join(cells)


def table(columns: list[Column], width: int, title_style: str = "bold") -> list[Text]:
    """A header line and one line per row, of the columns that fit `width`."""
    cols = fit(columns, width)
    rows = max((len(c.cells) for c in cols), default=0)
    lines = [_join([_cell(Text(c.header, style=title_style), c.width, c.right) for c in cols])]
    for i in range(rows):
        lines.append(_join([_cell(c.cells[i] if i < len(c.cells) else Text(), c.width, c.right) for c in cols]))
    return lines


def aligned(values: list[str]) -> list[str]:
    """Decimal strings padded on the right so their decimal points line up (values unchanged)."""
    frac = [len(v) - v.index(".") if "." in v else 0 for v in values]
    most = max(frac, default=0)
    return [v + " " * (most - f) for v, f in zip(values, frac)]


def clock(ts_ns: int, ms: bool = True) -> str:
    """HH:MM:SS(.mmm), UTC, of a time in ns since the epoch."""
    s = time.strftime("%H:%M:%S", time.gmtime(ts_ns // 1_000_000_000))
    return f"{s}.{ts_ns // 1_000_000 % 1000:03d}" if ms else s


def _side_style(side: str) -> str:
    return "green" if side == "buy" else "red"


# -- the venue lines -----------------------------------------------------------------------------
def venue_columns(vm: ViewModel, colours: dict[str, str]) -> list[Column]:
    names = vm.venue_order or list(vm.venues)
    stats = [vm.venues.get(v, {}) for v in names]
    metrics = (vm.agg or {}).get("venue_metrics", {})
    cols = [
        Column("  venue", [Text(("▸ " if v == vm.book else "  ") + v, style=colours.get(v, "white")) for v in names]),
        Column("state", [Text(s.get("state", "-"), style=STATE_STYLE.get(s.get("state", ""), "")) for s in stats],
               rank=1),
        Column("msgs/s", [Text(f"{s.get('msgs_per_s', 0):,.0f}") for s in stats], True, 3),
        Column("p50 µs", [Text(_num(s.get("latency_us_p50"))) for s in stats], True, 4),
        Column("events", [Text(_events(s), style="yellow") for s in stats], rank=7),
        Column("bid", [Text(p, style="green") for p in aligned([s.get("best_bid") or "-" for s in stats])], True, 8),
        Column("ask", [Text(p, style="red") for p in aligned([s.get("best_ask") or "-" for s in stats])], True, 8),
    ]
    if vm.agg is not None:
        ms = [metrics.get(v, {}) for v in names]
        cols[4:4] = [
            Column("spread", [Text(m.get("spread") or "-") for m in ms], True, 5),
            Column("depth%", [Text(_pct(m.get("depth_share"))) for m in ms], True, 6),
            Column("flags", [_flags(m) for m in ms], rank=2),
        ]
    return [c for c in cols if c.header not in OPTIONAL_COLUMNS or any(c.cells)]


def _num(x) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _pct(share: str | None) -> str:
    return "-" if share is None else f"{Decimal(share) * 100:.1f}%"


def _events(s: dict) -> str:
    return " ".join(f"{label} {s[k]}" for k, label in EVENT_LABELS if s.get(k))


def _flags(m: dict) -> Text:
    t = Text()
    if m.get("stale"):
        t.append(f"stale {m.get('stale_s', 0):.0f}s", style="bold magenta")
    if m.get("diverged"):
        t.append(" diverged" if t else "diverged", style="bold red")
    return t


# -- the ladder ----------------------------------------------------------------------------------
def mid_row(vm: ViewModel) -> Text:
    """`mid M · spread S` from the two best levels (`CROSSED S` when the bid reaches the ask)."""
    if not vm.bids or not vm.asks:
        return Text("no two-sided quote", style="dim")
    try:
        b, a = Decimal(vm.bids[0].price), Decimal(vm.asks[0].price)
    except InvalidOperation:
        return Text("-")
    spread = a - b
    t = Text(f"mid {format((a + b) / 2, 'f')} · ", style="bold")
    t.append(f"spread {format(spread, 'f')}" if spread > 0 else f"CROSSED {format(spread, 'f')}",
             style="bold" if spread > 0 else "bold red")
    return t


def _bar(row: LadderRow, width: int, qty_max: Decimal, colours: dict[str, str], side_style: str) -> Text:
    try:
        n = int(width * Decimal(row.qty) / qty_max) if qty_max > 0 else 0
    except InvalidOperation:
        n = 0
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


def ladder(vm: ViewModel, levels: int, bar: int, widths: tuple[int, int], colours: dict[str, str]) -> list[Text]:
    """The ladder's lines: header, `levels` ask lines (best last), the mid row, `levels` bid lines."""
    pw, qw = widths
    asks, bids = vm.asks[:levels][::-1], vm.bids[:levels]
    qty_max = max((Decimal(r.qty) for r in asks + bids if r.qty), default=Decimal(0))
    head = [_cell(Text("price", style="bold"), pw, True), _cell(Text("size", style="bold"), qw, True)]
    prices, qtys = aligned([r.price for r in asks + bids]), aligned([r.qty for r in asks + bids])

    def line(i: int, r: LadderRow, style: str) -> Text:
        cells = [_cell(Text(prices[i], style=style), pw, True), _cell(Text(qtys[i]), qw, True)]
        if bar:
            cells.append(_bar(r, bar, qty_max, colours, style))
        return _join(cells)

    blank = Text()
    ask_lines = [line(i, r, "red") for i, r in enumerate(asks)] or [Text("(no asks)", style="dim")]
    bid_lines = [line(len(asks) + i, r, "green") for i, r in enumerate(bids)] or [Text("(no bids)", style="dim")]
    ask_lines = [blank] * (levels - len(ask_lines)) + ask_lines
    bid_lines = bid_lines + [blank] * (levels - len(bid_lines))
    return [_join(head + ([Text("depth", style="bold")] if bar else []))] + ask_lines + [mid_row(vm)] + bid_lines


# -- the right column ----------------------------------------------------------------------------
def tape_columns(trades: list[dict], colours: dict[str, str]) -> list[Column]:
    prices, sizes = aligned([t["price"] for t in trades]), aligned([t["size"] for t in trades])
    return [
        Column("trades (UTC)", [Text(clock(t["ts"]), style="dim") for t in trades]),
        Column("venue", [Text(t["venue"], style=colours.get(t["venue"], "white")) for t in trades], rank=3),
        Column("side", [Text(t["side"], style=_side_style(t["side"])) for t in trades], rank=4),
        Column("price", [Text(p, style=_side_style(t["side"])) for p, t in zip(prices, trades)], True, 1),
        Column("size", [Text(q) for q in sizes], True, 2),
    ]


def signal_columns(signals: list[dict], colours: dict[str, str]) -> list[Column]:
    prices = aligned([s["price"] for s in signals])
    return [
        Column("signals", [Text(clock(s["ts_exchange_ns"], ms=False) if "ts_exchange_ns" in s else "", style="dim")
                           for s in signals], rank=5),
        Column("type", [Text(s["signal"], style="bold") for s in signals]),
        Column("venue", [Text(s["venue"], style=colours.get(s["venue"], "white")) for s in signals], rank=2),
        Column("side", [Text(s["side"], style=_side_style(s["side"])) for s in signals], rank=1),
        Column("price", [Text(p) for p in prices], True, 1),
        Column("conf", [Text(f"{s['confidence']}%") for s in signals], True, 3),
    ]


def alert_lines(alerts: list[str], width: int, rows: int) -> list[Text]:
    """The newest alerts that fit in `rows` lines, each wrapped whole at `width` (newest first)."""
    out: list[Text] = []
    for a in reversed(alerts):
        chunks = textwrap.wrap(a, max(1, width), subsequent_indent="  ")
        if len(out) + len(chunks) > rows:
            break
        out += [Text(c, style="yellow") for c in chunks]
    return out


def right_column(vm: ViewModel, rows: int, width: int, colours: dict[str, str]) -> list[Text]:
    """Tape, signals and alerts in `rows` lines of `width` cells."""
    sig_rows = 0
    if vm.signals is not None:
        sig_rows = min(max(1, len(vm.signals)), max(1, rows // SIGNAL_ROWS_DIVISOR))
    sig_section = (1 + sig_rows) if vm.signals is not None else 0
    alerts = alert_lines(vm.alerts, width, min(ALERT_ROWS_MAX, rows - sig_section - 4))
    alert_section = (1 + len(alerts)) if alerts else 0
    tape_rows = max(1, rows - 1 - sig_section - alert_section)
    lines = table(tape_columns(vm.tape[-tape_rows:][::-1], colours), width)
    lines += [Text()] * (1 + tape_rows - len(lines))
    if vm.signals is not None:
        sigs = vm.signals[-sig_rows:][::-1]
        lines += table(signal_columns(sigs, colours), width) if sigs else \
            [Text("signals", style="bold"), Text("(none yet)", style="dim")]
        lines += [Text()] * (1 + tape_rows + sig_section - len(lines))
    if alerts:
        lines += [Text("alerts", style="bold yellow")] + alerts
    return lines[:rows]


# -- the screen ----------------------------------------------------------------------------------
def title_line(vm: ViewModel, width: int) -> Text:
    t = Text(f"{vm.title} · t={vm.t_s:.0f}s", style="bold")
    agg = vm.agg or {}
    if vm.agg is not None:
        # of the venues merged (all, or the perpetuals: --agg-scope, "auto" when spot and perpetuals
        # mix; a venue left outside keeps its row, without consensus metrics: "-")
        merged = len(agg.get("venue_metrics") or vm.venue_order)
        t.append(f" · live {agg.get('venues_live', 0)}/{merged}")
    hint = "  v/V: book  q: quit" if vm.keys else ""
    if t.cell_len + len(hint) <= width:
        t.append(hint, style="dim")
    t.truncate(width, overflow="ellipsis")
    return t


def screen_lines(vm: ViewModel, width: int, height: int, depth: int) -> list[Text]:
    colours = {v: VENUE_COLOURS[i % len(VENUE_COLOURS)] for i, v in enumerate(vm.venue_order or vm.venues)}
    top = [title_line(vm, width)] + table(venue_columns(vm, colours), width)
    body_rows = max(BODY_ROWS_MIN, height - len(top))
    levels = max(1, min(depth, (body_rows - 2) // 2))
    shown = vm.asks[:levels] + vm.bids[:levels]
    pw = max([len("price"), *(len(p) for p in aligned([r.price for r in shown]))])
    qw = max([len("size"), *(len(q) for q in aligned([r.qty for r in shown]))])
    left_min = max(pw + 1 + qw, mid_row(vm).cell_len)
    tape_n = body_rows  # an upper bound of the rows the right column can show: its width needs no more
    right_full = max(_span(tape_columns(vm.tape[-tape_n:], colours)),
                     _span(signal_columns((vm.signals or [])[-tape_n:], colours)))
    room = width - len(GUTTER) - left_min - right_full - 1
    bar = min(BAR_MAX, room) if room >= BAR_MIN else 0
    left_w = max(left_min, pw + 1 + qw + (1 + bar if bar else 0))
    right_w = max(0, width - len(GUTTER) - left_w)
    left = ladder(vm, levels, bar, (pw, qw), colours)
    right = right_column(vm, body_rows, right_w, colours)
    body = []
    for i in range(max(len(left), len(right))):
        row = _cell(left[i] if i < len(left) else Text(), left_w, False)
        row.append(GUTTER, style="dim")
        row.append_text(right[i] if i < len(right) else Text())
        body.append(row)
    return top + body


class View:
    """A rich renderable: the view of `vm` at the size of the console it is printed on."""

    def __init__(self, vm: ViewModel, depth: int = 12) -> None:
        self.vm, self.depth = vm, depth

    def __rich_console__(self, console, options):
        height = options.height or console.height or HEIGHT_DEFAULT
        for line in screen_lines(self.vm, options.max_width, height, self.depth):
            line.no_wrap, line.overflow, line.end = True, "crop", "\n"
            yield line


def render(vm: ViewModel, depth: int = 12) -> View:
    return View(vm, depth)
