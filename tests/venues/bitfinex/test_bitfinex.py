"""Bitfinex: numbers as JavaScript writes them in the checksum, exact decimal text from JSON
numbers (exponent forms included), the configs bodies as instruments, info codes."""

from decimal import Decimal

from nexus import record
from nexus.venues.bitfinex import data as bfx


def test_js_number_form_matches_javascript_to_string():
    # Number.prototype.toString: plain down to 1e-6, exponent form below; shortest digits.
    cases = {"65000": "65000", "0.000001": "0.000001", "0.0000001": "1e-7", "0.00000012": "1.2e-7",
             "-0.00000012": "-1.2e-7", "3.30": "3.3", "7254.7": "7254.7", "-1": "-1"}
    for text, js in cases.items():
        assert bfx.js_number(Decimal(text)) == js, text


def test_exponent_numbers_keep_their_exact_value():
    dec = bfx.Decoder()
    out = record.empty(16)
    dec.decode(b'{"event":"subscribed","channel":"book","chanId":5,"symbol":"tBTCUSD","prec":"P0"}', out)
    segs = dec.decode(b'[5,[[0.00012345,2,1.5e-7],[0.00012346,1,-2E-8]]]', out)
    inst = segs[0].inst
    rows = [(int(r["side"]), inst.price_str(int(r["price"])), inst.qty_str(int(r["qty"]))) for r in out[1:segs[0].stop]]
    assert rows == [(1, "0.00012345", "0.00000015"), (2, "0.00012346", "0.00000002")]


def test_configs_bodies_give_instruments_at_eight_decimals():
    # Shapes of GET /v2/conf/pub:info:pair and /v2/conf/pub:list:pair:exchange (REST Public > Configs).
    info = (b'[[["BTCUSD",[null,null,null,"0.00004","2000.0",null,null,null,0.2,0.1]],'
            b'["DOGE:USD",[null,null,null,"22.0","2000000.0",null,null,null,0.3,0.15]]]]')
    dec = bfx.Decoder()
    assert dec.load_metadata(info) == 2
    doge = dec.instrument("tDOGE:USD")
    assert (doge.base, doge.quote, doge.price_exponent, doge.qty_exponent) == ("DOGE", "USD", 8, 8)
    assert dec.load_metadata(b'[["BTCUSD","ETHUST"]]') == 2
    assert dec.instrument("tETHUST").quote == "UST"


def test_maintenance_keeps_the_book_and_resume_resubscribes():
    dec = bfx.Decoder()
    sync = bfx.Sync(dec)
    out = record.empty(16)
    for raw in (b'{"event":"info","version":2,"platform":{"status":1}}',
                b'{"event":"subscribed","channel":"book","chanId":5,"symbol":"tBTCUSD","prec":"P0"}',
                b'[5,[[100,1,1],[101,1,-1]],1]', b'{"event":"info","code":20060,"msg":"maintenance"}'):
        sync.feed(dec.decode(raw, out), out)
    st = sync.books["tBTCUSD"]
    assert st.synced and sync.paused and sync.needs_snapshot() == []
    sync.feed(dec.decode(b'{"event":"info","code":20061,"msg":"resume"}', out), out)
    assert not st.synced and not sync.paused and sync.needs_snapshot() == ["tBTCUSD"]
    assert st.gaps == 0
