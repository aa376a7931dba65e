"""The end summary of `nexus run`: tables a person reads in text mode (an 80-column terminal,
nothing cut), the unchanged JSON line with --json."""

import io
import json
import subprocess
import sys

from rich.console import Console

from nexus.view.summary import summary_tables


def _line(summary: dict) -> dict:
    """The summary line as `nexus run` builds it from the runtime's summary."""
    line = {"summary": summary["summary"]}
    if "summary_agg" in summary:
        line["agg"] = summary["summary_agg"]
    if "signals" in summary:
        line["signals"] = summary["signals"]
    return line


def _text(line: dict) -> list[str]:
    c = Console(width=80, record=True, file=io.StringIO())
    c.print(summary_tables(line))
    return c.export_text().splitlines()


def _row(lines: list[str], title: str, first: str) -> list[str]:
    start = lines.index(next(ln for ln in lines if ln.strip() == title))
    return next(ln.split() for ln in lines[start:] if ln.split()[:1] == [first])


def test_summary_tables_of_a_real_agg_run_at_80_columns(agg_run):
    line = _line(agg_run["summary"])
    lines = _text(line)
    assert all(len(ln) <= 80 for ln in lines) and "…" not in "\n".join(lines)
    for v, s in line["summary"].items():
        row = _row(lines, "venues", v)
        assert row[1] == s["state"] and row[2] == f"{s['msgs']:,}"
        assert row[3] == s["best_bid"] and row[4] == s["best_ask"]
        assert _row(lines, "feed events", v)[1:] == [str(s[k]) for k in
                                                   ("gaps", "resyncs", "reconnects", "checksum_failures", "malformed")]
    assert _row(lines, "consensus (AGG)", "trades")[1] == str(line["agg"]["trades"])
    # the default five mix spot and perpetuals: "auto" merges the perpetuals, spot is named outside
    assert _row(lines, "consensus (AGG)", "merged")[1:] == ["perps", "(auto)"]
    assert _row(lines, "consensus (AGG)", "outside")[1:] == ["binance-spot"]
    counted = [(v, name, n) for v, per in line["signals"].items() for name, n in per.items()]
    assert counted
    for v, name, n in counted:
        assert any(ln.split() == [v, name, str(n)] for ln in lines)


def test_text_mode_prints_tables_json_mode_the_line():
    args = [sys.executable, "-m", "nexus.cli", "run", "--sim", "--venues", "okx-swap,kraken", "--duration", "2"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    tail = p.stdout[p.stdout.index("\nvenues"):]
    assert "feed events" in tail and "okx-swap" in tail and "kraken" in tail
    assert '{"summary"' not in p.stdout
    p = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=120)
    last = json.loads(p.stdout.splitlines()[-1])
    assert set(last) == {"summary", "signals", "oracle"} and set(last["summary"]) == {"okx-swap", "kraken"}
    assert last["oracle"] == {"kind": "rule"}        # the active oracle (--oracle rule|learned|FILE)
