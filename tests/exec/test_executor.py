"""Order entry's refusals and retries against the simulator (real HTTP on 127.0.0.1): each bad
input of issue 14 gets a clear error, nothing is sent twice, positions stay as they were;
a timed-out order is queried by client id before any resend; Binance's auth failures come
back with Binance's own codes."""
import hashlib
import hmac
from decimal import Decimal

import httpx
import pytest

from nexus.exec.client import ClockDrift, VenueRejected
from nexus.exec.matrix import check_tradable
from nexus.exec.orders import OrderError, State
from tests.exec.tradesim import assert_key_refused, executor, run, simulator


def _unchanged(sim, venue, ex, before_orders):
    assert len(sim.exchange(venue).orders) == before_orders
    assert all(not p.qty for p in ex.positions.book.values())


@pytest.mark.parametrize("kw, match", [
    (dict(side="buy", type="limit", qty="0.010", price="65000.05"), "off the grid .* multiple of 0.1"),
    (dict(side="buy", type="market", qty="0.0105"), "off the grid .* multiple of 0.001"),
    (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
    (dict(side="buy", type="market", qty="-0.010"), "quantity must be positive"),
    (dict(side="buy", type="market", qty="0.010", leverage=200), "leverage must be 1 to 125"),
])
def test_bad_input_is_refused_before_sending(kw, match):
    async def body():
        async with simulator() as sim, executor(sim, "binance-perp") as ex:
            with pytest.raises(OrderError, match=match):
                await ex.place(await ex.request("BTCUSDT", **kw))
            assert ex.sends == 0
            _unchanged(sim, "binance-perp", ex, 0)
    run(body())


def test_unknown_symbol_reduce_only_and_venue_leverage_cap():
    async def body():
        async with simulator() as sim, executor(sim, "binance-perp") as ex:
            with pytest.raises(OrderError, match="unknown symbol 'DOGEUSDT' on binance-perp .*-1121"):
                await ex.request("DOGEUSDT", "buy", "market", "1")
            with pytest.raises(OrderError, match="reduce-only buy 0.010 BTCUSDT would increase or open"):
                await ex.place(await ex.request("BTCUSDT", "buy", "market", "0.010", reduce_only=True))
            assert ex.sends == 0
            _unchanged(sim, "binance-perp", ex, 0)
            # the venue's own refusal, if a client skipped the check: -2022, nothing changes
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.place(await ex.request("BTCUSDT", "sell", "market", "0.010", reduce_only=True))
            assert (e.value.code, e.value.message) == (-2022, "ReduceOnly Order is rejected.")
            with pytest.raises(VenueRejected, match="-4028"):
                await ex.adapter.set_leverage("BTCUSDT", 126)
            _unchanged(sim, "binance-perp", ex, 0)
    run(body())


def test_insufficient_balance_is_a_venue_rejection_with_its_code():
    async def body():
        async with simulator() as sim:
            for venue, qty, code, msg in (
                    ("binance-spot", "100.00000", -2010, "Account has insufficient balance for requested action."),
                    ("binance-perp", "900.000", -2019, "Margin is insufficient.")):
                async with executor(sim, venue) as ex:
                    req = await ex.request("BTCUSDT", "buy", "market", qty)
                    with pytest.raises(VenueRejected) as e:
                        await ex.place(req)
                    assert (e.value.code, e.value.message) == (code, msg)
                    o = ex.tracker.get(req.client_id)
                    assert o.state is State.REJECTED and str(code) in o.reason
                    assert ex.sends == 1
                    _unchanged(sim, venue, ex, 0)
    run(body())


@pytest.mark.parametrize("venue", ["kraken", "hyperliquid", "dydx"])
def test_data_only_and_bridge_venues_refuse_orders(venue):
    with pytest.raises(OrderError, match="data-only|bridge"):
        check_tradable(venue)


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator() as sim, executor(sim, "binance-spot", timeout_s=0.5) as ex:
            sim.exchange("binance-spot").delay_next_response(2.0)
            req = await ex.request("BTCUSDT", "buy", "market", "0.01000")
            o = await ex.place(req)
            assert o.state is State.FILLED
            assert ex.sends == 1                   # the query found it: not resent
            mine = [x for x in sim.exchange("binance-spot").orders.values() if x.client_id == req.client_id]
            assert len(mine) == 1 and len(sim.exchange("binance-spot").orders) == 1
            assert ex.positions.get("binance-spot", "BTCUSDT").qty == Decimal("0.01")
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    skew = {"ms": 0}

    async def body():
        async with simulator() as sim:
            import time
            clock = lambda: time.time_ns() // 1_000_000 + skew["ms"]   # noqa: E731
            async with executor(sim, "binance-perp", clock_ms=clock) as ex:
                skew["ms"] = -7000                 # the local clock jumps back 7 s after the sync
                req = await ex.request("BTCUSDT", "buy", "market", "0.010")
                with pytest.raises(ClockDrift) as e:
                    await ex.place(req)
                m = str(e.value)
                assert "-1021" in m and "outside of the recvWindow" in m and "sync your computer clock" in m
                drift = int(m.split("was ")[1].split(" ms")[0])
                assert -7100 <= drift <= -6900
                assert len(sim.exchange("binance-perp").orders) == 0
                # the refusal re-synced the offset to the skewed clock; the clock now jumps 10 s
                # forward: ahead by more than Binance's 1000 ms
                skew["ms"] = 3000
                with pytest.raises(ClockDrift, match="ahead of the server's time"):
                    await ex.adapter.place(await ex.request("BTCUSDT", "buy", "market", "0.010"))
    run(body())


def test_key_with_withdrawals_is_refused_with_the_seed_advice():
    async def body():
        async with simulator() as sim:
            sim.open_account("binance-spot", "key-W", "secret-W", can_withdraw=True)
            await assert_key_refused(sim, "binance-spot", "key-W", "secret-W")
    run(body())


def _signed(secret: str, q: str) -> str:
    return q + "&signature=" + hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()


def test_auth_failures_answer_with_binance_codes():
    async def body():
        async with simulator() as sim:
            sim.open_account("binance-spot", "key-A", "secret-A")
            base = sim.rest_url("binance-spot") + "/api/v3/order"
            async with httpx.AsyncClient() as c:
                now = (await c.get(sim.rest_url("binance-spot") + "/api/v3/time")).json()["serverTime"]
                q = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp={now}"
                cases = [
                    ({}, _signed("secret-A", q), 401, -2014),
                    ({"X-MBX-APIKEY": "nobody"}, _signed("secret-A", q), 401, -2015),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("wrong", q), 400, -1022),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("secret-A", q.replace(str(now), str(now - 6000))), 400, -1021),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("secret-A", q.replace(str(now), str(now + 1500))), 400, -1021),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("secret-A", q.replace("BTCUSDT", "XYZUSDT")), 400, -1121),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("secret-A", q.replace("0.01", "0.000001")), 400, -1013),
                    ({"X-MBX-APIKEY": "key-A"}, _signed("secret-A", q.replace("&side=BUY", "")), 400, -1102),
                ]
                for headers, query, status, code in cases:
                    r = await c.post(f"{base}?{query}", headers=headers)
                    assert (r.status_code, r.json()["code"]) == (status, code), (query, r.text)
                # a good one, with the parameters in the body: totalParams = query + body
                body_q = _signed("secret-A", f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&timestamp={now}")
                r = await c.post(base, content=body_q, headers={"X-MBX-APIKEY": "key-A",
                                                                "Content-Type": "application/x-www-form-urlencoded"})
                assert r.status_code == 200 and r.json()["status"] == "FILLED"
                assert len(sim.exchange("binance-spot").orders) == 1
    run(body())
