"""Order decision to signed request bytes, per venue, side by side with ccxt.

Nexus: an `OrderRequest` (already checked on the grid) -> the venue adapter's complete signed
HTTP/1.1 request bytes (`order_bytes`: parameters, timestamp, HMAC, request line and headers),
ready to write to a socket. ccxt, offline (no network): its market built from the same
exchangeInfo symbol entry Binance publishes (the simulator's), then for each order
`create_order_request(...)` (ccxt's own request building: precision, type, time in force)
and `exchange.sign(path, api, method, params)` -> url/body/headers (no bytes: less work than
ours); `sign()` alone over ready parameters is reported too. Both signatures are checked
against an independent HMAC before anything is timed. ccxt missing -> reported unavailable.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl

from nexus.bench.stats import percentiles_ns
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderRequest
from nexus.instruments import Instrument

ITERATIONS = 20_000
CCXT_ITERATIONS = 5_000
TARGET_RATIO = 10.0
TARGET_P50_US = 20.0
KEY, SECRET = "bench" * 12 + "k", "s3cr3t" * 10 + "abcd"      # not a real key: benchmark only

# venue -> (instrument, ccxt class name, ccxt api, ccxt path)
VENUES = {
    "binance-spot": (Instrument("binance-spot", "BTCUSDT", "0.01", "0.00001", base="BTC", quote="USDT"),
                     "binance", ["private"], "order", "0.01000"),
    "binance-perp": (Instrument("binance-perp", "BTCUSDT", "0.1", "0.001", contract_kind="linear", base="BTC",
                                quote="USDT"), "binanceusdm", ["fapiPrivate"], "order", "0.010"),
}


def _time(fn, n: int) -> list[int]:
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def _check_ours(raw: bytes) -> bool:
    line = raw.split(b"\r\n", 1)[0].decode()
    query = line.split(" ")[1].split("?", 1)[1]
    unsigned, sig = query.rsplit("&signature=", 1)
    return hmac.new(SECRET.encode(), unsigned.encode(), hashlib.sha256).hexdigest() == sig


def _check_ccxt(signed: dict) -> bool:
    body = signed.get("body") or signed["url"].split("?", 1)[1]
    unsigned, sig = body.rsplit("&signature=", 1)
    return hmac.new(SECRET.encode(), unsigned.encode(), hashlib.sha256).hexdigest() == sig


def _ccxt_exchange(ccxt, name: str, venue: str):
    """A ccxt exchange with the one market loaded offline from Binance's exchangeInfo format."""
    from nexus.sim.core import SimCore

    info = SimCore(venues=[venue], patterns=False).feeds[venue]._symbol_info()
    ex = getattr(ccxt, name)({"apiKey": KEY, "secret": SECRET})
    ex.options["crossMarginPairsData"] = []        # fetched from the network by load_markets()
    ex.options["isolatedMarginPairsData"] = []
    ex.set_markets([ex.parse_market(info)])
    return ex


def run(iterations: int = ITERATIONS, ccxt_iterations: int = CCXT_ITERATIONS) -> dict:
    from nexus.venues.binance.orders import BinanceAdapter

    try:
        import ccxt
        ccxt_info = {"available": True, "version": ccxt.__version__}
    except ImportError as e:
        ccxt, ccxt_info = None, {"available": False, "error": f"{e} (install: pip install 'ccxt>=4.4,<5')"}
    res: dict = {"iterations": iterations, "ccxt": ccxt_info, "venues": {}}
    for venue, (inst, ccxt_name, api, path, qty) in VENUES.items():
        ad = BinanceAdapter(venue, Credentials(venue, KEY, SECRET))
        req = OrderRequest.make(inst, "buy", "limit", qty, price="65000.1" if inst.tick_size == "0.1" else "65000.01",
                                client_id="nxbench1")
        raw = ad.order_bytes(req)
        row = {"correct": _check_ours(raw), "request_bytes": len(raw)}
        ours = _time(lambda: ad.order_bytes(req), iterations)
        row.update(percentiles_ns(ours, "nexus_ns"))
        if ccxt is not None:
            ex = _ccxt_exchange(ccxt, ccxt_name, venue)
            sym, amount, price = ex.symbols[0], float(req.qty), float(req.price)

            def build_and_sign():
                params = ex.create_order_request(sym, "limit", "buy", amount, price, {"newClientOrderId": "nxbench1"})
                return ex.sign(path, api, "POST", params)

            row["ccxt_correct"] = _check_ccxt(build_and_sign())
            theirs = _time(build_and_sign, ccxt_iterations)
            row.update(percentiles_ns(theirs, "ccxt_ns"))
            ready = dict(parse_qsl(ad.order_query(req)))
            row.update(percentiles_ns(_time(lambda: ex.sign(path, api, "POST", dict(ready)), ccxt_iterations),
                                      "ccxt_sign_only_ns"))
            row["ratio_p50"] = round(row["ccxt_ns_p50"] / row["nexus_ns_p50"], 1)
            row["ratio_p99"] = round(row["ccxt_ns_p99"] / row["nexus_ns_p99"], 1)
        p50_us = row["nexus_ns_p50"] / 1000
        row["targets"] = {
            "p50_us<=20": {"value": p50_us, "met": p50_us <= TARGET_P50_US},
            **({"ratio>=10": {"value": row["ratio_p50"], "met": row["ratio_p50"] >= TARGET_RATIO}}
               if "ratio_p50" in row else {}),
        }
        res["venues"][venue] = row
        ad.signer = None
    res["note"] = ("nexus: OrderRequest -> complete signed HTTP/1.1 request bytes; ccxt: create_order_request() + "
                   "sign() offline (a url/body/headers dict, no bytes); ccxt_sign_only: sign() over ready "
                   "parameters; both signatures verified by an independent HMAC before timing")
    res["ok"] = all(r["correct"] and r.get("ccxt_correct", True) for r in res["venues"].values())
    return res
