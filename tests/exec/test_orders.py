"""The order model: requests checked exactly on the instrument's grid before anything is
sent, the one transition table, fills applied once, TP/SL in ticks of the symbol's tick."""

from decimal import Decimal as D

import pytest

from nexus.exec.orders import (
    CLIENT_ID_LEN_MAX, TERMINAL, TRANSITIONS, OrderError, OrderRequest, OrderTracker, OrderType, Side,
    State, TransitionError, bracket, new_client_id,
)
from nexus.instruments import Instrument

PERP = Instrument("binance-perp", "BTCUSDT", "0.1", "0.001", contract_kind="linear", base="BTC", quote="USDT")
SPOT = Instrument("binance-spot", "BTCUSDT", "0.01", "0.00001", base="BTC", quote="USDT")


def test_a_limit_order_on_the_grid_is_made_exactly():
    r = OrderRequest.make(PERP, "buy", "limit", "0.015", price="65000.1", leverage=10, tp_ticks=20, sl_ticks=10)
    assert (r.side, r.type, r.qty, r.price, r.leverage) == (Side.BUY, OrderType.LIMIT, D("0.015"), D("65000.1"), 10)
    assert r.client_id.isalnum() and len(r.client_id) <= CLIENT_ID_LEN_MAX


@pytest.mark.parametrize("kw, msg", [
    (dict(qty="0.0015", type="market"), "quantity 0.0015 is off the grid of binance-perp BTCUSDT: it must be a multiple of 0.001"),
    (dict(qty="0.001", type="limit", price="65000.05"), "price 65000.05 is off the grid .* multiple of 0.1"),
    (dict(qty="0.001", type="stop", stop_price="1.01"), "stop price 1.01 is off the grid .* multiple of 0.1"),
    (dict(qty="0", type="market"), "quantity must be positive"),
    (dict(qty="-1", type="market"), "quantity must be positive"),
    (dict(qty="abc", type="market"), "not a decimal number"),
    (dict(qty=0.001, type="market"), "not a binary float"),
    (dict(qty="0.001", type="limit"), "a limit order needs --price"),
    (dict(qty="0.001", type="market", price="1"), "a market order takes no --price"),
    (dict(qty="0.001", type="stop"), "a stop order needs --stop-price"),
    (dict(qty="0.001", type="market", leverage=126), "leverage must be 1 to 125"),
    (dict(qty="0.001", type="market", tp_ticks=0), "take-profit ticks must be 1"),
    (dict(qty="0.001", type="market", reduce_only=True, sl_ticks=5), "attach to an entry"),
    (dict(qty="0.001", type="iceberg"), "type must be market, limit or stop"),
    (dict(qty="0.001", type="market", client_id="has-dash"), "letters and digits only"),
])
def test_bad_requests_are_refused_naming_the_fix(kw, msg):
    side = kw.pop("side", "buy")
    with pytest.raises(OrderError, match=msg):
        OrderRequest.make(PERP, side, kw.pop("type"), kw.pop("qty"), **kw)


def test_leverage_on_spot_is_refused():
    with pytest.raises(OrderError, match="spot: leverage applies to perpetuals only"):
        OrderRequest.make(SPOT, "buy", "market", "0.001", leverage=2)


def test_client_ids_are_unique():
    ids = {new_client_id() for _ in range(10_000)}
    assert len(ids) == 10_000


def test_tp_sl_are_ticks_of_the_symbols_own_tick():
    assert bracket(D("65000.0"), Side.BUY, PERP.tick_size, 20, 10) == (D("65002.0"), D("64999.0"))
    assert bracket(D("65000.00"), Side.SELL, SPOT.tick_size, 20, 10) == (D("64999.80"), D("65000.10"))
    assert bracket(D("1"), Side.BUY, "0.1", None, None) == (None, None)
    with pytest.raises(OrderError, match="not a positive price"):
        bracket(D("1.0"), Side.BUY, "0.1", None, 10)


def test_the_transition_table_is_the_only_way():
    assert all(not TRANSITIONS[s] for s in TERMINAL)
    events = []
    t = OrderTracker(on_event=events.append)
    r = OrderRequest.make(PERP, "buy", "limit", "0.003", price="100.0")
    t.add(r)
    t.move(r.client_id, State.ACCEPTED, venue_order_id="42")
    t.move(r.client_id, State.PARTIALLY_FILLED, fill_qty="0.001", fill_price="100.0")
    t.move(r.client_id, State.PARTIALLY_FILLED, fill_qty="0.001", fill_price="99.9")
    with pytest.raises(TransitionError, match="filled with 0.003 of"):
        t.move(r.client_id, State.PARTIALLY_FILLED, fill_qty="0.001", fill_price="99.9")
    with pytest.raises(TransitionError, match="exceeds"):
        t.move(r.client_id, State.FILLED, fill_qty="0.002", fill_price="99.9")
    t.move(r.client_id, State.FILLED, fill_qty="0.001", fill_price="99.8")
    o = t.get(r.client_id)
    assert o.state is State.FILLED and o.filled_qty == D("0.003") and o.avg_price == D("99.9")
    assert [e.dst for e in events] == [State.ACCEPTED, State.PARTIALLY_FILLED, State.PARTIALLY_FILLED, State.FILLED]
    # a late duplicate of a terminal order's update is refused and changes nothing
    with pytest.raises(TransitionError, match="filled -> cancelled is not a legal transition"):
        t.move(r.client_id, State.CANCELLED)
    assert o.state is State.FILLED and len(o.events) == 4 and t.open_orders() == []


def test_a_client_id_is_used_once():
    t = OrderTracker()
    r = OrderRequest.make(PERP, "sell", "market", "0.001")
    t.add(r)
    with pytest.raises(OrderError, match="already in use"):
        t.add(r)
    t.move(r.client_id, State.REJECTED, reason="-2019 Margin is insufficient.")
    assert t.get(r.client_id).reason == "-2019 Margin is insufficient."


@pytest.mark.parametrize("text", ["65000", "65000.1", "0.010", "0.00000001", "1E+1", "1.2E+3", "0E-8", "0.0000001",
                                  "123456789012345678901234567890", "5E-12", "0", "0.000001"])
def test_plain_is_format_f(text):
    from nexus.exec.orders import plain

    assert plain(D(text)) == format(D(text), "f")
