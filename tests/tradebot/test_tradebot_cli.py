"""`nexus tradebot ...` through a real subprocess: the decide contract, settings, run and log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tb_helpers import snapshot_obj


def nexus(*args: str, stdin: bytes = b"", cwd=None, env_db: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NEXUS_DB"}
    if env_db:
        env["NEXUS_DB"] = env_db
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], input=stdin, capture_output=True,
                          timeout=180, cwd=cwd, env=env)


def line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


# Hand-computed in test_tradebot_rules / test_tradebot_examples.
ACTING = snapshot_obj(H="1.3", C="1.2", R="1.2")  # rule 1: transfer 0.3
ACTING_OUT = {"status": "ok", "reasons": [], "unbalanced": False,
              "actions": [{"action": "transfer_to_exchange", "amount": "0.30000000"}]}
BUSY = snapshot_obj(open=True, age="12.5", H="2.1", C="2", R="1.97")
BUSY_OUT = {"status": "skipped", "reasons": ["open_orders_or_withdraws", "recent_order", "reserve_below_balance"],
            "unbalanced": True, "actions": []}
QUIET_OUT = {"status": "ok", "reasons": [], "unbalanced": False, "actions": []}


def test_decide_malformed_lines_are_reported_and_the_rest_decided():
    missing = snapshot_obj()
    del missing["state"]["delayed_send"]
    bad_amount = snapshot_obj(X="1e5")  # exponent notation is not a decimal string
    stdin = b"".join([
        line(ACTING),  # 1
        b'{"decimals": 8, oops\n',  # 2: not JSON
        line(missing),  # 3
        line(BUSY),  # 4
        b"\n",  # 5: blank: not a snapshot either
        line(bad_amount),  # 6
        b"\xff\xfe not utf-8\n",  # 7
        line(snapshot_obj()),  # 8
        b"[1, 2]\n",  # 9: JSON, but not an object
    ])
    p = nexus("tradebot", "decide", stdin=stdin)
    assert p.returncode == 3, p.stderr
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(out) == 9  # output line N answers input line N
    assert [out[0], out[3], out[7]] == [ACTING_OUT, BUSY_OUT, QUIET_OUT]
    errors = {o["line"]: o["error"] for o in out if o["status"] == "error"}
    assert sorted(errors) == [2, 3, 5, 6, 7, 9] and all(out[n - 1]["line"] == n for n in errors)
    assert errors[3] == "state.delayed_send: missing" and errors[5] == "blank line: expected a snapshot"
    err = p.stderr.decode().splitlines()
    assert len(err) == 6, err
    assert err[0].startswith("nexus tradebot decide: line 2: not valid JSON")
    assert err[1] == "nexus tradebot decide: line 3: state.delayed_send: missing"
    assert err[3] == 'nexus tradebot decide: line 6: state.exchange_crypto_total: not a decimal string: "1e5"'
    assert err[4].startswith("nexus tradebot decide: line 7: not UTF-8")
    assert err[5] == "nexus tradebot decide: line 9: snapshot: expected an object, got [1, 2]"


def test_decide_reports_numbers_as_numbers_and_refuses_a_negative_age():
    """Issue 16, item 8; and `--json` is accepted (every figure-printing command takes it)."""
    fractional = json.dumps(snapshot_obj()).replace('"decimals": 8', '"decimals": 8.5')
    negative = snapshot_obj()
    negative["flags"]["last_order_age_s"] = -5
    p = nexus("tradebot", "decide", "--json", stdin=fractional.encode() + b"\n" + line(negative) + line(ACTING))
    assert p.returncode == 3, p.stderr
    out = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert out[0] == {"status": "error", "line": 1, "error": "decimals: expected an integer, got 8.5"}
    assert out[1]["line"] == 2 and out[1]["error"].startswith("flags.last_order_age_s: seconds since the last finished "
                                                              "order cannot be negative, got -5")
    assert out[2] == ACTING_OUT


def test_decide_all_good_exits_0_and_keeps_order():
    stdin = b"".join(line(x) for x in (BUSY, ACTING, BUSY))
    p = nexus("tradebot", "decide", stdin=stdin)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    assert [json.loads(x) for x in p.stdout.decode().splitlines()] == [BUSY_OUT, ACTING_OUT, BUSY_OUT]


def test_decide_reads_json_numbers_exactly():
    # H as the JSON number 1.20000001 (C = R = 1.2): rule 1 moves H - T = 0.20000001. Through a
    # binary float, 1.20000001 is 1.2000000099999999.., which quantizes down to 0.20000000.
    obj = snapshot_obj(H="1.2")
    obj["state"]["hotwallet_total_balance"] = "__H__"
    text = json.dumps(obj).replace('"__H__"', "1.20000001").encode() + b"\n"
    p = nexus("tradebot", "decide", stdin=text)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["actions"] == [{"action": "transfer_to_exchange", "amount": "0.20000001"}]


def test_decide_schema_keys_exactly():
    p = nexus("tradebot", "decide", stdin=line(ACTING))
    out = json.loads(p.stdout)
    assert list(out) == ["status", "reasons", "unbalanced", "actions"]
    assert list(out["actions"][0]) == ["action", "amount"]


SET_BTC = ["--exchange", "kraken", "--currency", "EUR", "--target", "50000", "--wobble", "5000",
           "--min-trade", "20", "--max-trade", "25000", "--min-transfer", "50", "--max-transfer", "10000",
           "--min-confirmed", "0.2"]


def test_settings_set_show_and_refusals(tmp_path):
    db = f"sqlite:///{tmp_path / 'nexus.db'}"
    p = nexus("tradebot", "settings", "set", "BTC", *SET_BTC, "--active", "--json", "--db", db)
    assert p.returncode == 0, p.stderr
    stored = json.loads(p.stdout)
    assert stored["max_trade"] == "25000" and stored["active"] is True
    # each of the seed's bad parameters is refused when set (exit 2) and nothing changes
    for args, fragment in [
        (["--max-trade", "0"], "bad_trade_limits"),
        (["--max-trade", "19"], "bad_trade_limits"),
        (["--max-transfer", "0"], "bad_transfer_limits"),
        (["--min-transfer", "10001"], "bad_transfer_limits"),
        (["--min-confirmed", "-1"], "bad_balance_params"),
        (["--wobble", "50001"], "bad_balance_params"),
        (["--target", "-5", "--wobble", "0"], "bad_balance_params"),
        (["--min-trade", "0"], "more than 0"),
        (["--exchange", "agg"], "pick one venue"),
        (["--exchange", "nosuchex"], "exchange 'nosuchex' is unknown (known: binance-spot"),
        (["--currency", "XYZ"], "currency 'XYZ' is unknown (known: EUR)"),
    ]:
        p = nexus("tradebot", "settings", "set", "BTC", *args, "--db", db)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert fragment in p.stderr.decode(), (args, p.stderr)
    p = nexus("tradebot", "settings", "show", "--json", env_db=db)  # NEXUS_DB works too
    assert [json.loads(x) for x in p.stdout.decode().splitlines()] == [stored]
    p = nexus("tradebot", "settings", "set", "BTC", "--inactive", "--max-trade", "30000", "--db", db)
    assert p.returncode == 0, p.stderr
    p = nexus("tradebot", "settings", "show", "BTC", "--db", db)
    assert "BTC" in p.stdout.decode() and "30000" in p.stdout.decode()
    p = nexus("tradebot", "settings", "set", "ETH", "--target", "1", "--db", db)
    assert p.returncode == 2 and "missing" in p.stderr.decode()
    p = nexus("tradebot", "settings", "set", "NOSUCHCOIN", *SET_BTC, "--db", db)
    assert p.returncode == 2 and "crypto 'NOSUCHCOIN' is unknown (known: BTC, ETH, PAXG, USDT)" in p.stderr.decode()
    assert nexus("tradebot", "settings", "show", "DOGE", "--db", db).returncode == 2


WORLD = {"confirm_s": 0, "send_delay_s": 0, "fee_rate": "0.001",
         "cryptos": {"BTC": {"decimals": 8, "price": "37123.45", "internal_price": "36000",
                             "hotwallet": "0.4", "exchange_crypto": "0.1"}},
         "exchanges": {"kraken": {"EUR": "20000"}}}


def test_run_paper_and_log(tmp_path):
    db = f"sqlite:///{tmp_path / 'nexus.db'}"
    assert nexus("tradebot", "settings", "set", "BTC", *SET_BTC, "--active", "--db", db).returncode == 0
    world = tmp_path / "world.json"
    world.write_text(json.dumps(WORLD))
    p = nexus("tradebot", "run", "--paper", str(world), "--fast", "--rounds", "2", "--json", "--db", db)
    assert p.returncode == 0, p.stderr
    printed = [json.loads(x) for x in p.stdout.decode().splitlines()]
    # the paper world's two rounds, computed by hand in test_tradebot_scheduler
    assert [e["actions"] for e in printed] == [
        [{"action": "transfer_from_exchange", "amount": "0.10000000"}, {"action": "buy", "amount": "0.53335560"}],
        [{"action": "transfer_from_exchange", "amount": "0.26937151"}, {"action": "buy", "amount": "0.00480553"}],
    ]
    p = nexus("tradebot", "log", "--json", "--db", db)
    logged = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert logged == printed  # the audit log holds what the run reported, inputs included
    assert logged[0]["snapshot"]["state"]["hotwallet_total_balance"] == "0.4"
    assert all(r["ok"] for e in logged for r in e["results"])
    text = nexus("tradebot", "log", "--db", db).stdout.decode().splitlines()
    assert len(text) == 2 and "executed" in text[0] and "buy 0.53335560 ok" in text[0]


def test_run_paper_refuses_an_exchange_the_world_does_not_have(tmp_path):
    """Issue 16, item 8: a crypto set to trade on coinbase (a venue) against a world with only
    kraken is refused before anything runs, instead of "executing" on an invented exchange."""
    db = f"sqlite:///{tmp_path / 'nexus.db'}"
    args = [a if a != "kraken" else "coinbase" for a in SET_BTC]
    assert nexus("tradebot", "settings", "set", "BTC", *args, "--active", "--db", db).returncode == 0
    world = tmp_path / "world.json"
    world.write_text(json.dumps(WORLD))
    p = nexus("tradebot", "run", "--paper", str(world), "--fast", "--rounds", "2", "--json", "--db", db)
    assert p.returncode == 2 and p.stdout == b"", p.stdout
    assert b"BTC trades EUR on coinbase, which the paper world does not have (kraken)" in p.stderr, p.stderr
    assert nexus("tradebot", "log", "--json", "--db", db).stdout == b""  # nothing ran


def test_run_needs_paper_until_the_broker_lands(tmp_path):
    p = nexus("tradebot", "run", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert p.returncode == 2 and b"--paper" in p.stderr


def test_help_lists_tradebot():
    p = nexus("--help")
    assert b"tradebot" in p.stdout
    p = nexus("tradebot", "--help")
    for cmd in (b"decide", b"settings", b"log", b"run"):
        assert cmd in p.stdout


@pytest.mark.parametrize("args", [["tradebot", "decide", "--nope"], ["tradebot", "log", "--limit", "0"]])
def test_usage_errors_exit_2(args):
    assert nexus(*args).returncode == 2


def test_db_is_required_and_a_bare_path_is_sqlite(tmp_path):
    p = nexus("tradebot", "log", cwd=tmp_path)
    assert p.returncode == 2 and b"--db" in p.stderr
    assert list(tmp_path.iterdir()) == []  # no stray database file
    p = nexus("tradebot", "settings", "set", "BTC", *SET_BTC, "--db", "bare.db", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "bare.db").exists()


def test_run_against_the_broker_on_the_in_process_chain(tmp_path):
    db = str(tmp_path / "broker.db")
    r = nexus("tradebot", "settings", "set", "ETH", "--db", db, "--exchange", "kraken", "--currency", "EUR",
              "--target", "2880000", "--wobble", "160000", "--min-trade", "320", "--max-trade", "1600",
              "--min-transfer", "3200", "--max-transfer", "64000", "--min-confirmed", "0", "--active")
    assert r.returncode == 0, r.stderr
    r = nexus("tradebot", "settings", "set", "ETH", "--db", db, "--max-transfer", "0")
    assert r.returncode == 2 and b"bad_transfer_limits" in r.stderr
    r = nexus("tradebot", "run", "--db", db, "--chain", "sim", "--exchange-fund", "EUR=100000", "--rounds", "3",
              "--fast", "--json")
    assert r.returncode == 0, r.stderr
    runs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(runs) == 3 and all(e["outcome"] == "executed" for e in runs), runs
    assert runs[0]["actions"][0]["action"] == "transfer_to_exchange"  # 1000 ETH > 900 + 50 (at ~3200 EUR)
    assert all(res["ok"] for e in runs for res in e["results"])
    assert any(a["action"] == "sell" for e in runs[1:] for a in e["actions"])
    log = nexus("tradebot", "log", "--db", db, "--json")
    assert [json.loads(line)["id"] for line in log.stdout.splitlines()] == [e["id"] for e in runs]
