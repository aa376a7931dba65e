"""`nexus keys check --venue V`: the key's permissions as the venue reports them, and the
local clock against the venue's server time. A key that can withdraw is refused (exit 2)
with the seed's advice."""

from __future__ import annotations

import json

import click

from nexus.commands._trade import run_session, venue_options


@click.group()
def keys() -> None:
    """API key checks (keys from NEXUS_<VENUE>_API_KEY / _API_SECRET or --keys-stdin, never arguments)."""


@keys.command("check")
@click.option("--venue", required=True, help="binance-spot, binance-perp, bybit-perp or okx-swap.")
@venue_options
def check(venue, testnet, use_sim, rest_url, ws_url, keys_stdin, as_json):
    """Permissions and time drift of the key for VENUE."""
    async def show(ex) -> None:
        info = await ex.adapter.key_info()
        if as_json:
            click.echo(json.dumps(info))
            return
        on = sorted(k for k, v in info["permissions"].items() if v)
        click.echo(f"{venue} key {info['api_key']}: ok; enabled: {', '.join(on) or '(not reported by the venue)'}")
        click.echo(f"clock: local + {info['time_offset_ms']} ms = server time (round trip {info['round_trip_ms']} ms)")
        if info.get("note"):        # e.g. a venue that reports no permissions of a key (Gate)
            click.echo(info["note"])

    run_session(venue, show, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                keys_stdin=keys_stdin, as_json=as_json)
