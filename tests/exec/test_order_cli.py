"""A whole trading session through the CLI as subprocesses (`nexus sim --account-env`, then
`nexus order|positions|keys` with the key in the environment): exit statuses as contracted,
and the secret's bytes appear in no output and no file the session wrote."""
import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from decimal import Decimal

NEXUS = [sys.executable, "-m", "nexus.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session(tmp_path, venues, key, secret, passphrase, client_keys, default_venue, sim_args=()):
    """`nexus sim --account-env` on `venues`, a runner of CLI commands with `client_keys` in the
    environment, and, at the end, the scan: no secret byte in any output or file written."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path))
    sim_env = {**env, "NEXUS_SIM_API_KEY": key, "NEXUS_SIM_API_SECRET": secret, "NEXUS_SIM_API_PASSPHRASE": passphrase}
    port = _free_port()
    sim = subprocess.Popen([*NEXUS, "sim", "--account-env", "--port", str(port), "--json", "--epoch-ns", "now",
                            "--venues", venues, *sim_args], cwd=tmp_path, env=sim_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = json.loads(sim.stdout.readline())
    outputs = []

    def nexus(*args, venue=default_venue, keys=True, stdin=None, drop=()):
        e = {k: v for k, v in {**env, **client_keys}.items() if k not in drop} if keys else env
        urls = [] if "--rest-url" in args else [
            "--rest-url", info["venues"][venue]["rest"], "--ws-url", info["venues"][venue]["ws"]]
        r = subprocess.run([*NEXUS, *args, "--venue", venue, *urls], cwd=tmp_path, env=e, capture_output=True,
                           text=True, timeout=60, input=stdin)
        outputs.append(r.stdout + r.stderr)
        return r

    yield nexus, outputs
    sim.terminate()
    out, err = sim.communicate(timeout=20)
    outputs.append(out + err)
    written = [p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file()]
    secret_parts = [ln for ln in secret.splitlines() if ln and not ln.startswith("-----")]   # a PEM's body lines
    for blob in [o.encode() for o in outputs] + written:
        for part in secret_parts:
            assert part.encode() not in blob
        assert passphrase.encode() not in blob
        assert key.encode() not in blob          # the key id shows masked (4 characters) only


@pytest.fixture
def session(tmp_path):
    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    passphrase = "nxpass" + secrets.token_hex(12)
    with_keys = {f"NEXUS_{pkg}_API_{k}": v for pkg in ("BINANCE", "BYBIT", "OKX")
                 for k, v in (("KEY", key), ("SECRET", secret))}
    with_keys["NEXUS_OKX_API_PASSPHRASE"] = passphrase
    for nexus, outputs in _session(tmp_path, "binance-spot,binance-perp,bybit-perp,okx-swap", key, secret,
                                   passphrase, with_keys, "binance-perp"):
        yield nexus, key, secret, outputs


def test_cli_session_exit_codes_and_no_secret_anywhere(session):
    nexus, key, secret, outputs = session
    r = nexus("keys", "check", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["permissions"]["enableWithdrawals"] is False and info["api_key"] == key[:4] + "…"

    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "0.010",
              "--leverage", "10", "--json")
    assert r.returncode == 0, r.stderr
    placed = json.loads(r.stdout)
    assert placed["state"] == "filled" and placed["filled"] == "0.010"

    r = nexus("positions", "--json")
    assert r.returncode == 0, r.stderr
    pos = json.loads(r.stdout)[0]
    assert pos["qty"] == "0.010" and pos["leverage"] == 10 and pos["entry_price"] == placed["avg_price"]

    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "sell", "--type", "limit", "--qty", "0.010",
              "--price", "99999.0", "--reduce-only", "--client-id", "tpA1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
    r = nexus("order", "ls", "--json")
    assert [o["client_id"] for o in json.loads(r.stdout)] == ["tpA1"]
    r = nexus("order", "status", "--symbol", "BTCUSDT", "--client-id", "tpA1", "--json")
    assert json.loads(r.stdout)["state"] == "accepted"
    r = nexus("order", "cancel", "--symbol", "BTCUSDT", "--client-id", "tpA1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled"

    # an entry that rests with TP/SL: said plainly, nothing placed yet; --wait-fill waits for it
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "limit", "--qty", "0.010",
              "--price", "1000.0", "--tp-ticks", "20", "--client-id", "restA1", "--wait-fill", "0.5", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["state"] == "accepted" and out["brackets"] == [] and out["brackets_pending"] is True
    assert "its TP/SL were not placed" in r.stderr and "--wait-fill" in r.stderr
    r = nexus("order", "cancel", "--symbol", "BTCUSDT", "--client-id", "restA1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled"

    # the venue's rejection: exit 3 with its code and message
    r = nexus("order", "cancel", "--symbol", "BTCUSDT", "--client-id", "tpA1", "--json")
    assert r.returncode == 3 and json.loads(r.stdout)["code"] == -2011 and "Unknown order sent." in r.stderr
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "900.00000",
              venue="binance-spot")
    assert r.returncode == 3 and "-2010 Account has insufficient balance" in r.stderr
    # bad input: exit 2, nothing sent
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "limit", "--qty", "0.010",
              "--price", "65000.05")
    assert r.returncode == 2 and "multiple of 0.1" in r.stderr
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "0.01",
              "--agg")
    assert r.returncode == 2 and "AGG mode" in r.stderr
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "0.01",
              keys=False)
    assert r.returncode == 2 and "NEXUS_BINANCE_API_KEY" in r.stderr
    r = nexus("order", "place", "--symbol", "BTC/USD", "--side", "buy", "--type", "market", "--qty", "0.01",
              "--rest-url", "http://127.0.0.1:9", venue="kraken")
    assert r.returncode == 2 and "data-only" in r.stderr
    # keys piped on standard input work too
    r = nexus("keys", "check", "--keys-stdin", keys=False, stdin=f"{key}\n{secret}\n", venue="binance-spot")
    assert r.returncode == 0, r.stderr
    # network failure: exit 4
    dead = f"http://127.0.0.1:{_free_port()}/binance-perp"
    r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "0.010",
              "--rest-url", dead)
    assert r.returncode == 4 and "ConnectError" in r.stderr
    assert len(outputs) >= 16


@pytest.mark.parametrize("venue, symbol, qty, big, code", [
    ("bybit-perp", "BTCUSDT", "0.010", "900.000", "110007"),
    ("okx-swap", "BTC-USDT-SWAP", "1", "90000", "51008"),
])
def test_cli_session_bybit_okx(session, venue, symbol, qty, big, code):
    nexus, key, secret, outputs = session
    r = nexus("keys", "check", "--json", venue=venue)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["api_key"] == key[:4] + "…"
    r = nexus("order", "place", "--symbol", symbol, "--side", "buy", "--type", "market", "--qty", qty,
              "--leverage", "10", "--json", venue=venue)
    assert r.returncode == 0, r.stderr
    placed = json.loads(r.stdout)
    assert placed["state"] == "filled" and placed["filled"] == qty
    r = nexus("positions", "--json", venue=venue)
    pos = json.loads(r.stdout)[0]
    assert r.returncode == 0 and pos["qty"] == qty and pos["leverage"] == 10
    assert Decimal(pos["entry_price"]) == Decimal(placed["avg_price"])
    r = nexus("order", "place", "--symbol", symbol, "--side", "sell", "--type", "limit", "--qty", qty,
              "--price", "99999.0", "--reduce-only", "--client-id", "tpB1", "--json", venue=venue)
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
    r = nexus("order", "ls", "--json", venue=venue)
    assert [o["client_id"] for o in json.loads(r.stdout)] == ["tpB1"]
    r = nexus("order", "cancel", "--symbol", symbol, "--client-id", "tpB1", "--json", venue=venue)
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled"
    r = nexus("order", "status", "--symbol", symbol, "--client-id", "nosuch", "--json", venue=venue)
    assert r.returncode == 3 and "Order does not exist" in r.stderr
    r = nexus("order", "place", "--symbol", symbol, "--side", "buy", "--type", "market", "--qty", big, venue=venue)
    assert r.returncode == 3 and code in r.stderr
    r = nexus("order", "place", "--symbol", symbol, "--side", "buy", "--type", "limit", "--qty", qty,
              "--price", "65000.05", venue=venue)
    assert r.returncode == 2 and "multiple of 0.1" in r.stderr
    if venue == "okx-swap":
        r = nexus("order", "place", "--symbol", symbol, "--side", "buy", "--type", "market", "--qty", qty,
                  venue=venue, drop=("NEXUS_OKX_API_PASSPHRASE",))
        assert r.returncode == 2 and "silently" in r.stderr and "NEXUS_OKX_API_PASSPHRASE" in r.stderr
    r = nexus("order", "place", "--sim", "--symbol", symbol, "--side", "buy", "--type", "market", "--qty", qty,
              "--json", venue=venue, keys=False)
    assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr


def test_cli_session_coinbase(tmp_path):
    """Coinbase through the CLI: the key name and an EC private key (PEM) in the environment,
    the simulator registering its public half; the PEM's bytes appear nowhere."""
    from nexus.venues.coinbase.sign import new_es256_key

    key, pem = "organizations/nx" + secrets.token_hex(8) + "/apiKeys/" + secrets.token_hex(8), new_es256_key()[0]
    keys = {"NEXUS_COINBASE_API_KEY": key, "NEXUS_COINBASE_API_SECRET": pem}
    for nexus, outputs in _session(tmp_path, "coinbase", key, pem, "nxpass" + secrets.token_hex(12), keys, "coinbase"):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and info["permissions"]["can_transfer"] is False
        r = nexus("order", "place", "--symbol", "BTC-USD", "--side", "buy", "--type", "market", "--qty", "0.01",
                  "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["state"] == "filled"
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", "BTC-USD", "--side", "sell", "--type", "limit", "--qty", "0.01",
                  "--price", "999999.00", "--client-id", "cbA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "status", "--symbol", "BTC-USD", "--client-id", "cbA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "cancel", "--symbol", "BTC-USD", "--client-id", "cbA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "place", "--symbol", "BTC-USD", "--side", "buy", "--type", "market", "--qty", "50")
        assert r.returncode == 3 and "INSUFFICIENT_FUND" in r.stderr
        r = nexus("order", "place", "--symbol", "BTC-USD", "--side", "buy", "--type", "limit", "--qty", "0.01",
                  "--price", "65000.005")
        assert r.returncode == 2 and "multiple of 0.01" in r.stderr
        r = nexus("order", "place", "--symbol", "BTC-USD", "--side", "buy", "--type", "market", "--qty", "0.01",
                  keys=False)
        assert r.returncode == 2 and "NEXUS_COINBASE_API_KEY" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", "BTC-USD", "--side", "buy", "--type", "market", "--qty",
                  "0.01", "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        assert len(outputs) >= 10
