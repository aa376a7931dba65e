"""Binance RWA order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1, the simulated PAXGUSDT market): Binance spot's adapter and the simulator's Binance
spot endpoints, restricted to the whitelist of real-world-asset symbols. A symbol outside the
whitelist is refused before anything is sent, naming the whitelist."""
import asyncio
import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from nexus.exec.client import ClockDrift, VenueRejected
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, State
from nexus.instruments import Instrument
from nexus.venues.binance_rwa import whitelist
from nexus.venues.binance_rwa.orders import BinanceRwaAdapter
from tests.exec.tradesim import assert_key_refused, executor, place_through_a_timeout, run, simulator

VENUE = "binance-rwa"
SYMBOL = "PAXGUSDT"
QTY = "0.5000"
BALANCES = {"USDT": "1000000", "PAXG": "10"}
DOCS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "binance" / "trade_docs.json").read_text())


@pytest.fixture(autouse=True)
def default_whitelist(monkeypatch):
    monkeypatch.delenv(whitelist.ENV, raising=False)


def rwa_sim(**kw):
    return simulator(venues=(VENUE,), symbol=SYMBOL, **kw)


def rwa_executor(sim, key="key-A", secret="secret-A", **kw):
    if kw.get("open_account", True):
        sim.open_account(VENUE, key, secret, balances=BALANCES)
    return executor(sim, VENUE, key, secret, **{**kw, "open_account": False})


def test_market_fills_stream_reaches_tracker_and_balances_move():
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim) as ex:
            inst = await ex.instrument(SYMBOL)
            assert (inst.tick_size, inst.lot_size, inst.base, inst.quote) == ("0.01", "0.0001", "PAXG", "USDT")
            req = await ex.request(SYMBOL, "buy", "market", QTY)
            o = await ex.place(req)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = sim.exchange(VENUE).by_client[("key-A", req.client_id)]
            assert so.status == "FILLED" and o.avg_price == so.notional / sim.exchange(VENUE).base_qty(so.filled)
            held = {p.symbol: p.qty for p in await ex.adapter.positions()}
            assert held["PAXG"] == Decimal("10") + Decimal(QTY)
            # the user-data stream's executionReport for it reached the tracker (no unknown updates)
            for _ in range(50):
                if any(e.dst is State.FILLED for e in o.events) and ex.unknown_updates == 0:
                    break
                await asyncio.sleep(0.05)
            assert ex.positions.get(VENUE, SYMBOL).qty == Decimal(QTY)
            back = await ex.place(await ex.request(SYMBOL, "sell", "market", QTY))
            assert back.state is State.FILLED and ex.positions.get(VENUE, SYMBOL).qty == 0
    run(body())


def test_limit_rests_then_fills_when_crossed_and_cancel():
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim) as ex:
            await ex.instrument(SYMBOL)
            below = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - Decimal("0.20"))
            o = await ex.place(await ex.request(SYMBOL, "buy", "limit", QTY, price=below))
            assert o.state is State.ACCEPTED
            assert [u.client_id for u in await ex.adapter.open_orders(SYMBOL)] == [o.client_id]
            assert [u.client_id for u in await ex.adapter.open_orders()] == [o.client_id]
            sim.open_account(VENUE, "key-B", "secret-B", balances={"PAXG": "100000", "USDT": "100000000"})
            async with rwa_executor(sim, "key-B", "secret-B", open_account=False, stream=False) as other:
                ahead = sum(Decimal(q) for p, q in sim.book(VENUE)["bids"] if Decimal(p) >= Decimal(below))
                await other.place(await other.request(SYMBOL, "sell", "limit", str(2 * ahead + Decimal(QTY)),
                                                      price=below))
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            assert o.avg_price == Decimal(below)
            # a second one, cancelled
            c = await ex.place(await ex.request(SYMBOL, "buy", "limit", QTY, price=str(Decimal(below) - 1)))
            u = await ex.cancel(SYMBOL, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED
            assert await ex.adapter.open_orders(SYMBOL) == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(SYMBOL, "nosuchorder")
            assert (e.value.code, e.value.message) == (-2011, "Unknown order sent.")
            assert await ex.adapter.query(SYMBOL, "nosuchorder") is None
    run(body())


def test_stop_triggers_on_last_price():
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim) as ex:
            ask = sim.book(VENUE)["asks"][0][0]
            o = await ex.place(await ex.request(SYMBOL, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED
            sim.open_account(VENUE, "key-B", "secret-B", balances={"PAXG": "100000", "USDT": "100000000"})
            async with rwa_executor(sim, "key-B", "secret-B", open_account=False, stream=False) as other:
                walk = 2 * sum(Decimal(q) for _, q in sim.book(VENUE)["asks"][:5])
                await other.place(await other.request(SYMBOL, "buy", "market", str(walk)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY)
    run(body())


def test_non_rwa_symbol_is_refused_before_sending_naming_the_whitelist(monkeypatch):
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim) as ex:
            for call in (lambda: ex.request("BTCUSDT", "buy", "market", "0.01"),
                         lambda: ex.adapter.cancel("BTCUSDT", "x1"), lambda: ex.adapter.query("ETHUSDT", "x1"),
                         lambda: ex.adapter.open_orders("BTCUSDT")):
                with pytest.raises(OrderError, match=r"'(BTC|ETH)USDT' is not a whitelisted real-world-asset symbol "
                                                     r"\(whitelisted base assets: PAXG; set NEXUS_BINANCE_RWA_ASSETS"):
                    await call()
            # an OrderRequest built elsewhere (on binance-spot's BTCUSDT grid) is refused too
            inst = Instrument("binance-spot", "BTCUSDT", "0.01", "0.00001", "1", "spot", "BTC", "USDT", 8, 8)
            req = OrderRequest.make(inst, "buy", "market", "0.01000")
            with pytest.raises(OrderError, match="not a whitelisted"):
                await ex.place(req)
            with pytest.raises(OrderError, match="not a whitelisted"):
                ex.adapter.order_bytes(req)
            assert ex.sends == 0
            assert len(sim.exchange(VENUE).orders) == 0 and sim.exchange(VENUE).spec.symbol == SYMBOL
    run(body())


def test_whitelist_from_the_environment_lets_a_symbol_through(monkeypatch):
    monkeypatch.setenv(whitelist.ENV, "PAXG,BTC")

    async def body():
        async with simulator(venues=(VENUE,)) as sim, rwa_executor(sim) as ex:     # the BTCUSDT market
            o = await ex.place(await ex.request("BTCUSDT", "buy", "market", "0.01000"))
            assert o.state is State.FILLED
    run(body())


def test_stream_updates_of_other_symbols_are_dropped():
    a = BinanceRwaAdapter(Credentials(VENUE, "k", "s"))
    assert DOCS["execution_report"]["s"] == "ETHBTC" and a.stream_update(DOCS["execution_report"]) is None
    mine = a.stream_update({**DOCS["execution_report"], "s": "PAXGUSDT"})
    assert mine is not None and mine.symbol == "PAXGUSDT" and mine.client_id == "mUvoqJxFIILMdfAW5iGSOW"
    b = BinanceRwaAdapter(Credentials(VENUE, "key-X", "secret-X"))
    assert "secret-X" not in repr(b) and "key-X" not in repr(b)


def test_order_bytes_are_binance_spot_signed_requests():
    a = BinanceRwaAdapter(Credentials(VENUE, "key-A", "secret-A"), clock_ms=lambda: 1_700_000_000_000)
    inst = Instrument(VENUE, SYMBOL, "0.01", "0.0001", "1", "spot", "PAXG", "USDT", 8, 8)
    raw = a.order_bytes(OrderRequest.make(inst, "buy", "limit", "0.5000", price="2650.00", client_id="rwa1"))
    line = raw.split(b"\r\n")[0].decode()
    assert line.startswith("POST /api/v3/order?symbol=PAXGUSDT&side=BUY&type=LIMIT&timeInForce=GTC")
    q = line.split("?", 1)[1].rsplit(" ", 1)[0]
    unsigned, sig = q.rsplit("&signature=", 1)
    assert sig == hmac.new(b"secret-A", unsigned.encode(), hashlib.sha256).hexdigest()
    assert b"X-MBX-APIKEY: key-A" in raw and b"Host: api.binance.com" in raw
    assert BinanceRwaAdapter(Credentials(VENUE, "k", "s"), testnet=True).rest_url == "https://testnet.binance.vision"


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYMBOL, "buy", QTY)
    run(body())


def test_bad_input_refused_and_venue_codes():
    async def body():
        async with rwa_sim() as sim, rwa_executor(sim) as ex:
            with pytest.raises(OrderError, match="off the grid .* multiple of 0.01"):
                await ex.request(SYMBOL, "buy", "limit", QTY, price="2650.005")
            with pytest.raises(OrderError, match="off the grid .* multiple of 0.0001"):
                await ex.request(SYMBOL, "buy", "market", "0.00005")
            with pytest.raises(OrderError, match="no reduce-only"):
                await ex.adapter.place(await ex.request(SYMBOL, "sell", "market", QTY, reduce_only=True))
            req = await ex.request(SYMBOL, "buy", "market", "900.0000")
            with pytest.raises(VenueRejected) as e:
                await ex.place(req)
            assert (e.value.code, e.value.message) == (-2010, "Account has insufficient balance for requested action.")
            assert len(sim.exchange(VENUE).orders) == 0
    run(body())


def test_clock_drift_names_the_drift():
    skew = {"ms": 0}

    async def body():
        async with rwa_sim() as sim:
            clock = lambda: time.time_ns() // 1_000_000 + skew["ms"]   # noqa: E731
            async with rwa_executor(sim, clock_ms=clock) as ex:
                skew["ms"] = -7000
                with pytest.raises(ClockDrift) as e:
                    await ex.place(await ex.request(SYMBOL, "buy", "market", QTY))
                assert "-1021" in str(e.value) and "sync your computer clock" in str(e.value)
                assert len(sim.exchange(VENUE).orders) == 0
    run(body())


def test_key_with_withdrawals_is_refused():
    async def body():
        async with rwa_sim() as sim:
            sim.open_account(VENUE, "key-W", "secret-W", can_withdraw=True)
            await assert_key_refused(sim, VENUE, "key-W", "secret-W")
    run(body())


def _signed(secret: str, q: str) -> str:
    return q + "&signature=" + hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()


def test_bad_signature_and_expired_timestamp_answer_binance_codes():
    async def body():
        async with rwa_sim() as sim:
            sim.open_account(VENUE, "key-A", "secret-A", balances=BALANCES)
            base = sim.rest_url(VENUE)
            async with httpx.AsyncClient() as c:
                now = (await c.get(base + "/api/v3/time")).json()["serverTime"]
                q = f"symbol={SYMBOL}&side=BUY&type=MARKET&quantity=0.5&timestamp={now}"
                h = {"X-MBX-APIKEY": "key-A"}
                for query, code, msg in (
                        (_signed("wrong", q), -1022, "Signature for this request is not valid."),
                        (_signed("secret-A", q.replace(str(now), str(now - 6000))), -1021,
                         "Timestamp for this request is outside of the recvWindow."),
                        (_signed("secret-A", q.replace("0.5", "0.00001")), -1013, "Filter failure: LOT_SIZE")):
                    r = await c.post(f"{base}/api/v3/order?{query}", headers=h)
                    assert (r.status_code, r.json()) == (400, {"code": code, "msg": msg})
                assert len(sim.exchange(VENUE).orders) == 0
                r = await c.post(f"{base}/api/v3/order?{_signed('secret-A', q)}", headers=h)
                assert r.status_code == 200 and r.json()["status"] == "FILLED"
    run(body())


def test_cli_sim_round_trip_and_refusal():
    import subprocess
    import sys

    def nexus(*args):
        return subprocess.run([sys.executable, "-m", "nexus.cli", "order", "place", "--venue", VENUE, "--sim",
                               "--side", "buy", "--type", "market", "--json", *args], capture_output=True,
                              text=True, timeout=60)

    r = nexus("--symbol", SYMBOL, "--qty", QTY)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["venue"], out["symbol"], out["state"], Decimal(out["filled"])) == (VENUE, SYMBOL, "filled",
                                                                                    Decimal(QTY))
    r = nexus("--symbol", "BTCUSDT", "--qty", "0.01")
    assert r.returncode == 2 and json.loads(r.stdout)["exit"] == 2
    assert "not a whitelisted real-world-asset symbol (whitelisted base assets: PAXG" in r.stderr


def test_cli_session_with_keys_in_the_environment_leaves_no_secret(tmp_path):
    from tests.exec.test_order_cli import _session

    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    keys = {"NEXUS_BINANCE_API_KEY": key, "NEXUS_BINANCE_API_SECRET": secret}
    for nexus, outputs in _session(tmp_path, VENUE, key, secret, "nxpass" + secrets.token_hex(12), keys, VENUE,
                                   sim_args=("--symbol", SYMBOL)):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["permissions"]["enableWithdrawals"] is False, r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "100.00", "--client-id", "rwaL1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--json")
        assert [o["client_id"] for o in json.loads(r.stdout)] == ["rwaL1"]
        r = nexus("order", "cancel", "--symbol", SYMBOL, "--client-id", "rwaL1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "PAXG" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", "BTCUSDT", "--side", "buy", "--type", "market", "--qty", "0.01")
        assert r.returncode == 2 and "NEXUS_BINANCE_RWA_ASSETS" in r.stderr
        assert len(outputs) == 7
