"""The Tradebot scheduler: the decision per active crypto, on a clock, never overlapping.

Every `interval_s` (default 60 s) each active crypto is due. A due crypto whose previous run
is still in progress is skipped for that round (counted in `overlaps_skipped`), never run twice
at once; a round missed because time jumped ahead is not made up in a burst. A run:

1. reads the crypto's settings (fresh from the store), the hot wallet, the exchange of its
   trade pair and the internal price, and builds the decision's `Snapshot`;
2. decides (`decision.decide`, pure);
3. executes the actions in the decision's order, stopping at the first failure (the next run
   re-reads the balances and decides again; open orders or withdrawals then hold it back);
4. records one audit entry: the snapshot, status, reasons, unbalanced, actions, notes, and the
   outcome with one result per action, or the error that prevented a decision.

The clock is injectable (`ports.ManualClock` in tests and `run --fast`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from nexus.tradebot.decision import decide
from nexus.tradebot.ports import Clock, Exchange, ExchangeView, HotWallet, HotWalletView, InternalPrice, SystemClock
from nexus.tradebot.settings import CryptoSettings
from nexus.tradebot.snapshot import (
    STATUS_SKIPPED,
    Action,
    Snapshot,
    SnapshotFlags,
    SnapshotState,
    dec_str,
    decision_to_obj,
    snapshot_to_obj,
)
from nexus.tradebot.store import AuditEntry, AuditLog, SettingsStore

log = logging.getLogger("nexus.tradebot")

DEFAULT_INTERVAL_S = 60.0
WORKERS_MAX = 4  # runs of different cryptos may proceed in parallel, up to this many
AGE_DECIMALS = 3  # last_order_age_s is recorded to the millisecond
ERROR_CHARS_MAX = 500


def build_snapshot(
    s: CryptoSettings, hot: HotWalletView, ex: ExchangeView, internal: Decimal | None, now_s: float
) -> Snapshot:
    """The decision's input from the settings and what the ports report."""
    age = None
    if ex.last_order_finished_s is not None:
        age = Decimal(round((now_s - ex.last_order_finished_s) * 10**AGE_DECIMALS)).scaleb(-AGE_DECIMALS)
    return Snapshot(
        decimals=hot.decimals,
        exchange_price=ex.price,
        internal_price=internal,
        settings=s.snapshot_settings(),
        state=SnapshotState(
            hotwallet_confirmed_balance=hot.confirmed_balance,
            hotwallet_total_balance=hot.total_balance,
            hotwallet_confirmed_reserve=hot.confirmed_reserve,
            delayed_send=hot.delayed_send,
            exchange_crypto_total=ex.crypto_total,
            exchange_crypto_available=ex.crypto_available,
            exchange_currency_total=ex.currency_total,
            exchange_currency_available=ex.currency_available,
        ),
        flags=SnapshotFlags(
            active=s.active,
            open_orders_or_withdraws=ex.open_orders or ex.open_withdraws or hot.open_withdraws,
            last_order_age_s=age,
            missing_hotwallet_deposits=hot.missing_deposits,
            missing_exchange_deposits=ex.missing_deposits,
        ),
    )


@dataclass
class _Crypto:
    lock: threading.Lock
    next_due_s: float | None = None


class Scheduler:
    def __init__(
        self,
        *,
        settings: SettingsStore,
        audit: AuditLog,
        wallet: HotWallet,
        exchanges: Mapping[str, Exchange],
        prices: InternalPrice,
        clock: Clock | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        execute: bool = True,
        max_workers: int = WORKERS_MAX,
        on_entry: Callable[[AuditEntry], None] | None = None,
        wait_each_round: bool = False,
        before_round: Callable[[], None] | None = None,
    ) -> None:
        """`wait_each_round`: in `run`, let a round's runs finish before sleeping. For a clock
        that jumps (`ManualClock`), so simulated time does not race ahead of the runs; with a
        real clock leave it off, so one slow crypto never delays the others. `before_round`:
        called by `run` before each tick (the paper world's customer flow uses it)."""
        if not interval_s > 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.settings = settings
        self.audit = audit
        self.wallet = wallet
        self.exchanges = exchanges
        self.prices = prices
        self.clock = clock or SystemClock()
        self.interval_s = float(interval_s)
        self.execute = execute
        self.on_entry = on_entry
        self.wait_each_round = wait_each_round
        self.before_round = before_round
        self.overlaps_skipped: Counter[str] = Counter()
        self.failures: list[BaseException] = []  # errors outside a run (e.g. the audit DB)
        self._cryptos: dict[str, _Crypto] = {}
        self._registry_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tradebot")
        self._futures: list[Future[None]] = []

    # ---- scheduling ---------------------------------------------------------------------

    def _crypto(self, crypto: str) -> _Crypto:
        with self._registry_lock:
            c = self._cryptos.get(crypto)
            if c is None:
                c = self._cryptos[crypto] = _Crypto(threading.Lock())
            return c

    def tick(self) -> list[str]:
        """Start a run (in the worker pool) for each active crypto that is due; returns them."""
        now = self.clock.now()
        started: list[str] = []
        for s in self.settings.active():
            c = self._crypto(s.crypto)
            due = now if c.next_due_s is None else c.next_due_s
            if due > now:
                continue
            missed = math.floor((now - due) / self.interval_s)  # rounds lost to a jump: not made up
            c.next_due_s = due + (missed + 1) * self.interval_s
            if not c.lock.acquire(blocking=False):
                self.overlaps_skipped[s.crypto] += 1
                log.warning("tradebot %s: previous run still in progress; this round skipped", s.crypto)
                continue
            self._futures = [f for f in self._futures if not f.done()]
            self._futures.append(self._pool.submit(self._run_and_release, s.crypto, c.lock))
            started.append(s.crypto)
        return started

    def next_due_s(self) -> float:
        """The earliest time a known crypto is due (now + interval if none is known yet)."""
        with self._registry_lock:
            dues = [c.next_due_s for c in self._cryptos.values() if c.next_due_s is not None]
        return min(dues) if dues else self.clock.now() + self.interval_s

    def run(self, stop: threading.Event, max_rounds: int | None = None) -> None:
        """Tick until `stop` is set (or `max_rounds` ticks), sleeping on the clock in between."""
        rounds = 0
        while not stop.is_set():
            if self.before_round is not None:
                self.before_round()
            self.tick()
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
            if self.wait_each_round:
                self.wait()
            self.clock.sleep(max(0.0, self.next_due_s() - self.clock.now()), stop)
        self.wait()

    def wait(self) -> None:
        """Wait for the runs in progress."""
        for f in list(self._futures):
            f.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one run ------------------------------------------------------------------------

    def run_once(self, crypto: str) -> AuditEntry | None:
        """Run `crypto` now, in this thread; None (and counted) if a run of it is in progress."""
        c = self._crypto(crypto)
        if not c.lock.acquire(blocking=False):
            self.overlaps_skipped[crypto] += 1
            return None
        try:
            return self._run(crypto)
        finally:
            c.lock.release()

    def _run_and_release(self, crypto: str, lock: threading.Lock) -> None:
        try:
            self._run(crypto)
        except BaseException as e:  # recording itself failed: keep it visible, keep going
            self.failures.append(e)
            log.exception("tradebot %s: run could not be recorded", crypto)
        finally:
            lock.release()

    def _run(self, crypto: str) -> AuditEntry:
        started_s = self.clock.now()
        try:
            s = self.settings.get(crypto)
            if s is None:
                raise LookupError(f"no Tradebot settings for {crypto}")
            exchange = self.exchanges.get(s.exchange)
            if exchange is None:
                raise LookupError(f"no exchange {s.exchange!r} is configured (known: {', '.join(sorted(self.exchanges))})")
            snapshot = build_snapshot(
                s,
                self.wallet.view(crypto),
                exchange.view(crypto, s.currency),
                self.prices.internal_price(crypto, s.currency),
                self.clock.now(),
            )
        except Exception as e:  # an upstream failure: no decision this round
            entry = AuditEntry(crypto, _ns(started_s), _ns(self.clock.now()), "error", error=_describe(e))
            return self._record(entry)
        decision = decide(snapshot)
        d = decision_to_obj(decision)
        entry = AuditEntry(
            crypto,
            _ns(started_s),
            0,
            "no_action",
            snapshot=snapshot_to_obj(snapshot),
            status=d["status"],
            reasons=d["reasons"],
            unbalanced=d["unbalanced"],
            actions=d["actions"],
            notes=list(decision.notes),
        )
        if decision.status == STATUS_SKIPPED:
            entry.outcome = "skipped"
        elif decision.actions and not self.execute:
            entry.outcome = "dry_run"
        elif decision.actions:
            entry.results = self._execute(s, exchange, decision.actions)
            entry.outcome = "executed" if all(r["ok"] for r in entry.results) else "failed"
        entry.finished_at_ns = _ns(self.clock.now())
        return self._record(entry)

    def _execute(self, s: CryptoSettings, exchange: Exchange, actions: tuple[Action, ...]) -> list[dict]:
        results: list[dict] = []
        failed = False
        for a in actions:
            result: dict = {"action": a.action, "amount": dec_str(a.amount)}
            if failed:
                results.append({**result, "ok": False, "error": "not attempted: an earlier action failed"})
                continue
            try:
                result["ref"] = self._execute_one(s, exchange, a)
                result["ok"] = True
            except Exception as e:
                result["ok"] = False
                result["error"] = _describe(e)
                failed = True
            results.append(result)
        return results

    def _execute_one(self, s: CryptoSettings, exchange: Exchange, a: Action) -> str:
        if a.action == "transfer_to_exchange":
            return self.wallet.send(s.crypto, exchange.deposit_address(s.crypto), a.amount)
        if a.action == "transfer_from_exchange":
            return exchange.withdraw(s.crypto, self.wallet.deposit_address(s.crypto), a.amount)
        if a.action in ("sell", "buy"):
            return exchange.market_order(s.crypto, s.currency, a.action, a.amount)
        raise AssertionError(a.action)

    def _record(self, entry: AuditEntry) -> AuditEntry:
        self.audit.record(entry)
        if self.on_entry is not None:
            self.on_entry(entry)
        return entry


def _ns(seconds: float) -> int:
    return int(round(seconds * 1e9))


def _describe(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= ERROR_CHARS_MAX else text[: ERROR_CHARS_MAX - 3] + "..."
