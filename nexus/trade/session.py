"""`nexus trade` live: the venue's feed through the same runtime as `nexus run` (ring, book,
flow engine), its signals into the AutoTrader, its orders through the risk gate to a venue
Executor (`--sim`: the in-process simulator, trading the same market the feed shows, with
an account whose key exists only in this process) or to the paper router (`--paper`: fills
against the live book, nothing sent). One status line per second goes to `emit`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Callable

from nexus.feeds.run.config import RunConfig
from nexus.trade.config import AutoSettings
from nexus.trade.oracle import OracleSeen
from nexus.trade.paper import PaperRouter
from nexus.trade.stats import compute
from nexus.trade.tap import MarketTap
from nexus.trade.trader import AutoTrader
from nexus.trade.venue import ExecutorRouter

SIM_KEY_BYTES = 24
SIM_SEED_DEFAULT = 1


@dataclass
class LiveSpec:
    venue: str
    symbol: str                      # the venue's symbol (as the gate's limits name it)
    canonical: str                   # the symbol as `nexus run --symbol` takes it
    sim: bool = False
    paper: bool = False
    seed: int = SIM_SEED_DEFAULT
    duration_s: float | None = None
    rest_url: str | None = None
    ws_url: str | None = None
    testnet: bool = False
    oracle_model: dict | None = None   # the learned oracle's model (None: the rule oracle)
    oracle: dict | None = None         # its label (nexus.commands.signals.oracle_label)


def _session_id() -> str:
    return f"{time.time_ns() // 1_000_000:x}"


async def run_live(spec: LiveSpec, gate, settings: AutoSettings, auto: bool, load_creds: Callable,
                   emit: Callable[[dict], None]) -> dict:
    from nexus.exec import matrix
    from nexus.exec.client import Executor
    from nexus.exec.keys import Credentials
    from nexus.feeds.runtime import Runtime

    sim = ex = None
    cfg = RunConfig(venues=[spec.venue], symbol=spec.canonical, duration_s=spec.duration_s,
                    oracle_model=spec.oracle_model)
    seen = OracleSeen(spec.oracle)
    try:
        if spec.sim:
            from nexus.sim.simulator import Simulator

            sim = await Simulator(seed=spec.seed, venues=[spec.venue], symbol=spec.canonical,
                                  epoch_ns=time.time_ns() // 1_000_000 * 1_000_000).start()
            cfg.ws_urls[spec.venue], cfg.rest_urls[spec.venue] = sim.url(spec.venue), sim.rest_url(spec.venue)
        if spec.paper:
            router = PaperRouter(None)
        else:
            if sim is not None:
                creds = Credentials(spec.venue, secrets.token_hex(SIM_KEY_BYTES), secrets.token_hex(SIM_KEY_BYTES))
                sim.open_account(spec.venue, creds.api_key, creds.secret)
                rest, ws = sim.rest_url(spec.venue), sim.url(spec.venue)
            else:
                creds, rest, ws = load_creds(), spec.rest_url, spec.ws_url
            ex = Executor(matrix.adapter_factory(spec.venue)(creds, rest_url=rest, ws_url=ws, testnet=spec.testnet))
            del creds
            await ex.start(stream=True)
            router = ExecutorRouter(ex)
        session = _session_id()
        trader = AutoTrader(settings, gate, gate.instrument(spec.venue, spec.symbol), router, clock_ns=time.time_ns,
                            session=session, client_ids=None if spec.paper else _client_ids())
        router.sink = trader
        if auto:
            trader.enable()
        taps: dict[str, MarketTap] = {}

        def on_batch(venue, rs, batch):
            tap = taps.get(venue)
            if tap is None:
                if isinstance(router, PaperRouter):
                    router.inst = rs.inst
                tap = taps[venue] = MarketTap(trader, rs.inst, router if spec.paper else None)
            tap.on_batch(rs.book, batch)

        def on_second(line, rt):
            emit({"t_s": line["t_s"], "venue": spec.venue, "symbol": spec.symbol,
                  "feed": line["venues"][spec.venue].get("state"), "mode": _mode(spec), **trader.status(),
                  "oracle": seen.status(), "events": trader.take_events()})

        rt = Runtime(cfg, on_second)
        rt.on_batch = on_batch
        rt.on_signal = seen.wrap(trader.on_signal)
        await rt.run()
        if ex is not None:
            await router.drain()
        return {"summary": {**trader.status(), "mode": _mode(spec), "oracle": seen.status(), "events": trader.take_events(),
                            "sim_orders": _sim_orders(sim, spec.venue) if sim is not None and ex is not None else None,
                            "sim_fees": _sim_fees(sim, spec.venue) if sim is not None and ex is not None else None,
                            "venue_errors": list(getattr(router, "errors", [])),
                            "stats": compute(trader.journal)}}
    finally:
        if ex is not None:
            await ex.stop()
        if sim is not None:
            await sim.stop()


def _client_ids() -> Callable[[], str]:
    from nexus.exec.orders import new_client_id

    return lambda: new_client_id("nxa")


def _mode(spec: LiveSpec) -> str:
    return "paper" if spec.paper else ("sim" if spec.sim else "live")


def _sim_orders(sim, venue: str) -> dict:
    """What the simulator's exchange received (the tests' end-to-end proof): orders by type
    and final status."""
    out: dict[str, int] = {}
    for o in sim.exchange(venue).orders.values():
        key = f"{o.type.lower()}:{o.status.lower()}"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def _sim_fees(sim, venue: str) -> str:
    """The fees the simulator's exchange charged on this session's orders (the proof that the
    fees the trader recorded are the venue's own)."""
    from decimal import Decimal

    return str(sum((o.fees for o in sim.exchange(venue).orders.values()), Decimal(0)))
