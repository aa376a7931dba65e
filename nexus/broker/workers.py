"""Assembling and running a broker: storage migrated, opening balances booked, the scheduler
(timers, chain sends, deposits and confirmations) and the callback deliverer in background
threads, each looping on the broker's wake-up event or a short poll interval."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from nexus.broker import ledger
from nexus.broker import schema as S
from nexus.broker.callbacks import Deliverer
from nexus.broker.context import Broker
from nexus.broker.db import migrate
from nexus.broker.deposits import DepositWatcher
from nexus.broker.errors import BrokerError
from nexus.broker.ledger import Posting
from nexus.broker.sender import Sender
from nexus.exceptions import ConfigError
from nexus.broker import timers

log = logging.getLogger("nexus.broker")


def book_opening_balances(broker: Broker) -> None:
    """On a fresh ledger, the hot wallet's measured reserve becomes its opening balance."""
    for crypto in ("ETH", "USDT"):
        if not broker.chain.supports(crypto):
            continue

        def work(conn, crypto=crypto):
            p = S.postings.c
            opened = conn.execute(sa.select(sa.func.count()).select_from(S.postings).where(p.account == "equity", p.currency == crypto)).scalar()
            if opened:
                return
            reserve = broker.chain.balance(crypto, broker.chain.hot_address)
            ledger.post(conn, [Posting("hot_wallet", crypto, reserve), Posting("equity", crypto, -reserve)],
                        memo=f"opening balance {crypto}", at_us=broker.now_us(), for_update=broker.db.is_postgres)

        broker.db.run(work)


def refuse_lost_chain(broker: Broker) -> None:
    """A ledger that has booked the embedded chain's reserve cannot go on under a fresh one:
    its deposits, sends and balances refer to blocks that no longer exist."""
    sim = broker.chain.sim
    if sim is None or not sim.fresh:
        return
    with broker.db.read() as conn:
        p = S.postings.c
        used = conn.execute(sa.select(sa.func.count()).select_from(S.postings).where(p.account == "equity")).scalar()
    if used:
        where = f"its chain file {sim.journal.path} is missing" if sim.journal else "the embedded chain was not persisted (PostgreSQL without --chain-dir)"
        raise ConfigError(
            f"this ledger was kept on an embedded chain (--chain sim) whose history is gone: {where}. Its deposits and sends refer to "
            "blocks that no longer exist. Restore the chain file (or give --chain-dir where it is), or start on a fresh database."
        )


class Workers:
    """The broker's background work: one scheduler loop (timers, chain sends, deposits and
    confirmations) and one callback deliverer loop, each in its own thread."""

    def __init__(self, broker: Broker) -> None:
        self.b = broker
        self.sender = Sender(broker)
        self.deposits = DepositWatcher(broker)
        self.deliverer = Deliverer(broker)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def prepare(self) -> None:
        migrate(self.b.db, self.b.now_us())
        refuse_lost_chain(self.b)
        book_opening_balances(self.b)
        self.deposits.init_cursor()  # a fresh database watches the chain from its head now

    def tick(self) -> int:
        """One scheduler round (also used directly by tests with a manual clock)."""
        n = timers.run(self.b)
        n += self.sender.tick()
        n += self.deposits.tick()
        n += self.sender.tick() if n else 0
        return n

    def deliver(self) -> int:
        return self.deliverer.tick()

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._loop, args=(self.tick, "scheduler"), name="broker-scheduler", daemon=True),
            threading.Thread(target=self._loop, args=(self.deliver, "callbacks"), name="broker-callbacks", daemon=True),
        ]
        for t in self._threads:
            t.start()
        self.b.workers_alive = self.alive

    def alive(self) -> bool:
        return bool(self._threads) and not self._stop.is_set() and all(t.is_alive() for t in self._threads)

    def _loop(self, fn, name: str) -> None:
        interval = self.b.settings.poll_interval_s
        wakeup = threading.Event()
        self.b.wakeups.append(wakeup)
        while not self._stop.is_set():
            try:
                busy = fn()
            except BrokerError as e:
                log.warning("%s: %s", name, e)
                busy = 0
                self._stop.wait(min(1.0, interval * 20))
            except Exception:
                log.exception("%s loop error", name)
                busy = 0
                self._stop.wait(min(1.0, interval * 20))
            if not busy:
                wakeup.wait(interval)
                wakeup.clear()

    def stop(self) -> None:
        self._stop.set()
        self.b.wake()
        for t in self._threads:
            t.join(timeout=10)
        self.deliverer.close()
