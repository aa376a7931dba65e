"""The auto-trader's orders sent to a venue through an `Executor` (any VenueAdapter: Binance
spot / USD-M today, the others as their adapters land), or to the simulator's exchange
(`--sim`, the same adapter against `nexus sim`'s authenticated endpoints).

The gate has already accepted each intent. Sends run as tasks on the event loop so the
signal path never waits on the network; fills reach the trader through the Executor's
`on_fill` hook with the fee the venue reported for that fill (once each, whether they come
with the answer or on the private stream), and
updates for orders this session did not place through `on_unknown` (counted, never applied).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal

from nexus.exceptions import NexusError
from nexus.exec.client import Executor, OrderUpdate, VenueRejected
from nexus.trade.trader import Intent

log = logging.getLogger("nexus.trade")


class ExecutorRouter:
    def __init__(self, executor: Executor) -> None:
        self.ex = executor
        self.perpetual = executor.adapter.perpetual
        self.sink = None                          # the AutoTrader
        self.tasks: set[asyncio.Task] = set()
        self.errors: list[str] = []
        executor.on_fill = self._fill
        executor.on_unknown = self._unknown
        # Fees itemised after their fill was counted (a REST answer with the average only, then
        # the private stream's per-fill commission) are not passed with any fill by the
        # Executor: the router sees every update on its way in and hands the difference to
        # the trader (`on_fee`). Per order: fees seen per venue trade id vs fees delivered.
        self._fee_seen: dict[str, dict[str, Decimal]] = {}
        self._fee_given: dict[str, Decimal] = {}
        self._apply = executor._apply
        executor._apply = self._apply_seeing_fees

    def _fill(self, o, qty: Decimal, price: Decimal, fee: Decimal) -> None:
        self._fee_given[o.client_id] = self._fee_given.get(o.client_id, Decimal(0)) + fee
        self.sink.on_fill(o.client_id, qty, price, fee=fee)

    def _apply_seeing_fees(self, upd: OrderUpdate):
        cid = upd.client_id
        ours = self.sink is not None and cid in self.sink.orders
        if ours and upd.fills:
            inst = self.ex.instruments.get(upd.symbol) if upd.symbol else None
            quote = inst.quote if inst is not None else self.sink.inst.quote
            seen = self._fee_seen.setdefault(cid, {})
            for f in upd.fills:
                if f.qty and f.fee_asset == quote:
                    seen[f.trade_id or f"{f.price}/{f.qty}"] = f.fee
        o = self._apply(upd)
        if ours and cid in self._fee_seen:
            owed = sum(self._fee_seen[cid].values(), Decimal(0)) - self._fee_given.get(cid, Decimal(0))
            if owed > 0:
                self._fee_given[cid] = self._fee_given.get(cid, Decimal(0)) + owed
                self.sink.on_fee(cid, owed)
        return o

    def _unknown(self, upd: OrderUpdate) -> None:
        if upd.filled:
            self.sink.on_fill(upd.client_id, upd.filled, upd.avg_price or 0)   # counted as unknown there

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def submit(self, it: Intent) -> None:
        self._spawn(self._place(it))

    def cancel(self, it: Intent) -> None:
        self._spawn(self._cancel(it))

    async def _place(self, it: Intent) -> None:
        try:
            await self.ex.instrument(it.symbol)     # the venue's grid, learnt once
            o = await self.ex.place(replace(it.req, reduce_only=it.reduce_only and self.perpetual))
        except VenueRejected as e:
            self._error(it, str(e))
            self.sink.on_done(it.client_id, "rejected")
            return
        except NexusError as e:                  # off-grid, network failure: the trader is told
            self._error(it, str(e))
            self.sink.on_done(it.client_id, "expired")
            return
        if o.state.terminal:
            self.sink.on_done(it.client_id, o.state.value)

    async def _cancel(self, it: Intent) -> None:
        try:
            await self.ex.cancel(it.symbol, it.client_id)
        except NexusError as e:                  # already filled or gone: nothing to cancel
            log.info("cancel of %s: %s", it.client_id, e)
            return
        self.sink.on_done(it.client_id, "cancelled")

    def _error(self, it: Intent, msg: str) -> None:
        self.errors.append(msg)
        log.warning("order %s (%s) failed at the venue: %s", it.client_id, it.role, msg)

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
