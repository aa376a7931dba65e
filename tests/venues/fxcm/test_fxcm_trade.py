"""FXCM order entry end to end against the simulator: the adapter opens the real socket.io
connection (engine.io packets over a WebSocket on 127.0.0.1), authenticates REST requests
with "Bearer " + socket id + token, and learns fills from the trading-table rows the
simulator pushes on that socket. Documented samples: tests/fixtures/venues/fxcm/trade_docs.json."""
import asyncio
import json
import secrets
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, State
from nexus.instruments import Instrument
from nexus.sim.market import ASK, BID
from nexus.venues.fxcm.orders import FxcmAdapter, _rejection, _table_ms
from tests.exec.tradesim import adapter, executor, run, send_raw, simulator

VENUE, SYMBOL = "fxcm", "BTC/USD"
RICH = {"USD": "100000000"}
DOCS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "fxcm" / "trade_docs.json").read_text())


def fx_sim(**kw):
    return simulator(venues=(VENUE,), **kw)


def quotes(sim) -> tuple[Decimal, Decimal]:
    b = sim.book(VENUE)
    return Decimal(b["bids"][0][0]), Decimal(b["asks"][0][0])


async def rest(sim, ex, method, path, form=""):
    """A raw REST request on the executor's own socket (its bearer)."""
    headers = ex.adapter._headers(method == "POST")
    async with httpx.AsyncClient() as c:
        url = sim.rest_url(VENUE) + path
        r = await (c.post(url, content=form, headers=headers) if method == "POST" else
                   c.get(url + "?" + form, headers=headers))
    return r.status_code, r.json()


def test_market_fills_from_the_socket_rows_and_closes():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            assert ex.adapter.account_id == "1027808" and ex.adapter.hedging == "N"
            inst = await ex.instrument(SYMBOL)
            assert (inst.tick_size, inst.lot_size, inst.quote) == ("0.01", "1", "USD")
            req = await ex.request(SYMBOL, "buy", "market", "2")
            o = await ex.place(req)
            assert o.state is State.FILLED and o.filled_qty == 2 and ex.sends == 1
            so = next(x for x in sim.exchange(VENUE).orders.values() if x.client_id == o.venue_order_id)
            assert so.status == "FILLED" and o.avg_price == so.notional / 2
            pos = {p.symbol: p for p in await ex.adapter.positions()}[SYMBOL]
            assert pos.qty == 2 and pos.entry_price == o.avg_price
            assert ex.positions.get(VENUE, SYMBOL).qty == 2
            # closing it: a reduce-only market is an opposite open_trade that FXCM nets (account "N")
            back = await ex.place(await ex.request(SYMBOL, "sell", "market", "2", reduce_only=True))
            assert back.state is State.FILLED and ex.positions.get(VENUE, SYMBOL).qty == 0
            assert await ex.adapter.positions() == []
            _, snap = await rest(sim, ex, "GET", "/trading/get_model", "models=ClosedPosition")
            closed = snap["closed_positions"]
            assert sum(Decimal(str(c["amountK"])) for c in closed) == 2
            assert {c["orderId"] for c in closed} == {back.venue_order_id}
    run(body())


def test_limit_entry_rests_then_fills_when_crossed_stream_reaches_tracker():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            await ex.instrument(SYMBOL)
            bid, _ = quotes(sim)
            price = bid - Decimal("20.00")
            o = await ex.place(await ex.request(SYMBOL, "buy", "limit", "1", price=str(price)))
            assert o.state is State.ACCEPTED
            opens = await ex.adapter.open_orders(SYMBOL)
            assert [u.client_id for u in opens] == [o.client_id] and opens[0].venue_status == "Waiting"
            _, snap = await rest(sim, ex, "GET", "/trading/get_model", "models=Order")
            assert snap["orders"][0]["type"] == "LE" and snap["orders"][0]["isLimitOrder"] is True
            sim.open_account(VENUE, "key-B", "secret-B", balances=RICH)
            async with executor(sim, VENUE, "key-B", "secret-B", open_account=False, stream=False) as other:
                # every lot bid down to our price, and more (the flow keeps adding bids)
                ahead = sum(q for p, q in sim.exchange(VENUE).vs.levels(BID) if p >= int(price * 100))
                await other.place(await other.request(SYMBOL, "sell", "market", str(2 * ahead + 1)))
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            assert o.avg_price == price and o.filled_qty == 1
            assert ex.positions.get(VENUE, SYMBOL).qty == 1
    run(body())


def test_stop_entry_triggers_on_last_price():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            await ex.instrument(SYMBOL)
            _, ask = quotes(sim)
            stop = ask + 10    # well above the touch: the live book may move before the order arrives
            o = await ex.place(await ex.request(SYMBOL, "buy", "stop", "1", stop_price=str(stop)))
            assert o.state is State.ACCEPTED
            _, snap = await rest(sim, ex, "GET", "/trading/get_model", "models=Order")
            assert snap["orders"][0]["type"] == "SE"
            sim.open_account(VENUE, "key-B", "secret-B", balances=RICH)
            async with executor(sim, VENUE, "key-B", "secret-B", open_account=False, stream=False) as other:
                walk = 2 * sum(q for p, q in sim.exchange(VENUE).vs.levels(ASK) if p <= int(stop * 100)) + 1
                await other.place(await other.request(SYMBOL, "buy", "market", str(walk)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == 1
    run(body())


def test_cancel_unknown_orders_and_cross_session_order_id():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            await ex.instrument(SYMBOL)
            bid, _ = quotes(sim)
            o = await ex.place(await ex.request(SYMBOL, "buy", "limit", "1", price=str(bid - 30)))
            # another session knows it only by FXCM's order id
            async with executor(sim, VENUE, open_account=False, stream=False) as other:
                st = await other.adapter.query(SYMBOL, o.venue_order_id)
                assert st is not None and st.state is State.ACCEPTED and st.venue_order_id == o.venue_order_id
            u = await ex.cancel(SYMBOL, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED
            assert await ex.adapter.open_orders() == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(SYMBOL, o.venue_order_id)       # already gone
            assert (e.value.code, e.value.message) == (1, "The specified order does not exist")
            with pytest.raises(OrderError, match="no FXCM order is known for client id 'nosuch'"):
                await ex.adapter.cancel(SYMBOL, "nosuch")
            assert await ex.adapter.query(SYMBOL, "nosuch") is None
    run(body())


def test_timeout_finds_the_order_on_the_socket_and_never_doubles():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            await ex.instrument(SYMBOL)
            sim.exchange(VENUE).delay_next_response(2.0)
            req = await ex.request(SYMBOL, "buy", "market", "1")
            o = await ex.place(req)
            assert ex.sends == 1 and len(sim.exchange(VENUE).orders) == 1
            so = next(iter(sim.exchange(VENUE).orders.values()))
            assert o.venue_order_id == so.client_id and o.state is State.FILLED
            assert ex.positions.get(VENUE, SYMBOL).qty == 1
            # a resting entry whose answer is lost: found in the Order table snapshot / pushes
            bid, _ = quotes(sim)
            sim.exchange(VENUE).delay_next_response(2.0)
            o2 = await ex.place(await ex.request(SYMBOL, "sell", "limit", "1", price=str(bid + 500)))
            assert ex.sends == 2 and len(sim.exchange(VENUE).orders) == 2 and o2.state is State.ACCEPTED
    run(body())


def test_bad_input_refused_before_sending():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            bid, ask = quotes(sim)
            cases = [
                (dict(side="buy", type="limit", qty="1", price=str(bid - 1) + "5"), "off the grid .* multiple of 0.01"),
                (dict(side="buy", type="market", qty="1.5"), "off the grid .* multiple of 1"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="buy", type="limit", qty="1", price=str(ask + 100)), "FXCM would make it a stop entry"),
                (dict(side="sell", type="limit", qty="1", price=str(bid - 100)), "FXCM would make it a stop entry"),
                (dict(side="buy", type="stop", qty="1", stop_price=str(ask - 100)), "FXCM would make it a limit entry"),
                (dict(side="buy", type="market", qty="1", reduce_only=True), "reduce-only buy 1 BTC/USD would increase"),
                (dict(side="buy", type="market", qty="1", leverage=5), "leverage is set per account by FXCM"),
            ]
            for kw, match in cases:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYMBOL, **kw))
            with pytest.raises(OrderError, match="unknown symbol 'EUR/USD' on fxcm"):
                await ex.request("EUR/USD", "buy", "market", "1")
            await ex.place(await ex.request(SYMBOL, "buy", "market", "1"))
            await ex.place(await ex.request(SYMBOL, "buy", "market", "1"))
            # a reduce-only limit is the trade's own limit: one trade of its quantity, or refused
            with pytest.raises(OrderError, match=r"must hold one trade of 2 to close \(trades: \d+: 1, \d+: 1\)"):
                await ex.place(await ex.request(SYMBOL, "sell", "limit", "2", price=str(ask + 100), reduce_only=True))
            assert len(sim.exchange(VENUE).orders) == 2
            sim.exchange(VENUE).orders.clear()
            assert len(sim.exchange(VENUE).orders) == 0     # nothing since the two market orders
    run(body())


def test_tp_sl_are_the_trades_own_limit_and_stop_and_go_with_it():
    """An entry with TP/SL: the take-profit and stop-loss become the trade's limit and stop
    (change_trade_stop_limit); the take-profit fills when the market rises through it, the
    trade closes and FXCM cancels its stop."""
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYMBOL)
            o = await ex.place(await ex.request(SYMBOL, "buy", "market", "1", tp_ticks=2000, sl_ticks=4000))
            assert o.state is State.FILLED and ex.bracket_errors == []
            tp, sl = [x for x in ex.tracker.orders.values() if x is not o]
            tick = Decimal(inst.tick_size)
            assert tp.request.price == o.avg_price + 2000 * tick and sl.request.stop_price == o.avg_price - 4000 * tick
            assert tp.state is State.ACCEPTED and sl.state is State.ACCEPTED
            _, snap = await rest(sim, ex, "GET", "/trading/get_model", "models=Order&models=OpenPosition")
            assert sorted(r["type"] for r in snap["orders"]) == ["L", "S"]
            assert {r["tradeId"] for r in snap["orders"]} == {snap["open_positions"][0]["tradeId"]}
            pos = snap["open_positions"][0]
            assert (Decimal(str(pos["limit"])), Decimal(str(pos["stop"]))) == (tp.request.price, sl.request.stop_price)
            sim.open_account(VENUE, "key-B", "secret-B", balances=RICH)
            async with executor(sim, VENUE, "key-B", "secret-B", open_account=False, stream=False) as other:
                above = sum(q for p, q in sim.exchange(VENUE).vs.levels(ASK) if p <= int(tp.request.price * 100))
                await other.place(await other.request(SYMBOL, "buy", "market", str(2 * above + 1)))
            await ex.wait_for(tp.client_id, lambda x: x.state is State.FILLED, 5)
            await ex.wait_for(sl.client_id, lambda x: x.state.terminal, 5)
            assert sl.state is State.CANCELLED and ex.positions.get(VENUE, SYMBOL).qty == 0
            assert await ex.adapter.open_orders() == [] and await ex.adapter.positions() == []
            # the documented refusal of a stop on the wrong side of the market
            await ex.place(await ex.request(SYMBOL, "buy", "market", "1"))
            tid = (await ex.adapter.positions())[0].extra["trades"][0]
            status, doc = await rest(sim, ex, "POST", "/trading/change_trade_stop_limit",
                                     f"trade_id={tid}&is_stop=true&rate=999999.00&is_in_pips=false&trailing_step=0")
            assert json.loads(doc["response"]["error"]) == {"code": 18, "message": "The Stop distance must be ",
                                                            "parameters": ["<", 0]}
    run(body())


def test_venue_refusals_in_fxcms_shapes():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            await ex.instrument(SYMBOL)
            acct = ex.adapter.account_id
            # insufficient margin: a venue rejection with its code, the order rejected, nothing held
            req = await ex.request(SYMBOL, "buy", "market", "100000")
            with pytest.raises(VenueRejected) as e:
                await ex.place(req)
            assert (e.value.code, e.value.message) == (5, "Not enough margin")
            assert ex.tracker.get(req.client_id).state is State.REJECTED
            # the documented refusals, raw
            status, doc = await rest(sim, ex, "POST", "/trading/open_trade",
                                     f"account_id={acct}&symbol=BTC%2FUSD&is_buy=true&rate=0&amount=1.5&at_market=0"
                                     "&order_type=AtMarket&time_in_force=GTC")
            assert status == 200 and doc["response"]["executed"] is False
            assert json.loads(doc["response"]["error"]) == {"code": 3, "message": "Amount should be divisible by 1",
                                                            "parameters": ["1"]}
            status, doc = await rest(sim, ex, "POST", "/trading/close_trade",
                                     "trade_id=999&amount=1&at_market=0&order_type=AtMarket&time_in_force=GTC")
            assert json.loads(doc["response"]["error"])["message"] == "The specified trade does not exist"
            assert len(sim.exchange(VENUE).orders) == 0
            # a request whose bearer is not an open socket's: 401 Unauthorized
            async with httpx.AsyncClient() as c:
                r = await c.get(sim.rest_url(VENUE) + "/trading/get_model?models=Order",
                                headers={"Authorization": "Bearer " + "x" * 20 + "secret-A"})
            assert (r.status_code, r.json()) == (401, {"response": {"executed": False, "error": "Unauthorized"}})
        # a wrong token: the socket is refused (44 Unauthorized) and so is the session
        async with fx_sim() as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            ad = adapter(sim, VENUE, "key-A", "wrong-token")
            with pytest.raises(VenueRejected) as e:
                await ad.connect()
            assert (e.value.code, e.value.message) == (401, "Unauthorized")
            await ad.close()
    run(body())


def test_documented_bodies_parse_and_sim_rows_have_the_documented_fields():
    assert isinstance(_rejection(DOCS["error_trade_unknown"]["error"], 200), VenueRejected)
    e = _rejection(DOCS["error_trade_unknown"]["error"], 200)
    assert (e.code, e.message) == (1, "The specified trade does not exist")
    e = _rejection(DOCS["error_stop_distance"]["error"], 200)
    assert e.code == 18 and e.message == "The Stop distance must be < 0"
    e = _rejection(json.dumps(DOCS["error_amount"]), 200)
    assert (e.code, e.message) == (3, "Amount should be divisible by 10")

    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            pushed: dict[str, list[dict]] = {}
            ad = ex.adapter
            real = ad._event

            async def spy(text):
                name, data = json.loads(text[2:])
                pushed.setdefault(name, []).append(json.loads(data))
                await real(text)
            ad._event = spy
            code, doc = await rest(sim, ex, "POST", "/trading/subscribe", "models=Account")
            assert doc == DOCS["subscribe"]
            o = await ex.place(await ex.request(SYMBOL, "buy", "market", "1"))
            assert o.state is State.FILLED
            bid, _ = quotes(sim)
            entry = await ex.place(await ex.request(SYMBOL, "buy", "limit", "1", price=str(bid - 40)))
            _, snap = await rest(sim, ex, "GET", "/trading/get_model",
                                 "models=Order&models=OpenPosition&models=Account")
            assert set(snap["orders"][0]) == set(DOCS["orders"][0])
            assert set(snap["open_positions"][0]) == set(DOCS["open_positions"][0]) | {"orderId"}
            assert set(snap["accounts"][0]) == set(DOCS["accounts"][0])
            assert set(pushed["Order"][0]) == set(DOCS["order_pushed"])
            await ex.cancel(SYMBOL, entry.client_id)
            back = await ex.place(await ex.request(SYMBOL, "sell", "market", "1"))
            assert back.state is State.FILLED
            await asyncio.sleep(0.2)
            assert set(pushed["ClosedPosition"][0]) == set(DOCS["closed_positions"][0]) | {"orderId", "action"}
            code, doc = await rest(sim, ex, "POST", "/trading/delete_order", f"order_id={entry.venue_order_id}")
            assert doc["response"]["executed"] is False
    run(body())


def test_token_from_the_environment_or_stdin_never_shown():
    import io

    from nexus.exec import keys

    token = secrets.token_hex(20)
    creds = keys.load(VENUE, env={"NEXUS_FXCM_TOKEN": token})
    assert creds.secret == token and creds.api_key == keys.token_id(token) and token not in repr(creds)
    assert keys.load(VENUE, env={}, stdin=io.StringIO(token + "\n")).secret == token
    with pytest.raises(keys.KeysMissing, match="set NEXUS_FXCM_TOKEN"):
        keys.load(VENUE, env={"NEXUS_FXCM_API_KEY": "k", "NEXUS_FXCM_API_SECRET": "s"})


def test_a_closed_socket_is_a_network_failure_not_a_rejection():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            await ex.instrument(SYMBOL)
            for c in list(sim.server.conns[VENUE]):
                c.abort()
            await asyncio.wait_for(asyncio.shield(ex.adapter._closed), 5)
            from nexus.exec.client import NetworkFailure
            with pytest.raises(NetworkFailure):
                await ex.place(await ex.request(SYMBOL, "buy", "market", "1"))
            assert len(sim.exchange(VENUE).orders) == 0
    run(body())


def test_table_times_read_as_documented():
    # the README's pushed Order record: 04/25/2018 12:07:16.391; the guide's snapshot rows: no ms
    assert _table_ms(DOCS["order_pushed"]["time"]) == 1524658036391
    assert _table_ms(DOCS["open_positions"][0]["time"]) == 1505486372000
    assert _table_ms("") is None and _table_ms("13452017000000") is None


def test_order_bytes_are_the_documented_form_request():
    ad = FxcmAdapter(Credentials(VENUE, "tok-id", "0123456789abcdef0123456789abcdef01234567"))
    ad.sid, ad.account_id = "HHGqC3Gao2ENa5tNAAEu", "1027808"
    inst = Instrument(VENUE, SYMBOL, "0.01", "1", "1", "linear", "BTC", "USD", 2, 0)
    raw = ad.order_bytes(OrderRequest.make(inst, "sell", "market", "5"))
    head, body = raw.decode().split("\r\n\r\n")
    assert head.startswith("POST /trading/open_trade HTTP/1.1\r\nHost: api.fxcm.com")
    assert "Authorization: Bearer HHGqC3Gao2ENa5tNAAEu0123456789abcdef0123456789abcdef01234567" in head
    assert body == ("account_id=1027808&symbol=BTC%2FUSD&is_buy=false&rate=0&amount=5&at_market=0"
                    "&order_type=AtMarket&time_in_force=GTC")
    assert f"Content-Length: {len(body)}" in head
    raw = ad.order_bytes(OrderRequest.make(inst, "buy", "limit", "2", price="64000.50"))
    assert raw.decode().split("\r\n\r\n")[1] == ("account_id=1027808&symbol=BTC%2FUSD&is_buy=true&rate=64000.50"
                                                 "&amount=2&is_in_pips=false&order_type=Entry&time_in_force=GTC")
    assert "0123456789abcdef" not in repr(ad)
    assert FxcmAdapter(Credentials(VENUE, "k", "t"), testnet=True).rest_url == "https://api-demo.fxcm.com"


def test_order_bytes_are_accepted_as_sent():
    """The bytes `nexus bench exec` times, with a live session's socket id, written raw to the
    simulator (its venue prefix added to the request line): the order is placed."""
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            req = await ex.request(SYMBOL, "buy", "market", "1")
            raw = ex.adapter.order_bytes(req).replace(b" /", f" /{VENUE}/".encode(), 1)
            doc = await send_raw(sim, VENUE, raw)
            assert doc["response"] == {"executed": True} and doc["data"]["type"] == 0
            so = next(iter(sim.exchange(VENUE).orders.values()))
            assert so.client_id == str(doc["data"]["orderId"]) and so.status == "FILLED"
    run(body())


def test_key_check_reports_account_and_server_time():
    async def body():
        async with fx_sim() as sim, executor(sim, VENUE) as ex:
            info = await ex.adapter.key_info()
            assert info["account_id"] == "1027808" and info["permissions"] == {"withdrawals": False}
            assert abs(info["time_offset_ms"]) <= 1500 and info["api_key"] == "key-…"
        # the server's clock an hour behind ours: the Date header says so
        import time

        from nexus.sim.simulator import Simulator
        async with Simulator(seed=5, venues=[VENUE], epoch_ns=(time.time_ns() - 3600 * 10**9) // 10**6 * 10**6) as sim:
            async with executor(sim, VENUE) as ex:
                assert abs((await ex.adapter.key_info())["time_offset_ms"] + 3_600_000) <= 1500
    run(body())


NEXUS = [sys.executable, "-m", "nexus.cli"]


def test_cli_sim_round_trip():
    r = subprocess.run([*NEXUS, "order", "place", "--venue", VENUE, "--sim", "--symbol", SYMBOL, "--side", "buy",
                        "--type", "market", "--qty", "1", "--json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["venue"], out["state"], out["filled"]) == (VENUE, "filled", "1") and out["venue_order_id"]


def test_cli_session_with_the_token_in_the_environment_leaves_no_token(tmp_path):
    from tests.exec.test_order_cli import _session

    token = secrets.token_hex(20)
    for nexus, outputs in _session(tmp_path, VENUE, "nxkey" + secrets.token_hex(8), token,
                                   "nxpass" + secrets.token_hex(12), {"NEXUS_FXCM_TOKEN": token}, VENUE):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["account_id"] == "1027808", r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", "1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        r = nexus("positions", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)[0]["qty"] == "1", r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "limit", "--qty", "1",
                  "--price", "1000.00", "--json")
        assert r.returncode == 0, r.stderr
        placed = json.loads(r.stdout)
        assert placed["state"] == "accepted"
        r = nexus("order", "ls", "--json")
        assert [o["venue_order_id"] for o in json.loads(r.stdout)] == [placed["venue_order_id"]]
        # another process: the order by FXCM's order id
        r = nexus("order", "cancel", "--symbol", SYMBOL, "--client-id", placed["venue_order_id"], "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", "100000")
        assert r.returncode == 3 and "5 Not enough margin" in r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", "1",
                  keys=False)
        assert r.returncode == 2 and "NEXUS_FXCM_TOKEN" in r.stderr
        r = nexus("keys", "check", "--keys-stdin", keys=False, stdin=token + "\n")
        assert r.returncode == 0, r.stderr
        assert len(outputs) == 9
