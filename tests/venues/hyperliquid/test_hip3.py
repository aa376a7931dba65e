"""Hyperliquid HIP-3: builder-deployed perp dexs ("<dex>:<coin>" assets) on the same feed.
The documented perpDexs response and the meta/l2Book/trades shapes for a dex asset
(tests/fixtures/venues/hyperliquid/hip3.json, its source noted there), then a live run
against the simulator's builder dex `nxs`."""

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from nexus import record
from nexus.exceptions import DecodeError
from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.base import SegKind
from nexus.venues.hyperliquid import data as hyperliquid
from nexus.venues.hyperliquid.feed import FEED, dex_of, meta_request

FIX = json.loads((Path(__file__).parents[2] / "fixtures/venues/hyperliquid/hip3.json").read_text())


def test_dex_assets_are_named_with_their_dex_and_meta_asks_for_the_dex():
    assert FEED.symbol_of("nxs:BTCUSDT") == "nxs:BTC"
    assert FEED.symbol_of("BTCUSDT") == "BTC"
    assert (dex_of("test:COIN1"), dex_of("BTC")) == ("test", "")
    assert json.loads(meta_request("test:COIN1")) == FIX["meta_request"]
    assert json.loads(meta_request("BTC")) == {"type": "meta"}
    assert json.loads(FEED.instruments_body("test:COIN1")) == FIX["meta_request"]
    assert FEED.instruments_path("test:COIN1") == "/info"
    assert [d["name"] for d in FIX["perpDexs"] if d is not None] == ["test"]


def test_dex_meta_gives_the_instrument_and_its_book_and_trades_decode():
    dec = hyperliquid.Decoder()
    assert dec.load_metadata(json.dumps(FIX["meta"])) == 1
    inst = dec.instrument("test:COIN1")
    assert (inst.tick_size, inst.lot_size) == ("0.0001", "0.01")
    out = record.empty(16)
    segs = dec.decode(json.dumps(FIX["l2Book"]), out)
    assert segs[0].kind is SegKind.BOOK and segs[0].snapshot and segs[0].symbol == "test:COIN1"
    assert segs[0].stop - segs[0].start == 3  # the snapshot marker, then one bid and one ask
    segs = dec.decode(json.dumps(FIX["trades"]), out)
    assert segs[0].kind is SegKind.TRADES and segs[0].stop - segs[0].start == 1


def test_unknown_dex_meta_is_refused():
    with pytest.raises(DecodeError, match="no such dex"):
        hyperliquid.Decoder().load_metadata(b"null")


def test_run_sim_streams_the_builder_dex_asset():
    async def main():
        rt = Runtime(RunConfig(venues=["hyperliquid"], symbol="nxs:BTCUSDT", sim=True, seed=5, duration_s=4))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + 4
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.005)
        rt.poll()
        f = rt.feeds["hyperliquid"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [[(Decimal(inst.price_str(p)), Decimal(inst.qty_str(q))) for p, q in st.book.top(s, 10)] for s in (1, 2)]
        sim = rt.sim.book("hyperliquid", at_ns=f.last_book_ts_ns)
        stats = rt.venue_stats()["hyperliquid"]
        await rt.stop()
        return f.symbol, inst, st.synced, mine, sim, stats

    symbol, inst, synced, mine, sim, stats = asyncio.run(main())
    assert symbol == "nxs:BTC" and sim["symbol"] == "nxs:BTC"
    assert inst.lot_size == "0.0001" and inst.tick_size == "0.01"  # from meta {"dex":"nxs"}: szDecimals 4
    assert synced and len(mine[0]) == 10 and len(mine[1]) == 10
    assert mine == [[(Decimal(p), Decimal(q)) for p, q in sim[s][:10]] for s in ("bids", "asks")]
    assert stats["malformed"] == 0
