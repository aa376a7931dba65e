"""Crash safety: `nexus broker serve` as a subprocess on a chain that outlives it (the
chain-sim JSON-RPC server), SIGKILLed at random points while work is in flight, restarted,
in a bounded loop. Afterwards the audit passes, every status change reached the callback
receiver (at-least-once), crypto left the hot wallet exactly once per completed Buy, and no
secret is found in the database or the server's output."""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time

import httpx
from eth_account import Account

from nexus.broker.chain import connect
from nexus.broker.hdwallet import account_xpub_from_seed
from nexus.broker.units import CRYPTOS, to_units

from broker_helpers import Receiver, free_port

KILLS = 5
TRANSIENT = {"SendDelay", "Sending", "ToCancel", "Confirming", "GiftSending"}
PY = [sys.executable, "-m", "nexus.cli"]


def _chain_sim(tmp_path, fund: list[str]):
    log = open(tmp_path / "chain.log", "w")
    p = subprocess.Popen([*PY, "broker", "chain-sim", "--port", "0", *sum((["--fund", a] for a in fund), [])],
                         stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    line = p.stdout.readline()
    if not line:
        p.kill()
        raise AssertionError("chain-sim did not start: " + (tmp_path / "chain.log").read_text())
    return p, json.loads(line)


class Server:
    def __init__(self, tmp_path, db_url: str, env: dict, chain: dict) -> None:
        self.tmp, self.db_url, self.env, self.chain = tmp_path, db_url, env, chain
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self) -> httpx.Client:
        self.port = free_port()
        self.starts += 1
        out = open(self.tmp / f"serve-{self.starts}.log", "w")
        self.proc = subprocess.Popen(
            [*PY, "broker", "serve", "--db", self.db_url, "--port", str(self.port), "--chain", self.chain["rpc_url"],
             "--usdt-contract", self.chain["usdt_contract"], "--confirmations", "2", "--poll-interval", "0.01", "--log-level", "info",
             "--allow-private-callbacks"],  # the receiver listens on 127.0.0.1
            env=self.env, stdout=out, stderr=out, start_new_session=True,
        )
        c = httpx.Client(base_url=f"http://127.0.0.1:{self.port}/api/v1", headers={"X-API-Key": self.env["NEXUS_BROKER_API_KEY"]}, timeout=5)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: " + (self.tmp / f"serve-{self.starts}.log").read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/openapi.json", timeout=1).status_code == 200:
                    return c
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve did not come up")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def test_sigkill_restart_loop(tmp_path, db_url):
    seed = int(os.environ.get("NEXUS_CRASH_SEED", secrets.randbits(32)))
    rng = random.Random(seed)
    print(f"crash test seed {seed} (NEXUS_CRASH_SEED to replay)")
    hot, wallet = Account.create(), Account.create()  # in memory only
    withdraw = {"ETH": Account.create().address, "USDT": Account.create().address}
    secrets_in_use = {
        "NEXUS_BROKER_API_KEY": "crash-api-" + secrets.token_hex(8),
        "NEXUS_BROKER_CALLBACK_SECRET": "crash-cb-" + secrets.token_hex(8),
        "NEXUS_BROKER_HOT_WALLET_KEY": hot.key.hex(),
    }
    op_key = "crash-op-" + secrets.token_hex(8)
    env = {**os.environ, **secrets_in_use, "NEXUS_BROKER_OPERATORS": f"ops={op_key}",
           "NEXUS_BROKER_XPUB": account_xpub_from_seed(secrets.token_bytes(32))}
    chain_proc, chain = _chain_sim(tmp_path, [hot.address, wallet.address])
    customer_chain = connect(chain["rpc_url"], wallet.key.hex(), chain["usdt_contract"])
    rec = Receiver(secrets_in_use["NEXUS_BROKER_CALLBACK_SECRET"].encode()).start()
    server = Server(tmp_path, db_url, env, chain)
    accounts: dict[str, dict] = {}
    codes: list[str] = []

    def deposit(address: str, crypto: str, amount: str) -> None:
        raw, _ = customer_chain.sign_send(crypto, address, to_units(amount, CRYPTOS[crypto]), customer_chain.pending_nonce())
        customer_chain.broadcast(raw)

    def work(c: httpx.Client, stop: threading.Event) -> None:
        try:
            if not accounts:
                c.post("/customers", json={"code": "crash", "name": "Crash Test", "email": "c@example.org"}, headers={"Idempotency-Key": "cust"})
                for crypto in ("ETH", "USDT"):
                    r = c.post("/customers/crash/accounts", json={"crypto": crypto, "withdraw_address": withdraw[crypto], "callback_url": rec.url},
                               headers={"Idempotency-Key": f"acc-{crypto}"})
                    accounts[crypto] = r.json()
            while not stop.is_set():
                crypto = rng.choice(["ETH", "USDT"])
                acc = accounts[crypto]
                action = rng.random()
                if action < 0.5:
                    body = {"account_code": acc["account_code"], "payment_method": "sepa", "fiat_amount": f"{rng.randint(5, 80)}.00", "callback_url": rec.url}
                    r = c.post("/buy", json=body)
                    if r.status_code == 201:
                        codes.append(r.json()["transaction_code"])
                        c.post(f"/transactions/{r.json()['transaction_code']}/payment")
                elif action < 0.8:
                    amount = "0.01" if crypto == "ETH" else "20"
                    r = c.post("/sell", json={"account_code": acc["account_code"], "payment_method": "sepa", "crypto_amount": amount, "callback_url": rec.url})
                    if r.status_code == 201:
                        codes.append(r.json()["transaction_code"])
                        deposit(acc["deposit_address"], crypto, amount)
                else:
                    deposit(acc["deposit_address"], crypto, "0.005" if crypto == "ETH" else "7")  # spontaneous
                for t in c.get("/transactions", params={"status": "ToPayout"}).json().get("transactions", []):
                    c.post(f"/transactions/{t['transaction_code']}/payout")
        except (httpx.HTTPError, ValueError, KeyError):
            pass  # the server was killed under us

    try:
        for _ in range(KILLS):
            c = server.start()
            stop = threading.Event()
            th = threading.Thread(target=work, args=(c, stop), daemon=True)
            th.start()
            time.sleep(rng.uniform(0.3, 2.0))
            server.kill()
            stop.set()
            th.join(timeout=30)
        # the last start: let everything in flight finish
        c = server.start()
        httpx.post(chain["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": [3]})
        deadline = time.time() + 90
        while True:
            txs = c.get("/transactions", params={"limit": 500}).json()["transactions"]
            for t in txs:
                if t["status"] == "ToPayout":
                    c.post(f"/transactions/{t['transaction_code']}/payout")
            busy = [t["transaction_code"] for t in txs if t["status"] in TRANSIENT or t["status"] == "ToPayout"]
            pending = [cb for t in txs for cb in c.get(f"/transactions/{t['transaction_code']}/callbacks").json()["callbacks"] if cb["state"] != "delivered"]
            if not busy and not pending:
                break
            if time.time() > deadline:
                raise AssertionError(f"not quiescent: busy {busy}, {len(pending)} callbacks pending")
            httpx.post(chain["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": [1]})
            time.sleep(0.3)
        full = [c.get(f"/transactions/{t['transaction_code']}").json() for t in txs]
        server.terminate()

        assert len(full) >= 3, "the loop did too little work to mean anything"
        # no callback lost: every status change of every transaction reached the receiver
        got = {e["event_id"] for e in rec.events}
        for t in full:
            for seq, h in enumerate(t["history"], start=1):
                assert f"{t['transaction_code']}:{seq}" in got, f"callback lost: {t['transaction_code']} {h['status']}"
        # exactly once on chain: the withdraw addresses hold what the completed Buys bought
        for crypto in ("ETH", "USDT"):
            bought = sum(to_units(t["crypto_amount"], CRYPTOS[crypto]) for t in full if t["type"] == "buy" and t["crypto"] == crypto and t["status"] == "BuyCompleted")
            assert customer_chain.balance(crypto, withdraw[crypto]) == bought, crypto
        audit = subprocess.run([*PY, "broker", "audit", "--db", db_url], capture_output=True, text=True, timeout=120)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        # secrets: never in the database or the server's output
        leaks = list(secrets_in_use.values()) + [op_key, hot.key.hex().removeprefix("0x")]
        blobs = [p.read_bytes() for p in tmp_path.iterdir() if p.is_file()]
        if db_url.startswith("postgresql"):
            import sqlalchemy as sa

            eng = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
            with eng.connect() as conn:
                for table in sa.inspect(conn).get_table_names():
                    blobs.append(repr(conn.execute(sa.text(f'SELECT * FROM "{table}"')).all()).encode())
            eng.dispose()
        for blob in blobs:
            for s in leaks:
                assert s.encode() not in blob, "a secret was written out"
        print(f"crash test: {server.starts} starts, {len(full)} transactions, {len(rec.events)} callbacks received")
    finally:
        server.kill()
        rec.stop()
        os.killpg(chain_proc.pid, signal.SIGKILL)
        chain_proc.wait(timeout=10)
