"""`nexus agg replay FILE`: the Aggregator over a recording, in recorded time."""

from __future__ import annotations

import json

import click

from nexus.commands.replay import exit_if_lost
from nexus.commands.run import agg_scope_option, agg_uncross_option, parse_divergence_pct


@click.group()
def agg() -> None:
    """The Aggregator (consensus book across venues) over recordings. Live: `nexus run --agg`."""


def _coherent_text(a: dict) -> str:
    """The summary's coherent-instant sample as text ("" when there is none)."""
    c = a.get("coherent") or {}
    return f"  at one instant {c['uncrossed']}/{c['instants']}" if c.get("instants") else ""


def _raw_text(a: dict) -> str:
    """The summary's raw-merge count as text, when the consensus was uncrossed by freshness."""
    r = a.get("raw") or {}
    return f"  raw merge uncrossed {r['seconds_uncrossed']}/{a['seconds']}" if a.get("uncross") == "fresh" and r else ""


@agg.command("replay")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON line per recorded second, then a summary.")
@click.option("--stale-after", type=click.FloatRange(0.5, 600), default=5.0, show_default=True)
@click.option("--stale-mode", type=click.Choice(["exclude", "flag"]), default="exclude", show_default=True)
@click.option("--divergence-pct", default="0.3", show_default=True, help="Divergence alert threshold, percent.")
@click.option("--dedup-window-ms", type=click.FloatRange(0, 10_000), default=0.0, show_default=True)
@click.option("--signals/--no-signals", default=True, show_default=True,
              help="Run the flow engine's detectors per venue and on the consensus, as `nexus run --agg`.")
@agg_scope_option()
@agg_uncross_option()
def agg_replay(path, as_json, stale_after, stale_mode, divergence_pct, dedup_window_ms, signals, agg_scope, agg_uncross):
    """Replay a recording (from `nexus record`) through each venue's decoder and sync rules
    into the consensus book, ticking once per recorded second: the same lines as
    `nexus run --agg --json` ({"t_s", "agg": {...}, "alerts": [...], "signals": [...]}), then a
    summary. As the run's summary, it says how many recorded seconds found the consensus
    two-sided and uncrossed (`seconds`, `seconds_uncrossed`, `uncrossed_share`) and which
    venues' touches crossed it (`crossed_by`); with `--agg-scope perps`, the spot venues stay out
    of the consensus (each line and the summary name them in `outside`). Replaying the same
    file twice gives identical lines."""
    from nexus.agg.replay import replay_agg

    def emit(line):
        if as_json:
            click.echo(json.dumps(line))
        elif "summary" in line:
            a = line["summary"]
            per = "  ".join(f"{v}: " + ", ".join(f"{k} {n}" for k, n in d.items())
                            for v, d in line.get("signals", {}).items())
            click.echo(f"summary  bid {a.get('best_bid')}  ask {a.get('best_ask')}  trades {a.get('trades')}  "
                       f"deduped {a.get('trades_deduped')}  uncrossed {a.get('seconds_uncrossed')}/{a.get('seconds')} s "
                       f"(share {a.get('uncrossed_share')})" + _raw_text(a) + _coherent_text(a) + (f"\nsignals  {per}" if per else ""))
        else:
            a = line.get("agg", {})
            alerts = "  ".join(f"{x['type']}:{x['venue']}:{x['state']}" for x in line.get("alerts", []))
            sigs = "  ".join(f"{x['signal']}:{x['venue']}:{x['side']}@{x['price']}" for x in line.get("signals", []))
            click.echo(f"t={line.get('t_s', '-'):>6}  bid {a.get('best_bid')}  ask {a.get('best_ask')}  "
                       f"live {a.get('venues_live')}  trades {a.get('trades')}  {alerts}  {sigs}".rstrip())

    stats = replay_agg(path, emit, signals=signals, stale_after_s=stale_after, stale_mode=stale_mode,
                       divergence_pct=parse_divergence_pct(divergence_pct), dedup_window_ms=dedup_window_ms,
                       agg_scope=agg_scope, uncross=agg_uncross)
    exit_if_lost(path, stats)
