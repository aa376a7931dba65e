"""What `normalize`, `book replay` and the flow replays share on the command-line side of
`nexus.feeds.lines`: the venue choice, opening a reader with a bad --instruments file as a
usage error, and exit status 3 when some lines were rejected."""

from __future__ import annotations

import click

from nexus.cli import EXIT_REJECTED
from nexus.feeds.lines import InstrumentsFileError, LineReader, warnings_to_stderr
from nexus.venues import registry

VENUE_CHOICE = click.Choice(sorted(registry.names()))


def usage_errors(make):
    """`make()`, with an unreadable --instruments file reported as a usage error."""
    try:
        return make()
    except InstrumentsFileError as e:
        raise click.UsageError(str(e)) from None


def open_lines(venue: str, symbol: str | None, instruments: str | None) -> LineReader:
    warnings_to_stderr()
    return usage_errors(lambda: LineReader(venue, symbol, instruments))


def exit_if_rejected(reader: LineReader) -> None:
    if reader.rejected:
        raise click.exceptions.Exit(EXIT_REJECTED)
