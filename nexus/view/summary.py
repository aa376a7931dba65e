"""The end summary of `nexus run` as tables for a person (the `--json` line stays for programs):
each venue's state and counters, the AGG consensus, and the signals raised per venue and type.
Narrow enough for an 80-column terminal: the counters get a table of their own."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

FEED_EVENTS = (("gaps", "gaps"), ("resyncs", "resyncs"), ("reconnects", "reconnects"),
               ("checksum_failures", "cksum fail"), ("malformed", "malformed"))
AGG_FIELDS = (("best_bid", "best bid"), ("best_ask", "best ask"), ("venues_live", "venues live"),
              ("trades", "trades"), ("trades_deduped", "trades deduped"), ("crossed", "crossed"),
              ("uncrossed_share", "uncrossed seconds (share)"))


def _table(title: str, headers: list[str], right_from: int = 1) -> Table:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(headers):
        t.add_column(h, justify="right" if i >= right_from else "left", no_wrap=True)
    return t


def oracle_text(oracle: dict) -> str:
    """The active oracle as the view names it: "rule" or "learned (PATH)"."""
    return oracle["kind"] if oracle.get("model") is None else f"{oracle['kind']} ({oracle['model']})"


def summary_tables(line: dict) -> Group:
    """`line`: the summary line `nexus run --json` prints ({"summary", "agg"?, "signals"?})."""
    venues = line["summary"]
    feeds = _table("venues", ["venue", "state", "msgs", "best bid", "best ask"], right_from=2)
    events = _table("feed events", ["venue"] + [label for _, label in FEED_EVENTS])
    for v, s in venues.items():
        feeds.add_row(v, s.get("state", "-"), f"{s.get('msgs', 0):,}", s.get("best_bid") or "-",
                      s.get("best_ask") or "-")
        events.add_row(v, *(str(s.get(k, 0)) for k, _ in FEED_EVENTS))
    parts = [feeds, events]
    if "agg" in line:
        agg = _table("consensus (AGG)", ["", "value"])
        scope = line["agg"].get("scope")
        if scope:       # not every venue merged: say which and why (--agg-scope, "auto" by default)
            agg.add_row("merged", f"{scope} (auto)" if line["agg"].get("scope_auto") else scope)
            for v in line["agg"].get("outside", []):
                agg.add_row("outside", v)
        for k, label in AGG_FIELDS:
            v = line["agg"].get(k)
            agg.add_row(label, "-" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
        r = line["agg"].get("raw")
        if r and line["agg"].get("uncross") == "fresh":  # before the uncrossing by freshness (nexus.agg.aggregator)
            agg.add_row("raw merge uncrossed (share)", str(r["uncrossed_share"]))
        c = line["agg"].get("coherent")
        if c:  # the books at one exchange instant (nexus.feeds.run.aggregation): the market's own crosses
            agg.add_row("uncrossed at one instant", f"{c['uncrossed']}/{c['instants']}")
        parts.append(agg)
    if line.get("signals"):
        sig = _table("signals", ["venue", "signal", "count"], right_from=2)
        for v, per in line["signals"].items():
            for name, n in per.items():
                sig.add_row(v, name, str(n))
        parts.append(sig)
    elif "signals" in line:
        parts.append(Text("signals: none raised"))
    if "oracle" in line:
        parts.append(Text(f"oracle: {oracle_text(line['oracle'])}"))
    return Group(*parts)
