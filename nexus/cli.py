"""The `nexus` command line. Subcommands live in their own modules and are imported only
when used, so `nexus --help` and small commands start fast.

Exit statuses (a contract): 0 ok, 2 usage error, 3 some input rejected (the rest
processed), 4 upstream or connection failure.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from nexus import __version__

EXIT_OK, EXIT_USAGE, EXIT_REJECTED, EXIT_UPSTREAM = 0, 2, 3, 4

# name -> "module:attribute" of a click command or group. Add new subcommands here.
COMMANDS: dict[str, str] = {
    "version": "nexus.commands.version:version",
    "ring": "nexus.commands.ring:ring",
    "aeron": "nexus.commands.aeron:aeron",
    "bench": "nexus.commands.bench:bench",
    "demo": "nexus.commands.demo:demo",
    "record": "nexus.commands.record:record",
    "run": "nexus.commands.run:run",
    "replay": "nexus.commands.replay:replay",
    "export": "nexus.commands.replay:export",
    "agg": "nexus.commands.agg:agg",
    "normalize": "nexus.commands.normalize:normalize",
    "book": "nexus.commands.book:book",
    "sim": "nexus.commands.sim:sim",
    "tradebot": "nexus.commands.tradebot:tradebot",
    "broker": "nexus.commands.broker:broker",
    "metrics": "nexus.commands.metrics:metrics",
    "signals": "nexus.commands.signals:signals",
    "sign": "nexus.commands.sign:sign",
    "risk": "nexus.commands.risk:risk",
    "order": "nexus.commands.order:order",
    "positions": "nexus.commands.positions:positions",
    "keys": "nexus.commands.keys:keys",
    "config": "nexus.commands.config:config",
    "trade": "nexus.commands.trade:trade",
    "stats": "nexus.commands.stats:stats",
    "venues": "nexus.commands.venues:venues",
    "instruments": "nexus.commands.instruments:instruments",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader of our output went away (`nexus replay FILE | head`): what it read is
            # what it asked for. Stop quietly with 0 (click would exit 1); stdout goes to
            # /dev/null so the interpreter's last flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(EXIT_OK) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nexus")
def cli() -> None:
    """Nexus: low-latency market data and execution, with a crypto broker back office.

    Every command that prints figures accepts --json. Exit statuses: 0 ok, 2 usage error,
    3 some input rejected (the rest processed), 4 upstream or connection failure.
    """


def main() -> None:
    from nexus.exceptions import NexusError

    try:
        # With standalone_mode=False click *returns* the code of `ctx.exit(code)` or of a
        # raised click Exit (e.g. 3 from `normalize` when some lines were rejected) instead
        # of exiting with it: pass it on below.
        code = cli.main(prog_name="nexus", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except NexusError as e:
        click.echo(f"nexus: {e}", err=True)
        sys.exit(EXIT_USAGE)
    else:
        sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
