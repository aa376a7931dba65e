"""A restart never stalls a send (issue 16, item 11), with real processes: `nexus broker serve`
SIGKILLed while Buys are being sent and started again. On the embedded chain (`--chain sim`)
the chain is persisted beside the database and every Buy completes with its callback; a
ledger whose embedded chain is gone is refused with the reason; on a node URL whose chain was
reset, every send the chain does not know is re-broadcast or declared lost and its Buy
Blocked (history event `send_lost`, a callback): none stays Sending."""

from __future__ import annotations

import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx
import sqlalchemy as sa
from eth_account import Account

from nexus.broker import schema as S
from nexus.broker.db import Database
from nexus.broker.hdwallet import account_xpub_from_seed

from broker_helpers import Receiver, free_port

PY = [sys.executable, "-m", "nexus.cli"]
BUYS = 12
ROUNDS_MAX = 4  # kill rounds until a send was caught in flight
RESOLVE_S = 40  # the bound within which every Buy must leave Sending after the restart


class Serve:
    """`nexus broker serve` as a subprocess, killed and started again on one database."""

    def __init__(self, tmp_path, db_url: str, args: list[str], env: dict) -> None:
        self.tmp, self.db_url, self.args, self.env = tmp_path, db_url, args, env
        self.proc = None
        self.starts = 0
        self.log = None

    def start(self, *, expect_up: bool = True) -> httpx.Client | None:
        self.starts += 1
        self.port = free_port()
        self.log = self.tmp / f"serve-{self.starts}.log"
        self.proc = subprocess.Popen([*PY, "broker", "serve", "--db", self.db_url, "--port", str(self.port), *self.args],
                                     env=self.env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        if not expect_up:
            self.proc.wait(timeout=60)
            return None
        deadline = time.time() + 90
        while time.time() < deadline:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/openapi.json", timeout=1).status_code == 200:
                    return httpx.Client(base_url=f"http://127.0.0.1:{self.port}/api/v1",
                                        headers={"X-API-Key": self.env["NEXUS_BROKER_API_KEY"]}, timeout=30)
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve did not come up: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _env(**extra) -> dict:
    return {**os.environ, "NEXUS_BROKER_API_KEY": "restart-" + secrets.token_hex(6),
            "NEXUS_BROKER_CALLBACK_SECRET": "restart-cb-" + secrets.token_hex(6), **extra}


def _sends_by_state(db_url: str) -> dict[str, int]:
    db = Database(db_url)
    try:
        with db.read() as conn:
            c = S.chain_sends.c
            return {r.state: r.n for r in conn.execute(sa.select(c.state, sa.func.count().label("n")).group_by(c.state))}
    finally:
        db.dispose()


def _pay_many_and_kill(server: Serve, c: httpx.Client, account: str, receiver_url: str, codes: list[str]) -> None:
    """BUYS Buys created, paid all at once, and the server SIGKILLed the moment the last
    payment is answered: sends are queued, signed or mined at that instant."""
    batch = []
    for _ in range(BUYS):
        r = c.post("/buy", json={"account_code": account, "payment_method": "sepa", "fiat_amount": "20.00", "callback_url": receiver_url})
        assert r.status_code == 201, r.text
        batch.append(r.json()["transaction_code"])
    threads = [threading.Thread(target=lambda code=code: c.post(f"/transactions/{code}/payment")) for code in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.kill()
    codes += batch


def _until_resolved(c: httpx.Client, codes: list[str], final: set[str]) -> dict[str, dict]:
    deadline = time.time() + RESOLVE_S
    while True:
        txs = {code: c.get(f"/transactions/{code}").json() for code in codes}
        if all(t["status"] in final for t in txs.values()):
            return txs
        assert time.time() < deadline, f"not resolved within {RESOLVE_S} s: " + str({k: t["status"] for k, t in txs.items() if t["status"] not in final})
        time.sleep(0.2)


def _wait_callback(rec: Receiver, code: str, status: str, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while status not in rec.statuses(code):
        assert time.time() < deadline, f"no {status} callback for {code}: {rec.statuses(code)}"
        time.sleep(0.1)


def _setup(c: httpx.Client, rec: Receiver) -> str:
    assert c.post("/customers", json={"code": "rs", "name": "Restart", "email": "r@example.org"}).status_code == 201
    acc = c.post("/customers/rs/accounts", json={"crypto": "ETH", "withdraw_address": Account.create().address, "callback_url": rec.url})
    assert acc.status_code == 201, acc.text
    return acc.json()["account_code"]


def test_sim_chain_survives_sigkill_and_every_buy_completes(tmp_path, db_url):
    env = _env()
    chain_args = ["--chain-dir", str(tmp_path / "chains")] if db_url.startswith("postgresql") else []
    server = Serve(tmp_path, db_url, ["--chain", "sim", "--poll-interval", "0.01", "--allow-private-callbacks", *chain_args], env)
    rec = Receiver(env["NEXUS_BROKER_CALLBACK_SECRET"].encode()).start()
    codes: list[str] = []
    try:
        c = server.start()
        account = _setup(c, rec)
        in_flight = 0
        for _ in range(ROUNDS_MAX):
            _pay_many_and_kill(server, c, account, rec.url, codes)
            states = _sends_by_state(db_url)
            in_flight = states.get("queued", 0) + states.get("signed", 0)
            c = server.start()
            if in_flight:
                break
        assert in_flight, f"no send was in flight at any of {ROUNDS_MAX} kills: {states}"
        txs = _until_resolved(c, codes, {"BuyCompleted"})
        for code in txs:
            _wait_callback(rec, code, "BuyCompleted")
        server.stop()
        audit = subprocess.run([*PY, "broker", "audit", "--db", db_url], capture_output=True, text=True, timeout=120)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        files = list((tmp_path / "chains").iterdir()) if chain_args else [tmp_path / "broker.db.chain"]
        assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    finally:
        server.kill()
        rec.stop()


def test_a_ledger_whose_embedded_chain_is_gone_is_refused(tmp_path, db_url):
    env = _env()
    server = Serve(tmp_path, db_url, ["--chain", "sim"], env)  # PostgreSQL without --chain-dir: not persisted
    try:
        c = server.start()
        assert c.post("/customers", json={"code": "g", "name": "G", "email": "g@example.org"}).status_code == 201
        server.stop()
        if not db_url.startswith("postgresql"):
            os.remove(tmp_path / "broker.db.chain")
        server.start(expect_up=False)
        out = server.log.read_text()
        assert server.proc.returncode == 2, out
        assert "chain" in out and "gone" in out and "fresh database" in out, out
    finally:
        server.kill()


def _chain_sim(tmp_path, port: int, fund: str, n: int):
    p = subprocess.Popen([*PY, "broker", "chain-sim", "--port", str(port), "--fund", fund], stdout=subprocess.PIPE,
                         stderr=open(tmp_path / f"chain-{n}.log", "w"), text=True, start_new_session=True)
    line = p.stdout.readline()
    assert line, (tmp_path / f"chain-{n}.log").read_text()
    return p, json.loads(line)


def test_sends_unknown_to_a_reset_chain_are_resolved(tmp_path, db_url):
    """The node's chain is reset under the broker (chain-sim restarted without persistence):
    every signed send it no longer knows is re-broadcast (and mined) or, still unknown after
    --send-lost-after, lost with its Buy Blocked where an operator sees it."""
    hot = Account.create()
    chain_port = free_port()
    chain_proc, chain = _chain_sim(tmp_path, chain_port, hot.address, 1)
    env = _env(NEXUS_BROKER_HOT_WALLET_KEY=hot.key.hex(), NEXUS_BROKER_XPUB=account_xpub_from_seed(secrets.token_bytes(32)))
    server = Serve(tmp_path, db_url, ["--chain", chain["rpc_url"], "--usdt-contract", chain["usdt_contract"], "--poll-interval", "0.01",
                                      "--allow-private-callbacks", "--send-lost-after", "3"], env)
    rec = Receiver(env["NEXUS_BROKER_CALLBACK_SECRET"].encode()).start()
    codes: list[str] = []
    try:
        c = server.start()
        account = _setup(c, rec)
        # one Buy completed first: every later send carries a nonce the reset chain is not at
        first = c.post("/buy", json={"account_code": account, "payment_method": "sepa", "fiat_amount": "20.00"}).json()["transaction_code"]
        c.post(f"/transactions/{first}/payment")
        _until_resolved(c, [first], {"BuyCompleted"})
        signed = 0
        for n in range(2, ROUNDS_MAX + 2):
            _pay_many_and_kill(server, c, account, rec.url, codes)
            signed = _sends_by_state(db_url).get("signed", 0)
            if signed:
                break
            c = server.start()
        assert signed, "no send was signed and unconfirmed at any kill"
        os.killpg(chain_proc.pid, signal.SIGKILL)  # the chain is reset: its blocks and pool are gone
        chain_proc.wait(timeout=10)
        chain_proc, _ = _chain_sim(tmp_path, chain_port, hot.address, n)
        c = server.start()
        txs = _until_resolved(c, codes, {"BuyCompleted", "Blocked"})
        lost = [t for t in txs.values() if t["status"] == "Blocked"]
        assert lost, "the reset chain is at nonce 0, the signed sends above it: they must be lost"
        for t in lost:
            assert t["history"][-1]["event"] == "send_lost" and t["history"][-1]["by"] == "system:chain", t["history"]
            _wait_callback(rec, t["transaction_code"], "Blocked")
        assert _sends_by_state(db_url).get("lost", 0) == len(lost)
        assert "unknown to the chain" in server.log.read_text()
    finally:
        server.kill()
        rec.stop()
        os.killpg(chain_proc.pid, signal.SIGKILL)
        chain_proc.wait(timeout=10)
