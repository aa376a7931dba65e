"""`nexus sim` as a user runs it: endpoints printed at startup, clean exits, exit statuses."""

import json
import signal
import socket
import subprocess
import sys

from simclient import Client, run

NEXUS = [sys.executable, "-m", "nexus.cli"]


def test_json_prints_one_object_with_every_endpoint():
    p = subprocess.run(NEXUS + ["sim", "--port", "0", "--duration", "1", "--json"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1
    info = json.loads(lines[0])
    assert info["host"] == "127.0.0.1" and info["port"] > 0 and info["seed"] == 1
    assert list(info["venues"]) == ["binance-spot", "binance-perp", "bybit-perp", "okx-swap", "coinbase",
                                    "kraken", "hyperliquid"]
    for venue, ep in info["venues"].items():
        assert ep["ws"].startswith(f"ws://127.0.0.1:{info['port']}/{venue}")
        assert ep["rest"] == f"http://127.0.0.1:{info['port']}/{venue}"
    assert info["venues"]["okx-swap"]["symbol"] == "BTC-USDT-SWAP" and info["venues"]["kraken"]["symbol"] == "BTC/USD"
    assert info["labels"].endswith("/labels")


def test_text_output_names_every_url_and_venue_selection():
    p = subprocess.run(NEXUS + ["sim", "--port", "0", "--duration", "0.5", "--venues", "okx-swap,kraken",
                                "--symbol", "ETHUSDT", "--fault", "gap:okx-swap:9"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "ws://127.0.0.1:" in p.stdout and "/okx-swap/ws/v5/public" in p.stdout and "/kraken/v2" in p.stdout
    assert "binance-spot" not in p.stdout and "ETH-USDT-SWAP" in p.stdout and "gap:okx-swap:9" in p.stdout


def test_port_in_use_is_a_connection_failure():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        p = subprocess.run(NEXUS + ["sim", "--port", str(port), "--duration", "1"], capture_output=True, text=True,
                           timeout=30)
    finally:
        s.close()
    assert p.returncode == 4 and "cannot listen" in p.stderr


def test_sigterm_stops_cleanly_while_serving(tmp_path):
    labels = tmp_path / "labels.jsonl"
    proc = subprocess.Popen(NEXUS + ["sim", "--port", "0", "--json", "--venues", "kraken", "--labels-out", str(labels)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())

        async def talk():
            c = await Client.connect(info["venues"]["kraken"]["ws"])
            status = await c.json()
            c.close()
            return status
        assert run(talk())["channel"] == "status"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert labels.exists()


def test_usage_errors_exit_2():
    for args in (["--symbol", "DOGEUSDT"], ["--venues", "nasdaq"], ["--port", "70000"], ["--speed", "0"],
                 ["--epoch-ns", "yesterday"]):
        p = subprocess.run(NEXUS + ["sim", "--duration", "0.1"] + args, capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (args, p.stderr)
    help_ = subprocess.run(NEXUS + ["--help"], capture_output=True, text=True, timeout=30)
    assert "sim" in help_.stdout
