"""Settings from a TOML file (`--config`), the environment and flags, in that rising order, for
several long-running commands; secrets from owner-only files or the environment, never from
the config file and never in `nexus config show`'s output."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

SECRET = "cfg-api-key-8f3a1c"
OTHER_SECRET = "cfg-callback-secret-55d"


def nexus(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=timeout)


def _show(*args: str, env: dict | None = None) -> dict:
    p = nexus("config", "show", "--json", *args, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["commands"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "nexus.toml"
    path.write_text('[run]\nsymbol = "ETHUSDT"\nmetrics-port = 9100\nstale-after = 7.5\nfault = ["gap:okx-swap:3"]\n'
                    '[broker.serve]\nport = 8181\ndb = "broker.db"\nlog-format = "json"\n'
                    '[tradebot.run]\ninterval = 30.0\n[record]\nduration = 12.0\n')
    return str(path)


def test_precedence_file_then_env_then_flag_in_config_show(config_file):
    out = _show("--config", config_file)
    assert out["run"]["symbol"] == {"value": "ETHUSDT", "source": "file", "env": "NEXUS_RUN_SYMBOL"}
    assert out["run"]["metrics_port"]["value"] == 9100 and out["run"]["stale_after"]["value"] == 7.5
    assert out["run"]["faults"]["value"] == ["gap:okx-swap:3"]
    assert out["run"]["seed"] == {"value": 1, "source": "default", "env": "NEXUS_RUN_SEED"}
    assert out["broker serve"]["port"]["value"] == 8181 and out["broker serve"]["log_format"]["value"] == "json"
    assert out["tradebot run"]["interval_s"]["value"] == 30.0 and out["record"]["duration"]["value"] == 12.0
    env = {"NEXUS_RUN_SYMBOL": "SOLUSDT", "NEXUS_BROKER_SERVE_PORT": "8282", "NEXUS_TRADEBOT_RUN_INTERVAL_S": "5"}
    out = _show("--config", config_file, env=env)
    assert out["run"]["symbol"] == {"value": "SOLUSDT", "source": "env", "env": "NEXUS_RUN_SYMBOL"}
    assert out["broker serve"]["port"]["value"] == 8282 and out["tradebot run"]["interval_s"]["value"] == 5.0
    assert out["run"]["metrics_port"]["source"] == "file"  # the rest still from the file


def test_precedence_in_a_running_command(tmp_path):
    """`nexus sim` really binds the port the file, then the environment, then the flag names."""
    ports = [_free_port() for _ in range(3)]
    cfg = tmp_path / "sim.toml"
    cfg.write_text(f"[sim]\nport = {ports[0]}\nduration = 0.3\njson = true\nvenues = [\"okx-swap\"]\n")

    def bound(*args, env=None) -> int:
        p = nexus("sim", "--config", str(cfg), *args, env=env)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.splitlines()[0])["port"]

    assert bound() == ports[0]
    assert bound(env={"NEXUS_SIM_PORT": str(ports[1])}) == ports[1]
    assert bound("--port", str(ports[2]), env={"NEXUS_SIM_PORT": str(ports[1])}) == ports[2]
    assert bound(env={"NEXUS_CONFIG": str(cfg)}) == ports[0]  # the file named by the environment


def test_bad_config_files_are_usage_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nsymbl = 'X'\n")
    p = nexus("run", "--config", str(bad), "--sim", "--duration", "1")
    assert p.returncode == 2 and "'symbl'" in p.stderr and "Traceback" not in p.stderr
    bad.write_text("[run\n")
    p = nexus("run", "--config", str(bad))
    assert p.returncode == 2 and "not valid TOML" in p.stderr
    p = nexus("run", "--config", str(tmp_path / "missing.toml"))
    assert p.returncode == 2 and "missing.toml" in p.stderr
    bad.write_text(f'[broker.serve]\napi-key = "{SECRET}"\n')
    p = nexus("broker", "serve", "--config", str(bad))
    assert p.returncode == 2 and "secret does not belong in a config file" in p.stderr and SECRET not in p.stderr + p.stdout


def test_secret_file_must_be_owner_only(tmp_path):
    key = tmp_path / "api.key"
    key.write_text(SECRET + "\n")
    key.chmod(0o644)
    env = {"NEXUS_BROKER_CALLBACK_SECRET": OTHER_SECRET}
    p = nexus("broker", "serve", "--db", str(tmp_path / "b.db"), "--api-key-file", str(key), env=env)
    assert p.returncode == 2
    assert f"chmod 600 {key}" in p.stderr and "0644" in p.stderr and SECRET not in p.stderr + p.stdout
    assert not (tmp_path / "b.db").exists()  # refused before anything started
    key.chmod(0o600)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[broker.serve]\napi-key-file = "{key}"\n')
    out = _show("--config", str(cfg), "--command", "broker serve", env=env)["broker serve"]
    assert out["api_key"] == {"value": "********", "source": "file", "env": "NEXUS_BROKER_API_KEY"}
    assert out["callback_secret"] == {"value": "********", "source": "env", "env": "NEXUS_BROKER_CALLBACK_SECRET"}
    assert out["operators"] == {"value": None, "source": None, "env": "NEXUS_BROKER_OPERATORS"}
    key.chmod(0o640)
    p = nexus("config", "show", "--config", str(cfg), "--command", "broker serve", env=env)
    assert p.returncode == 2 and "chmod 600" in p.stderr


def test_missing_secret_names_every_way_to_give_it(tmp_path):
    p = nexus("broker", "serve", "--db", str(tmp_path / "b.db"), env={"NEXUS_BROKER_CALLBACK_SECRET": OTHER_SECRET})
    assert p.returncode == 2
    for hint in ("NEXUS_BROKER_API_KEY", "--api-key-file", "chmod 600", "ps"):
        assert hint in p.stderr
    help_text = nexus("broker", "serve", "--help").stdout
    for hint in ("NEXUS_BROKER_API_KEY", "--api-key-file", "NEXUS_BROKER_CALLBACK_SECRET", "--callback-secret-file",
                 "NEXUS_BROKER_OPERATORS", "--operator-file", "shows in `ps`"):
        assert hint in help_text


def test_config_show_never_prints_a_secret(tmp_path):
    key = tmp_path / "cb.secret"
    key.write_text(OTHER_SECRET)
    key.chmod(0o600)
    env = {"NEXUS_BROKER_API_KEY": SECRET, "NEXUS_BROKER_CALLBACK_SECRET_FILE": str(key),
           "NEXUS_BROKER_OPERATORS": "ann=op-key-one bob=op-key-two"}
    for args in (("--json",), ()):
        p = nexus("config", "show", *args, env=env)
        assert p.returncode == 0, p.stderr
        for secret in (SECRET, OTHER_SECRET, "op-key-one", "op-key-two"):
            assert secret not in p.stdout + p.stderr
        assert "********" in p.stdout


def test_trade_reads_its_settings_but_auto_only_from_the_command_line(tmp_path):
    """`nexus trade` is long-running: its settings come from the file and the environment,
    but --auto and --confirm-caps must be typed (a stale file or variable cannot arm it)."""
    path = tmp_path / "trade.toml"
    path.write_text('[trade]\nthreshold = 70\nsymbol = "ETHUSDT"\n')
    t = _show("--command", "trade", "--config", str(path), env={"NEXUS_TRADE_THRESHOLD": "80"})["trade"]
    assert (t["symbol"]["value"], t["symbol"]["source"]) == ("ETHUSDT", "file")
    assert (t["threshold"]["value"], t["threshold"]["source"]) == (80, "env")
    t = _show("--command", "trade", env={"NEXUS_TRADE_AUTO": "1", "NEXUS_TRADE_CONFIRM_CAPS": "1"})["trade"]
    assert t["auto"]["value"] is False and t["confirm_caps"]["value"] is False
    for key in ("auto", "confirm-caps"):
        path.write_text(f"[trade]\n{key} = true\n")
        p = nexus("trade", "--venue", "binance-perp", "--sim", "--config", str(path))
        assert p.returncode == 2 and f"only on the command line (--{key})" in p.stderr
