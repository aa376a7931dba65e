"""`nexus instruments`: a venue's listing as Nexus reads it; Deribit's options chain."""
import json
import subprocess
import sys
from pathlib import Path

NEXUS = [sys.executable, "-m", "nexus.cli"]
CHAIN = Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "deribit" / "options_listing.json"


def test_options_chain_from_a_saved_listing():
    r = subprocess.run([*NEXUS, "instruments", "--venue", "deribit", "--file", str(CHAIN), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {x["symbol"]: x for x in json.loads(r.stdout)}
    assert set(rows) == {"BTC-27DEC26-100000-C", "BTC-27DEC26-100000-P"}
    assert rows["BTC-27DEC26-100000-C"]["tick_size"] == "0.0001" and rows["BTC-27DEC26-100000-C"]["lot_size"] == "0.1"


def test_listing_from_the_simulator_and_an_unreachable_venue():
    sim = subprocess.Popen([*NEXUS, "sim", "--venues", "deribit", "--port", "0", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(sim.stdout.readline())
        rest = info["venues"]["deribit"]["rest"]
        r = subprocess.run([*NEXUS, "instruments", "--venue", "deribit", "--rest-url", rest, "--json"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        perp = {x["symbol"]: x for x in json.loads(r.stdout)}["BTC-PERPETUAL"]
        assert perp["kind"] == "inverse"
        r = subprocess.run([*NEXUS, "instruments", "--venue", "deribit", "--kind", "option", "--rest-url", rest,
                            "--json"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and json.loads(r.stdout) == [], r.stderr   # the simulator lists no options
    finally:
        sim.terminate()
        sim.communicate(timeout=20)
    r = subprocess.run([*NEXUS, "instruments", "--venue", "deribit", "--rest-url", "http://127.0.0.1:9"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 4 and "could not be fetched" in r.stderr
