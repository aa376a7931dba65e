"""Starting the simulator inside another command (`nexus record --sim`, `nexus run --sim`)."""

from __future__ import annotations

from typing import Iterable

from nexus.sim.faults import Fault
from nexus.sim.simulator import Simulator


async def start_simulator(venues: Iterable[str] | None, symbol: str = "BTCUSDT", seed: int = 1,
                          faults: Iterable[str | Fault] = (), **kwargs) -> Simulator:
    """A started Simulator on the running asyncio loop, on 127.0.0.1 and a free port by
    default; `ws_url(venue)` / `rest_url(venue)` give its endpoints, `await stop()` ends it.
    Raises nexus.exceptions.ConfigError for an unknown venue or symbol, or a bad fault."""
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    sim = Simulator(seed=seed, venues=list(venues) if venues else None, symbol=symbol, faults=list(faults), **kwargs)
    return await sim.start()
