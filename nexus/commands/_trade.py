"""What `nexus order`, `nexus positions` and `nexus keys` share: the venue connection options,
one trading session (keys from the environment or stdin, or an in-process simulator with
an account whose key and secret exist only in this process's memory), and the mapping of
failures to exit statuses:

    2  bad input (off-grid, unknown symbol, data-only venue, AGG mode, a key that can withdraw,
       missing keys): nothing was sent
    3  the venue rejected the request: its code and message
    4  network failure: the order's state as last queried is printed first

No message printed here holds a key: errors name variables and fields only.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

import click

from nexus.cli import EXIT_REJECTED, EXIT_UPSTREAM, EXIT_USAGE
from nexus.exceptions import NexusError

SIM_KEY_BYTES = 24


def venue_options(fn):
    """--testnet, --sim, --rest-url, --ws-url, --keys-stdin, --json."""
    opts = [
        click.option("--testnet", is_flag=True, help="Binance: route to the venue's documented testnet "
                                                     "(testnet.binance.vision / testnet.binancefuture.com)."),
        click.option("--sim", "use_sim", is_flag=True,
                     help="Trade an in-process `nexus sim` with a fresh account (key generated in memory)."),
        click.option("--rest-url", default=None, metavar="URL",
                     help="The venue's REST base (e.g. a running `nexus sim --account-env`: http://127.0.0.1:8790/binance-spot)."),
        click.option("--ws-url", default=None, metavar="URL",
                     help="The venue's stream base for user data (e.g. ws://127.0.0.1:8790/binance-spot/ws)."),
        click.option("--keys-stdin", is_flag=True,
                     help="Read the API key, secret (and passphrase for okx-swap), one per line, from standard "
                          "input instead of the environment."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def _sim_keys(venue: str):
    """Fresh credentials for an in-process simulator, in memory, and what the simulated account
    registers: the same secret (HMAC venues) or the public half of a new EC P-256 key (Coinbase)."""
    from nexus.exec import keys

    name = secrets.token_hex(SIM_KEY_BYTES)
    if venue == "coinbase":
        from nexus.venues.coinbase.sign import new_es256_key
        private, public = new_es256_key()
        return keys.Credentials(venue, f"organizations/sim/apiKeys/{name}", private), public
    passphrase = secrets.token_hex(SIM_KEY_BYTES) if venue in keys.PASSPHRASE_VENUES else None
    secret = secrets.token_hex(SIM_KEY_BYTES)
    return keys.Credentials(venue, name, secret, passphrase), secret


def _sim_symbol(venue: str, symbol: str | None) -> str:
    """The simulated market an in-process simulator runs for an order on `symbol`: that
    symbol's market when the simulator has one listing `venue` (e.g. PAXGUSDT on binance-rwa),
    else the simulator's default (BTCUSDT, which every simulated venue lists)."""
    from nexus.exceptions import ConfigError
    from nexus.sim.specs import market_for

    if symbol:
        try:
            m = market_for(symbol)
        except ConfigError:
            return "BTCUSDT"
        if venue in m.specs:
            return m.symbol
    return "BTCUSDT"


@asynccontextmanager
async def session(venue: str, *, testnet: bool, use_sim: bool, rest_url: str | None, ws_url: str | None,
                  keys_stdin: bool, stream: bool = False, agg_mode: bool = False,
                  sim_symbol: str | None = None) -> AsyncIterator:
    """`sim_symbol`: with `use_sim`, the symbol the session will trade (the simulator runs its
    market when it has one for the venue, see _sim_symbol)."""
    from nexus.exec import keys, matrix
    from nexus.exec.client import Executor

    factory = matrix.adapter_factory(venue)
    sim = None
    if use_sim:
        import time

        from nexus.sim.simulator import Simulator
        sim = await Simulator(seed=1, venues=[venue], symbol=_sim_symbol(venue, sim_symbol),
                              epoch_ns=time.time_ns() // 1_000_000 * 1_000_000, wall_clock=True).start()
        creds, registered = _sim_keys(venue)
        sim.open_account(venue, creds.api_key, registered, passphrase=creds.passphrase)
        del registered
        rest_url, ws_url = sim.rest_url(venue), sim.url(venue)
        await asyncio.sleep(0.2)          # the simulated book fills up
    else:
        creds = keys.load(venue, stdin=sys.stdin if keys_stdin else None, prompt=not keys_stdin)
    ex = Executor(factory(creds, rest_url=rest_url, ws_url=ws_url, testnet=testnet), agg_mode=agg_mode)
    del creds
    try:
        await ex.start(stream=stream)
        yield ex
    finally:
        await ex.stop()
        if sim is not None:
            await sim.stop()


def run(body: Callable[[], Awaitable[int | None]], as_json: bool) -> None:
    """Run a session coroutine; map failures to exit statuses (module docstring)."""
    from nexus.exec.client import KeyRefused, NetworkFailure, VenueRejected, VenueUnreachable

    try:
        code = asyncio.run(body())
    except VenueRejected as e:
        fail(EXIT_REJECTED, str(e), as_json, code=e.code, venue_message=e.message)
    except NetworkFailure as e:
        o = e.order
        fail(EXIT_UPSTREAM, str(e), as_json, **({"order": order_obj(o)} if o is not None else {}))
    except VenueUnreachable as e:
        fail(EXIT_UPSTREAM, str(e), as_json)
    except (KeyRefused, NexusError) as e:
        fail(EXIT_USAGE, str(e), as_json)
    if code:
        sys.exit(code)


def run_session(venue: str, action: Callable[[Any], Awaitable[None]], *, testnet: bool, use_sim: bool,
                rest_url: str | None, ws_url: str | None, keys_stdin: bool, as_json: bool) -> None:
    """Open a session on `venue`, run `action(executor)` in it, map failures to exit statuses."""
    async def body() -> int:
        async with session(venue, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                           keys_stdin=keys_stdin) as ex:
            await action(ex)
        return 0
    run(body, as_json)


def fail(status: int, message: str, as_json: bool, **extra: Any) -> None:
    if as_json:
        click.echo(json.dumps({"error": message, "exit": status, **extra}, default=str))
    click.echo(f"nexus: {message}", err=True)
    sys.exit(status)


def order_obj(o) -> dict:
    r = o.request
    return {"venue": r.venue, "symbol": r.symbol, "client_id": r.client_id, "venue_order_id": o.venue_order_id,
            "side": r.side.value, "type": r.type.value, "qty": str(r.qty),
            "price": str(r.price) if r.price is not None else None,
            "stop_price": str(r.stop_price) if r.stop_price is not None else None, "reduce_only": r.reduce_only,
            "state": o.state.value, "filled": str(o.filled_qty),
            "avg_price": str(o.avg_price) if o.avg_price is not None else None, "reason": o.reason}


def update_obj(u) -> dict:
    return {"client_id": u.client_id, "venue_order_id": u.venue_order_id, "symbol": u.symbol,
            "state": u.state.value, "venue_status": u.venue_status, "filled": str(u.filled),
            "avg_price": str(u.avg_price) if u.avg_price is not None else None}
