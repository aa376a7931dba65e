"""The `normalize` and `book replay` command-line contracts through the real entry point."""

import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "venues"


def nexus(*args, stdin=b""):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True, timeout=120)


def test_exit_status_3_and_one_stderr_line_per_rejected_line():
    p = nexus("normalize", "--venue", "binance-spot",
              stdin=(FIXTURES / "binance-spot" / "malformed.jsonl").read_bytes())
    assert p.returncode == 3
    err = p.stderr.decode().splitlines()
    assert [x.split(":")[1].strip() for x in err] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 11, 12)]
    assert len(p.stdout.decode().splitlines()) == 2


def test_clean_input_exits_0_with_nothing_on_stderr():
    p = nexus("book", "replay", "--venue", "okx-swap",
              stdin=(FIXTURES / "okx-swap" / "checksum_example1.jsonl").read_bytes())
    assert p.returncode == 0 and p.stderr == b""


def test_usage_errors_exit_2():
    assert nexus("normalize").returncode == 2
    assert nexus("normalize", "--venue", "mtgox").returncode == 2
    assert nexus("book", "replay", "--venue", "kraken", "--depth", "-1").returncode == 2


def test_help_states_the_line_numbering():
    for cmd in (["normalize", "--help"], ["book", "replay", "--help"]):
        out = nexus(*cmd).stdout.decode()
        assert "1-based" in out and "exit status is 3" in out


def test_depth_limits_the_printed_levels():
    p = nexus("book", "replay", "--venue", "kraken", "--depth", "2",
              "--instruments", str(FIXTURES / "kraken" / "instruments.json"),
              stdin=(FIXTURES / "kraken" / "checksum_doc.jsonl").read_bytes())
    import json

    r = json.loads(p.stdout)
    assert r["bids"] == [["45283.5", "0.1"], ["45283.4", "1.54582015"]] and len(r["asks"]) == 2
    assert r["checksum"] == 3310070434  # computed over the whole book, not the printed part


def test_instruments_file_is_loaded_first(tmp_path):
    meta = tmp_path / "meta.json"
    meta.write_bytes(b'{"universe":[{"name":"HPOS","szDecimals":0,"maxLeverage":3,"onlyIsolated":true}]}')
    raw = b'{"channel":"l2Book","data":{"coin":"HPOS","time":1700000000000,"levels":[[{"px":"0.123456","sz":"7","n":1}],[]]}}\n'
    p = nexus("normalize", "--venue", "hyperliquid", "--instruments", str(meta), stdin=raw)
    assert p.returncode == 0 and p.stderr == b""  # no generic-fallback warning: the metadata was used
    import json

    assert json.loads(p.stdout)["bids"] == [["0.123456", "7"]]
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"not json")
    assert nexus("normalize", "--venue", "hyperliquid", "--instruments", str(bad)).returncode == 2
