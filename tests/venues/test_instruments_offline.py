"""Offline precision (`normalize`, `book replay`, `metrics replay`): from `--instruments FILE`
(the venue's own listing) or inferred from the whole input (nexus.feeds.lines), never from a
built-in table. Issue 17: OKX's documented books sample for BTC-USDT-SWAP (priced in 0.01,
2020) must replay although today's BTC-USDT-SWAP tick is 0.1."""

import json
import subprocess
import sys
from pathlib import Path

from nexus.feeds.lines import LineReader

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "venues"
OKX_SAMPLE = FIXTURES / "okx-swap" / "docs_books_sample.jsonl"


def nexus(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True, timeout=60)


def okx_listing(tmp_path, tick: str) -> Path:
    """GET /api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP, as the OKX v5 docs
    show the body (Public Data > Get instruments), with the given tickSz."""
    p = tmp_path / f"okx-{tick}.json"
    p.write_text(json.dumps({"code": "0", "msg": "", "data": [{
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "uly": "BTC-USDT", "instFamily": "BTC-USDT",
        "ctType": "linear", "ctVal": "0.01", "ctValCcy": "BTC", "settleCcy": "USDT", "ctMult": "1",
        "tickSz": tick, "lotSz": "1", "minSz": "1", "state": "live"}]}))
    return p


def test_okx_docs_sample_replays_with_the_precision_inferred_from_it():
    r = nexus("book", "replay", "--venue", "okx-swap", stdin=OKX_SAMPLE.read_bytes())
    assert r.returncode == 0, r.stderr
    book = json.loads(r.stdout)
    assert book["bids"][0] == ["8476.97", "256"] and book["asks"][0] == ["8476.98", "415"]
    assert len(book["bids"]) == len(book["asks"]) == 8
    m = nexus("metrics", "replay", "--venue", "okx-swap", "--json", stdin=OKX_SAMPLE.read_bytes())
    assert m.returncode == 0, m.stderr
    line = json.loads(m.stdout.splitlines()[0])
    assert (line["best_bid"], line["best_ask"]) == ("8476.97", "8476.98")


def test_instruments_file_gives_the_venues_precision(tmp_path):
    # the 2020 listing (0.01): accepted, and the file's contract value and tick are used
    ok = nexus("book", "replay", "--venue", "okx-swap", "--instruments", str(okx_listing(tmp_path, "0.01")),
               stdin=OKX_SAMPLE.read_bytes())
    assert ok.returncode == 0 and json.loads(ok.stdout)["asks"][0] == ["8476.98", "415"]
    # today's listing (0.1): the sample's 0.01 prices are finer than the tick: refused, not rounded
    bad = nexus("normalize", "--venue", "okx-swap", "--instruments", str(okx_listing(tmp_path, "0.1")),
                stdin=OKX_SAMPLE.read_bytes())
    assert bad.returncode == 3 and b"more decimal places than the instrument's precision" in bad.stderr
    assert bad.stdout == b""


def test_inferred_precision_is_the_widest_seen_in_the_whole_input():
    # the first message has 1 price decimal and 0 size decimals; a later one 3 and 2: every
    # message is decoded at 3 / 2 (the whole input is read first), nothing is rounded
    lines = [
        b'{"arg":{"channel":"books","instId":"ETH-USDT-SWAP"},"action":"snapshot","data":[{"asks":[["2000.1","5","0","1"]],'
        b'"bids":[["1999.9","7","0","1"]],"ts":"1700000000000","prevSeqId":-1,"seqId":1}]}',
        b'{"arg":{"channel":"books","instId":"ETH-USDT-SWAP"},"action":"update","data":[{"asks":[["2000.125","0.25","0","1"]],'
        b'"bids":[],"ts":"1700000000001","prevSeqId":1,"seqId":2}]}',
    ]
    reader = LineReader("okx-swap", None, None, stream=iter(x + b"\n" for x in lines))
    out = list(reader)
    assert len(out) == 2 and reader.rejected == 0
    inst = reader.decoder.instrument("ETH-USDT-SWAP")
    assert (inst.price_exponent, inst.qty_exponent) == (3, 2) and inst.tick_size == "0.001"
    assert "ETH-USDT-SWAP" in reader.decoder.inferred and not reader.decoder.generic
    r = nexus("book", "replay", "--venue", "okx-swap", stdin=b"\n".join(lines) + b"\n")
    assert r.returncode == 0, r.stderr
    book = json.loads(r.stdout)
    assert book["asks"] == [["2000.1", "5"], ["2000.125", "0.25"]] and book["bids"] == [["1999.9", "7"]]


def test_a_listed_symbol_keeps_the_listing_and_others_are_inferred(tmp_path):
    other = (b'{"arg":{"channel":"trades","instId":"SOL-USDT-SWAP"},"data":[{"instId":"SOL-USDT-SWAP","tradeId":"1",'
             b'"px":"101.255","sz":"3","side":"buy","ts":"1700000000000"}]}\n')
    reader = LineReader("okx-swap", None, str(okx_listing(tmp_path, "0.01")),
                        stream=iter([OKX_SAMPLE.read_bytes(), other]))
    assert len(list(reader)) == 2 and reader.rejected == 0
    assert reader.decoder.instrument("BTC-USDT-SWAP").contract_value == "0.01"  # from the file
    assert "BTC-USDT-SWAP" not in reader.decoder.inferred
    assert reader.decoder.instrument("SOL-USDT-SWAP").price_exponent == 3
    assert "SOL-USDT-SWAP" in reader.decoder.inferred
