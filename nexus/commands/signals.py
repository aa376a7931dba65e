"""`nexus signals replay` (detector signals per input line) and `nexus signals eval` (the
detectors scored against the simulator's labelled patterns). Definitions: engine/det_*.pxd;
parameters: nexus/flow/params.py."""

from __future__ import annotations

import json
import sys

import click

from nexus.commands.metrics import finish, open_source, source_options, tag_symbol


@click.group()
def signals() -> None:
    """Order-flow signals: absorption, iceberg, exhaustion, delta spike, spoof, smart money, oracle."""


def param_options(f):
    f = click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="Override a detector parameter (nexus/flow/params.py; integers: ns, integer "
                          "price/quantity units, percent). Repeatable.")(f)
    f = click.option("--no-oracle", is_flag=True, help="Do not emit oracle signals.")(f)
    return f


def build_params(overrides: dict, tick: int, oracle: bool):
    from nexus.exceptions import ConfigError
    from nexus.flow.params import FlowParams

    try:
        return FlowParams(tick=tick, oracle=oracle).replace(**overrides)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None


@signals.command("replay")
@source_options
@param_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the contract); otherwise a readable line each.")
def replay(venue, symbol, instruments, records, price_exponent, qty_exponent, tick, params, no_oracle, as_json) -> None:
    """Raw messages on stdin (as for `book replay`) through the venue's sync rules and the
    signal detectors; one line per signal:

    \b
    {"i": <0-based input line>, "signal": "absorption"|"iceberg"|"exhaustion"|"delta_spike"|
     "spoof"|"smart_money"|"oracle", "side": "buy"|"sell", "price": "…",
     "confidence": 0-100, "facts": {…}}

    `side` is the direction the signal points to (a pulled bid wall or an exhausted buying
    burst point down: "sell"). The oracle combines the others and is off by default for
    trading. Facts per signal: nexus/flow/signals.py.
    """
    from nexus.exceptions import ConfigError
    from nexus.flow.replay import Replay, parse_param_overrides
    from nexus.flow.runtime import signal_json

    try:
        overrides = parse_param_overrides(params)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    build_params(overrides, tick, not no_oracle)  # refuse bad parameters before reading anything
    source = open_source(venue, symbol, instruments, records, price_exponent, qty_exponent, tick)
    rp = Replay(lambda unit: build_params(overrides, unit.tick, not no_oracle))
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    write = sys.stdout.write
    for unit in source:
        for out in rp.feed(unit):
            for sig, facts in zip(out.signals, out.facts):
                line = tag_symbol(signal_json(sig, facts, unit.i, unit.price_exponent, unit.qty_exponent), unit, source, symbol)
                if as_json:
                    write(dumps(line) + "\n")
                else:
                    write(f"{line['i']:>8}  {line['signal']:<12} {line['side']:<4} {line['price']:>14}  "
                          f"conf {line['confidence']:>3}  {json.dumps(line['facts'])}\n")
    sys.stdout.flush()
    finish(source)
