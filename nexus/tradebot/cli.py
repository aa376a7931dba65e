"""`nexus tradebot`: decide on snapshots, manage settings, read the audit log, run the scheduler."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, TextIO

import click

EXIT_REJECTED = 3  # nexus.cli contract: some input rejected, the rest processed
EXIT_UPSTREAM = 4

DB_HELP = "SQLAlchemy database URL (default: $NEXUS_DB, else sqlite:///nexus.db in the current directory)."
DEFAULT_DB = "sqlite:///nexus.db"


@click.group()
def tradebot() -> None:
    """The Tradebot: keeps each crypto's hot-wallet and exchange reserves on target."""


# ---- decide -------------------------------------------------------------------------------


def decide_stream(lines: BinaryIO, out: TextIO, err: TextIO) -> int:
    """JSON Lines snapshots -> one decision per line, same order. Returns the count of bad lines.

    A blank line is skipped (no decision); any other line that is not a valid snapshot gets
    one message on `err` naming its line number, and the lines after it are still decided.
    """
    from nexus.tradebot.decision import decide
    from nexus.tradebot.errors import SnapshotError
    from nexus.tradebot.snapshot import decision_to_obj, parse_snapshot

    bad = 0
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            err.write(f"nexus tradebot decide: line {number}: not UTF-8 ({e.reason} at byte {e.start})\n")
            bad += 1
            continue
        if not text.strip():
            continue
        try:
            decision = decide(parse_snapshot(text))
        except SnapshotError as e:
            err.write(f"nexus tradebot decide: line {number}: {e}\n")
            bad += 1
            continue
        except ArithmeticError as e:  # not expected within the snapshot limits; never silent
            err.write(f"nexus tradebot decide: line {number}: cannot decide: {type(e).__name__}\n")
            bad += 1
            continue
        out.write(json.dumps(decision_to_obj(decision)) + "\n")
        out.flush()
    err.flush()
    return bad


@tradebot.command("decide")
def decide_cmd() -> None:
    """Snapshots on stdin (JSON Lines) -> one decision per line on stdout, in the same order.

    \b
    Snapshot: {"decimals", "exchange_price", "internal_price", "settings": {...},
               "state": {...}, "flags": {...}}   (schema in README.md, "Tradebot")
    Decision: {"status": "ok"|"skipped", "reasons": [...], "unbalanced": bool,
               "actions": [{"action", "amount"}]}

    A malformed line gets a message on stderr naming its line number; the other lines are
    still decided and the exit status is 3.
    """
    stdin = click.get_binary_stream("stdin")
    stdout = click.get_text_stream("stdout")
    stderr = click.get_text_stream("stderr")
    if decide_stream(stdin, stdout, stderr):
        raise click.exceptions.Exit(EXIT_REJECTED)


def _print_json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row))


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    raise click.exceptions.Exit(code)

