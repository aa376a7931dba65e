"""`nexus sim`: serve the seven venues' wire formats on 127.0.0.1 from one simulated market."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import click

from nexus.config import config_option
from nexus.exceptions import ConfigError

DEFAULT_PORT = 8790
KEY_ENV = "NEXUS_SIM_API_KEY"          # --account-env: the simulated accounts' credentials
SECRET_ENV = "NEXUS_SIM_API_SECRET"
PASSPHRASE_ENV = "NEXUS_SIM_API_PASSPHRASE"  # optional: the passphrase of the OKX (Bitget, KuCoin) accounts


def _venues(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _epoch(value: str | None) -> int | None:
    if value is None:
        return None
    if value == "now":
        import time

        return time.time_ns() // 1_000_000 * 1_000_000
    try:
        v = int(value)
    except ValueError:
        raise click.BadParameter("expected nanoseconds since the Unix epoch, or 'now'") from None
    if v < 0:
        raise click.BadParameter("must not be negative")
    return v


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep 127.0.0.1 unless you mean it).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port for every venue (0: any free port).")
@click.option("--venues", "venues", multiple=True, metavar="V1,V2,...",
              help="Venues to serve (default: the first seven, binance-spot … hyperliquid; 'all': every venue the simulator serves).")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="BTCUSDT, ETHUSDT or PAXGUSDT (binance-rwa only); each venue uses its own name for it.")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same messages.")
@click.option("--fault", "faults", multiple=True, metavar="KIND:VENUE:AT_S",
              help="Inject a fault (repeatable). KIND: disconnect, gap, bad-checksum, silence, malformed, diverge; "
                   "AT_S: simulated seconds after start.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many seconds (default: until interrupted).")
@click.option("--speed", type=click.FloatRange(min=0.01, max=100), default=1.0, show_default=True,
              help="Simulated seconds per real second.")
@click.option("--labels-out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write each pattern label as a JSON line to this file as it completes.")
@click.option("--no-patterns", is_flag=True, help="Do not inject the labelled order-flow patterns.")
@click.option("--epoch-ns", "epoch", default=None, metavar="NS|now",
              help="Simulated clock origin (default 2026-01-01T00:00:00Z; 'now' breaks byte-for-byte determinism).")
@click.option("--account-env", is_flag=True,
              help=f"Open a trading account on every venue with the key and secret in {KEY_ENV} and "
                   f"{SECRET_ENV} (and {PASSPHRASE_ENV} for the passphrase venues, e.g. okx-swap; environment "
                   "only, never arguments), with default balances. Coinbase: the secret is the private key (PEM "
                   "or CDP Ed25519) and the account registers its public half only. FXCM: the secret is the "
                   "account's access token (a client gives it as NEXUS_FXCM_TOKEN).")
@click.option("--json", "as_json", is_flag=True, help="Print the endpoints as one JSON object.")
@config_option
def sim(host, port, venues, symbol, seed, faults, duration, speed, labels_out, no_patterns, epoch, account_env,
        as_json):
    """Serve binance-spot, binance-perp, bybit-perp, okx-swap, coinbase, kraken and hyperliquid
    WebSocket and REST formats on one port, one path per venue, from one simulated market.

    Point a client at a venue with --endpoint VENUE=URL using the printed ws URL; REST paths
    are the venue's own under the printed rest base. GET /labels returns the ground truth of
    the injected patterns.
    """
    from nexus.sim.core import SIM_EPOCH_NS
    from nexus.sim.simulator import Simulator

    epoch_ns = _epoch(epoch)
    try:
        simulator = Simulator(seed=seed, venues=_venues(venues), symbol=symbol, faults=faults, host=host,
                              port=port, speed=speed, epoch_ns=SIM_EPOCH_NS if epoch_ns is None else epoch_ns,
                              patterns=not no_patterns, labels_out=labels_out)
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    except OSError as e:
        raise click.UsageError(f"--labels-out {labels_out}: {e.strerror}") from None
    if account_env:
        key, secret = os.environ.get(KEY_ENV, ""), os.environ.get(SECRET_ENV, "")
        if not key or not secret:
            raise click.UsageError(f"--account-env needs {KEY_ENV} and {SECRET_ENV} in the environment")
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
        for venue in simulator.venues:
            simulator.open_account(venue, key, _registered(venue, secret), passphrase=passphrase)
        del key, secret, passphrase
    code = asyncio.run(_serve(simulator, duration, as_json))
    if code:
        sys.exit(code)


def _registered(venue: str, secret: str) -> str:
    """What the simulated account holds for `secret`: the secret itself (HMAC venues), or for
    Coinbase only the public half of the private key given (as Coinbase holds it)."""
    if venue != "coinbase":
        return secret
    from nexus.exec.signing.base import SigningError
    from nexus.venues.coinbase.sign import public_pem
    try:
        return public_pem(secret)
    except SigningError as e:
        raise click.UsageError(f"--account-env: coinbase needs {SECRET_ENV} to be a PEM or CDP Ed25519 "
                               f"private key: {e}") from None


async def _serve(simulator, duration: float | None, as_json: bool) -> int:
    try:
        await simulator.start()
    except OSError as e:
        click.echo(f"nexus sim: cannot listen on {simulator.server.host}:{simulator.server.port}: "
                   f"{e.strerror or e} (use --port 0 for any free port)", err=True)
        await simulator.stop()
        return 4
    info = simulator.endpoints()
    if as_json:
        click.echo(json.dumps(info, separators=(",", ":")))
    else:
        _print_text(info)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        if duration is None:
            await stop.wait()
        else:
            try:
                await asyncio.wait_for(stop.wait(), timeout=duration)
            except asyncio.TimeoutError:
                pass
    finally:
        await simulator.stop()
    if not as_json:
        n = len(simulator.labels())
        click.echo(f"nexus sim: stopped at t={simulator.t_s:.1f} s simulated; {n} pattern labels")
    return 0


def _print_text(info: dict) -> None:
    click.echo(f"nexus sim: {info['symbol']}, seed {info['seed']}, listening on {info['host']}:{info['port']}")
    width = max(len(v) for v in info["venues"])
    for venue, ep in info["venues"].items():
        click.echo(f"  {venue:<{width}}  {ep['ws']:<58} rest {ep['rest']}  ({ep['symbol']})")
    click.echo(f"  {'labels':<{width}}  {info['labels']}")
    if info["faults"]:
        click.echo(f"  {'faults':<{width}}  {', '.join(info['faults'])}")
    first = next(iter(info["venues"].items()))
    click.echo(f"connect with --endpoint VENUE=URL, e.g. --endpoint {first[0]}={first[1]['ws']}")
