"""The in-process API: a `SimCore` paced in real time and served on 127.0.0.1.

    async with Simulator(seed=7, faults=["gap:binance-spot:5"]) as sim:
        url = sim.url("okx-swap")              # ws://127.0.0.1:PORT/okx-swap/ws/v5/public
        rest = sim.rest_url("binance-spot")    # http://127.0.0.1:PORT/binance-spot
        book = sim.book("okx-swap")            # the simulator's own book, as published
        labels = sim.labels()

or `sim = await Simulator(...).start()` … `await sim.stop()` on a running asyncio loop.
Simulated time advances at `speed` × real time in 10 ms steps; message timestamps are
simulated (from `epoch_ns`), so the same seed produces the same messages byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Iterable

from nexus.sim.core import SIM_EPOCH_NS, SimCore
from nexus.sim.faults import Fault
from nexus.sim.market import STEP_NS
from nexus.sim.server import SimServer

BEHIND_S_MAX = 0.5        # further behind than this, the clock re-anchors (simulated time slows)
# An account's starting balances unless told otherwise (perpetuals use the quote currency).
DEFAULT_BALANCES = {"USDT": "1000000", "USDC": "1000000", "USD": "1000000", "BTC": "10", "ETH": "100"}
CATCH_UP_BATCH = 20       # steps run back to back before yielding to the connections


class Simulator:
    def __init__(self, seed: int = 0, venues: Iterable[str] | None = None, symbol: str = "BTCUSDT",
                 faults: Iterable[str | Fault] = (), host: str = "127.0.0.1", port: int = 0,
                 speed: float = 1.0, epoch_ns: int = SIM_EPOCH_NS, patterns: bool = True,
                 labels_out: str | Path | None = None, wall_clock: bool = False) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        if wall_clock and speed != 1.0:
            raise ValueError("wall_clock follows the wall clock: speed must be 1")
        self._labels_file = None
        self.core = SimCore(seed=seed, venues=venues, symbol=symbol, faults=faults, epoch_ns=epoch_ns,
                             patterns=patterns, on_label=self._write_label)
        if labels_out:
            self._labels_file = open(labels_out, "w", encoding="utf-8")
        self.server = SimServer(self.core, host, port)
        self.speed = float(speed)
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.lag_events = 0
        # wall_clock: simulated time follows the wall clock from epoch_ns (a venue whose clients
        # sign timestamps checks them against it): behind it (start-up, a loaded machine) the
        # steps run back to back until caught up, never re-anchored later; an epoch ahead of
        # the wall clock keeps its lead
        self.wall_clock = wall_clock

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> "Simulator":
        await self.server.start()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.server.stop()
        if self._labels_file is not None:
            for label in self.core.labels(include_active=True):
                if label["active"]:
                    self._write_label(label)
            self._labels_file.close()
            self._labels_file = None

    async def __aenter__(self) -> "Simulator":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step_s = STEP_NS / 1e9 / self.speed
        t0 = loop.time() - self.core.step_no * step_s
        if self.wall_clock:
            # behind the wall clock (the epoch a little in the past, a restart): caught up to it.
            # Ahead of it: a lead the caller asked for, kept (anchoring to the wall clock here
            # undid it: a client signing whole seconds, ccxt's Coinbase JWT nbf, then met a clock
            # trailing it by a step at every second boundary and was refused now and then).
            behind_s = (time.time_ns() - self.core.epoch_ns) / 1e9
            if behind_s > self.core.step_no * step_s:
                t0 = loop.time() - behind_s
        batch = 0
        while not self._stopping:
            target = t0 + (self.core.step_no + 1) * step_s
            delay = target - loop.time()
            if delay > 0:
                batch = 0
                await asyncio.sleep(delay)
            else:
                if -delay > BEHIND_S_MAX and not self.wall_clock:
                    t0 += -delay
                    self.lag_events += 1
                batch += 1
                if batch >= CATCH_UP_BATCH:
                    batch = 0
                    await asyncio.sleep(0)
            self.core.step()

    def _write_label(self, label: dict) -> None:
        if self._labels_file is not None:
            self._labels_file.write(json.dumps(label, separators=(",", ":")) + "\n")
            self._labels_file.flush()

    # -- API --------------------------------------------------------------------------------
    @property
    def venues(self) -> tuple[str, ...]:
        return self.core.venue_names

    @property
    def now_ns(self) -> int:
        return self.core.t_ns

    @property
    def t_s(self) -> float:
        return self.core.t_s

    def url(self, venue: str) -> str:
        """The WebSocket URL serving `venue` (use with `--endpoint VENUE=URL`)."""
        self._check(venue)
        return self.server.ws_url(venue)

    ws_url = url

    def rest_url(self, venue: str) -> str:
        """The REST base of `venue`: append the venue's own paths (e.g. /api/v3/depth)."""
        self._check(venue)
        return self.server.rest_url(venue)

    def endpoints(self) -> dict[str, Any]:
        return self.server.endpoints()

    def book(self, venue: str, channel: str | None = None, seq: int | None = None,
             at_ns: int | None = None) -> dict:
        """The simulator's own book of `venue` as published so far (see SimCore.book)."""
        self._check(venue)
        return self.core.book(venue, channel, seq, at_ns)

    def labels(self, include_active: bool = True) -> list[dict]:
        return self.core.labels(include_active)

    def open_account(self, venue: str, api_key: str, secret: str, *, passphrase: str | None = None,
                     balances: dict[str, str] | None = None, can_withdraw: bool = False):
        """An account on `venue`'s exchange, trading with these credentials (held in memory
        only). `balances`: asset -> decimal string (spot: each asset; perpetuals: the margin
        wallet in the quote currency); default DEFAULT_BALANCES."""
        self._check(venue)
        ex = self.core.exchange(venue)
        return ex.open_account(api_key, secret, passphrase=passphrase, can_withdraw=can_withdraw,
                               balances=DEFAULT_BALANCES if balances is None else balances)

    def exchange(self, venue: str):
        """The venue's simulated exchange (nexus.sim.exchange.SimExchange)."""
        self._check(venue)
        return self.core.exchange(venue)

    def connections(self, venue: str) -> int:
        return len(self.server.conns.get(venue, ()))

    def _check(self, venue: str) -> None:
        if venue not in self.core.feeds:
            raise KeyError(f"{venue!r} is not served; venues: {', '.join(self.core.feeds)}")
