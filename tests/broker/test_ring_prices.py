"""Broker prices from the engine's consensus ring (issue 16, item 1): the ring's side file
gives the price exponent, so the user never types it; a given exponent that disagrees is
refused; a mid that jumps an order of magnitude is refused with an alert in the log."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest

from nexus import record
from nexus.broker import pricing
from nexus.broker.clock import ManualClock
from nexus.broker.pricing import RingInstrument, RingPriceSource
from nexus.exceptions import ConfigError
from nexus.ring import RingWriter
from nexus.ring_meta import MetaInstrument, RingMeta, meta_path

from broker_helpers import free_port

ENV = {**os.environ, "NEXUS_BROKER_API_KEY": "ring-key", "NEXUS_BROKER_CALLBACK_SECRET": "ring-secret"}
SIM_ETH_USDT = Decimal(3200)  # nexus/sim/specs.py SYMBOLS: the simulated ETHUSDT starts here
FX = Decimal("0.92")


def _serve(db, port, ring, instrument, log):
    return subprocess.Popen([sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", db, "--port", str(port),
                             "--price-ring", ring, "--ring-instrument", instrument], env=ENV, stdout=log, stderr=log)


def test_consensus_ring_carries_its_exponent(tmp_path):
    """`nexus run --sim --agg --symbol ETHUSDT --consensus-ring R` then `broker serve --price-ring R
    --ring-instrument ETH=agg:ETHUSDT:0.92`: the ETH price is the consensus mid (about 3200 USDT
    x 0.92), not 10^6 times it, without any exponent typed."""
    ring = f"cr-test-{os.getpid()}"
    run = subprocess.Popen([sys.executable, "-m", "nexus.cli", "run", "--sim", "--agg", "--symbol", "ETHUSDT",
                            "--consensus-ring", ring, "--json", "--duration", "300"],
                           stdout=subprocess.DEVNULL, stderr=open(tmp_path / "run.log", "w"))
    serve = None
    try:
        deadline = time.time() + 60
        while not os.path.exists(meta_path(ring)):
            assert time.time() < deadline and run.poll() is None, (tmp_path / "run.log").read_text()
            time.sleep(0.1)

        # the exponent the README used to ask for (2) is wrong for ETHUSDT: refused, saying the right one
        bad = subprocess.run([sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", str(tmp_path / "bad.db"),
                              "--port", str(free_port()), "--price-ring", ring, "--ring-instrument", "ETH=agg:ETHUSDT:2:0.92"],
                             env=ENV, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and "price exponent 2 given" in bad.stderr and "says 8" in bad.stderr, bad.stderr
        btc = subprocess.run([sys.executable, "-m", "nexus.cli", "broker", "serve", "--db", str(tmp_path / "btc.db"),
                              "--price-ring", ring, "--ring-instrument", "BTC=agg:BTCUSDT"],
                             env=ENV, capture_output=True, text=True, timeout=120)
        assert btc.returncode == 2 and "carries ETH and USDT only" in btc.stderr, btc.stderr

        port = free_port()
        log = open(tmp_path / "serve.log", "w")
        serve = _serve(str(tmp_path / "b.db"), port, ring, f"ETH=agg:ETHUSDT:{FX}", log)
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers={"X-API-Key": "ring-key"}, timeout=10)
        deadline = time.time() + 120
        while True:
            try:
                r = c.get("/prices/ETH")
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline and serve.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        buy = Decimal(r.json()["buy_price"])
        assert SIM_ETH_USDT * FX / 2 < buy < SIM_ETH_USDT * FX * 2, buy
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
        run.send_signal(signal.SIGINT)
        run.wait(timeout=60)
    assert not os.path.exists(meta_path(ring))  # removed with the ring


def _bbo(w: RingWriter, iid: int, bid: int, ask: int) -> None:
    batch = record.empty(2)
    batch["kind"] = int(record.Kind.BBO)
    batch["instrument_id"] = iid
    batch["side"] = [int(record.Side.BID), int(record.Side.ASK)]
    batch["price"] = [bid, ask]
    w.publish(batch)


def test_side_file_exponent_and_mismatch(ring_name):
    clock = ManualClock()
    with RingWriter(ring_name, slots=1024) as w:
        meta = RingMeta(ring_name, [MetaInstrument(77, "agg", "ETHUSDT", 8, 8)])
        try:
            src = RingPriceSource(ring_name, {"ETH": RingInstrument(77)}, clock)
            _bbo(w, 77, 2200_00000000, 2202_00000000)
            assert src.mid("ETH")[0] == Decimal("2201")
            with pytest.raises(ConfigError, match="price exponent 2 given, but ring .* says 8"):
                RingPriceSource(ring_name, {"ETH": RingInstrument(77, 2)}, clock)
            with pytest.raises(ConfigError, match="does not carry ETH=agg:BTCUSDT .*carries agg:ETHUSDT"):
                RingPriceSource(ring_name, {"ETH": RingInstrument(78, None, label="agg:BTCUSDT")}, clock)
        finally:
            meta.close()
        with pytest.raises(ConfigError, match="no side file"):
            RingPriceSource(ring_name, {"ETH": RingInstrument(77)}, clock)


def test_a_jump_of_an_order_of_magnitude_is_refused_with_an_alert(ring_name, caplog):
    clock = ManualClock()
    with RingWriter(ring_name, slots=1024) as w:
        src = RingPriceSource(ring_name, {"ETH": RingInstrument(4242, 2)}, clock)
        _bbo(w, 4242, 220000, 220200)
        assert src.mid("ETH")[0] == Decimal("2201")
        _bbo(w, 4242, 220000 * 10**6, 220200 * 10**6)  # what a wrong exponent looks like
        with caplog.at_level(logging.ERROR, logger="nexus.broker.prices"):
            for _ in range(3):
                with pytest.raises(pricing.PriceUnavailable, match="jumped from 2201.* to 2201000000"):
                    src.mid("ETH")
        alerts = [r for r in caplog.records if "price alert" in r.getMessage()]
        assert len(alerts) == 1  # once per episode, not once per request
        _bbo(w, 4242, 100000, 100200)  # 1001: less than 10x down from 2201, accepted
        assert src.mid("ETH")[0] == Decimal("1001")
        _bbo(w, 4242, 10000, 10020)  # 100.1: 10x below the last accepted 1001
        with pytest.raises(pricing.PriceUnavailable):
            src.mid("ETH")
