"""AGG end to end against the simulator: divergence names only the diverging venue, a silent
venue goes stale and recovers; the same over a recording with `nexus agg replay`."""
import json
import subprocess
import sys

import pytest

FIVE = "binance-perp,binance-spot,bybit-perp,okx-swap,hyperliquid"
FAULTS = ["--fault", "diverge:okx-swap:5", "--fault", "silence:bybit-perp:5"]


def nexus(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, timeout=timeout)


def check_alerts(lines):
    alerts = [a for line in lines for a in line.get("alerts", [])]
    div = [a for a in alerts if a["type"] == "divergence"]
    assert div, "no divergence alert"
    assert {a["venue"] for a in div} == {"okx-swap"}  # and no other venue
    assert [a["state"] for a in div].count("diverged") == 1  # one alert per episode
    stale = [a for a in alerts if a["type"] == "stale"]
    assert [(a["venue"], a["state"]) for a in stale] == [("bybit-perp", "stale"), ("bybit-perp", "recovered")]
    return alerts


def test_live_agg_alerts_and_json_contract():
    # all five merged (spot included), as `--agg-scope all` asks: the default would leave spot outside
    p = nexus("run", "--sim", "--agg", "--agg-scope", "all", "--venues", FIVE, *FAULTS, "--duration", "16", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    per_second = [x for x in lines if "t_s" in x]
    assert "scope" not in lines[-1]["agg"] and "scope" not in per_second[-1]["agg"]
    for line in per_second:
        assert set(line["agg"]) >= {"best_bid", "best_ask", "venues_live", "trades", "trades_deduped"}
        assert isinstance(line["alerts"], list)
    check_alerts(per_second)
    assert min(x["agg"]["venues_live"] for x in per_second) == 4  # bybit excluded while stale
    m = per_second[-1]["agg"]["venue_metrics"]
    assert set(m) == set(FIVE.split(","))
    assert all(set(v) >= {"msgs_per_s", "latency_us_p50", "spread", "depth_share", "stale_s"} for v in m.values())
    assert m["bybit-perp"]["stale_s"] > 0 and m["hyperliquid"]["stale_s"] == 0


def test_agg_replay_over_a_recording(tmp_path):
    rec = tmp_path / "agg.nxr"
    p = nexus("record", "--sim", "--venues", FIVE, *FAULTS, "--duration", "16", "-o", str(rec), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    # all five merged, as the live test above asks (the default "auto" would leave spot outside)
    r = nexus("agg", "replay", str(rec), "--json", "--agg-scope", "all")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert "summary" in lines[-1]
    check_alerts(lines[:-1])
    assert r.stdout == nexus("agg", "replay", str(rec), "--json", "--agg-scope", "all").stdout  # deterministic
    # the flow engine ran as in `nexus run --agg`: per-line signals add up to the summary's counts
    per_line = [sig for line in lines[:-1] for sig in line["signals"]]
    counted: dict = {}
    for sig in per_line:
        assert sig["venue"] in FIVE.split(",") + ["agg"] and sig["side"] in ("buy", "sell")
        counted.setdefault(sig["venue"], {}).setdefault(sig["signal"], 0)
        counted[sig["venue"]][sig["signal"]] += 1
    assert counted == lines[-1]["signals"]
    quiet = nexus("agg", "replay", str(rec), "--json", "--no-signals", "--agg-scope", "all")
    assert all("signals" not in json.loads(x) for x in quiet.stdout.splitlines())


def test_agg_takes_at_most_five_venues():
    p = nexus("run", "--sim", "--agg", "--venues", FIVE + ",kraken", "--duration", "1")
    assert p.returncode == 2 and "at most five" in p.stderr


def test_agg_scope_perps_keeps_spot_out_of_the_consensus():
    """`--agg-scope perps`: Binance spot is read and shown per venue but merged into neither
    the consensus book nor its tape; the summary names it and counts the seconds sampled."""
    p = nexus("run", "--sim", "--agg", "--agg-scope", "perps", "--venues", FIVE, "--duration", "8", "--json",
              "--no-signals")
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    per_second, summary = [x for x in lines if "t_s" in x], lines[-1]
    perps = set(FIVE.split(",")) - {"binance-spot"}
    assert set(per_second[-1]["agg"]["venue_metrics"]) == perps
    assert per_second[-1]["agg"]["scope"] == "perps" and per_second[-1]["agg"]["outside"] == ["binance-spot"]
    assert summary["summary"]["binance-spot"]["state"] == "LIVE"          # still read
    agg = summary["agg"]
    assert agg["scope"] == "perps" and agg["outside"] == ["binance-spot"]
    assert agg["trades"] > 0 and agg["venues_live"] == len(perps)
    assert agg["seconds"] == sum(1 for x in per_second if x["agg"]["best_bid"] and x["agg"]["best_ask"])
    assert agg["seconds_uncrossed"] == sum(1 for x in per_second if x["agg"]["best_bid"] and x["agg"]["best_ask"]
                                           and not x["agg"]["crossed"])
    assert agg["uncrossed_share"] == round(agg["seconds_uncrossed"] / agg["seconds"], 3)
    crossing = {v for v, c in agg["crossed_by"].items() if c["bid"] or c["ask"]}
    assert crossing <= perps
    assert "scope_auto" not in agg       # asked for, not chosen
    check_crossed_pairs(agg, perps)


def check_crossed_pairs(agg, members):
    """The summary's crossed_pairs: one entry per sample where the venues' own touches
    crossed (the raw merge, before the consensus's uncrossing by freshness: the venues holding
    the crossed bid and ask, both merged, never the same venue), a cross >= 0 bp."""
    pairs = agg["crossed_pairs"]
    assert agg["uncross"] == "fresh"
    raw_crossed = agg["seconds"] - agg["raw"]["seconds_uncrossed"]
    assert sum(c["seconds"] for c in pairs.values()) == raw_crossed
    assert agg["raw"]["uncrossed_share"] == round(agg["raw"]["seconds_uncrossed"] / agg["seconds"], 3)
    # the consensus shown is crossed only where the raw merge is
    assert agg["seconds_uncrossed"] >= agg["raw"]["seconds_uncrossed"]
    for key, c in pairs.items():
        bid_venue, ask_venue = key.split(">")
        assert bid_venue != ask_venue and {bid_venue, ask_venue} <= members, key
        assert c["bps_median"] >= 0 and (c["book_gap_ms_median"] is None or c["book_gap_ms_median"] >= 0)
        # the venue holding the crossed bid was counted in crossed_by on the bid side, and so on
        assert agg["crossed_by"][bid_venue]["bid"] > 0 and agg["crossed_by"][ask_venue]["ask"] > 0


def test_agg_default_scope_merges_the_perpetuals_when_spot_is_mixed_in():
    """No --agg-scope on the default mix of spot and perpetuals: "auto" merges the perpetuals
    (spot read, shown per venue and named outside, scope_auto); the summary's crossed_pairs
    accounts for every crossed second. A set of perpetuals only is merged whole (no scope)."""
    p = nexus("run", "--sim", "--agg", "--venues", FIVE, "--duration", "8", "--json", "--no-signals")
    assert p.returncode == 0, p.stderr[-2000:]
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    per_second, agg = [x for x in lines if "t_s" in x], lines[-1]["agg"]
    perps = set(FIVE.split(",")) - {"binance-spot"}
    assert set(per_second[-1]["agg"]["venue_metrics"]) == perps
    assert per_second[-1]["agg"]["scope_auto"] is True and per_second[-1]["agg"]["outside"] == ["binance-spot"]
    assert lines[-1]["summary"]["binance-spot"]["state"] == "LIVE"
    assert (agg["scope"], agg["outside"], agg["scope_auto"]) == ("perps", ["binance-spot"], True)
    assert agg["seconds"] >= 3
    check_crossed_pairs(agg, perps)
    only = "binance-perp,okx-swap,bybit-perp"
    p = nexus("run", "--sim", "--agg", "--venues", only, "--duration", "4", "--json", "--no-signals")
    assert p.returncode == 0, p.stderr[-2000:]
    agg = json.loads(p.stdout.splitlines()[-1])["agg"]
    assert "scope" not in agg and "scope_auto" not in agg and agg["venues_live"] == 3
    check_crossed_pairs(agg, set(only.split(",")))


def test_agg_scope_is_checked():
    for scope in ("perps", "all"):
        p = nexus("run", "--sim", "--agg-scope", scope, "--venues", "binance-perp", "--duration", "1")
        assert p.returncode == 2 and "--agg-scope needs --agg" in p.stderr
    p = nexus("run", "--sim", "--agg-uncross", "off", "--venues", "binance-perp", "--duration", "1")
    assert p.returncode == 2 and "--agg-uncross needs --agg" in p.stderr
    p = nexus("run", "--sim", "--agg", "--agg-scope", "spot", "--venues", "binance-perp", "--duration", "1")
    assert p.returncode == 2 and "'auto', 'all', 'perps'" in p.stderr, p.stderr[-2000:]
    p = nexus("run", "--sim", "--agg", "--agg-scope", "perps", "--venues", "binance-spot,coinbase", "--duration", "2",
              "--json", "--no-signals")
    assert p.returncode == 2 and "none of binance-spot, coinbase is a perpetual" in p.stderr, p.stderr[-2000:]


def check_uncrossed_summary(per_second, agg):
    """The summary's once-a-second samples agree with the lines they were taken with."""
    two_sided = [x for x in per_second if x["agg"]["best_bid"] and x["agg"]["best_ask"]]
    assert agg["seconds"] == len(two_sided) > 0
    assert agg["seconds_uncrossed"] == sum(1 for x in two_sided if not x["agg"]["crossed"])
    assert agg["uncrossed_share"] == round(agg["seconds_uncrossed"] / agg["seconds"], 3)
    # crossed_by counts the samples where the venues' own touches crossed (the raw merge)
    assert agg["raw"]["seconds_uncrossed"] == sum(1 for x in two_sided if not x["agg"]["crossed_raw"])
    assert all(x["agg"]["crossed_raw"] for x in two_sided if x["agg"]["crossed"])
    raw_crossed = agg["seconds"] - agg["raw"]["seconds_uncrossed"]
    assert all(0 < c["bid"] + c["ask"] and c["bid"] <= raw_crossed and c["ask"] <= raw_crossed
               for c in agg["crossed_by"].values())


def test_agg_replay_scope_and_uncrossed_share_over_a_recording(tmp_path):
    """`nexus agg replay --agg-scope perps` over a recorded simulator session keeps Binance spot
    out of the consensus as `nexus run --agg-scope perps` does, and both scopes' summaries
    carry the run's uncrossed share of the recorded seconds (nexus.feeds.run.aggregation
    CrossedSeconds, the same code)."""
    rec = tmp_path / "agg.nxr"
    p = nexus("record", "--sim", "--venues", FIVE, "--duration", "8", "-o", str(rec), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    out = {}
    for scope in ("all", "perps"):
        r = nexus("agg", "replay", str(rec), "--json", "--no-signals", "--agg-scope", scope)
        assert r.returncode == 0, r.stderr[-2000:]
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        per_second, agg = lines[:-1], lines[-1]["summary"]
        check_uncrossed_summary(per_second, agg)
        out[scope] = per_second, agg
    perps = set(FIVE.split(",")) - {"binance-spot"}
    per_second, agg = out["perps"]
    assert agg["scope"] == "perps" and agg["outside"] == ["binance-spot"]
    assert all(x["agg"]["scope"] == "perps" and x["agg"]["outside"] == ["binance-spot"] for x in per_second)
    assert max(x["agg"]["venues_live"] for x in per_second) == len(perps) == agg["venues_live"]
    assert set(agg["crossed_by"]) <= perps
    assert 0 < agg["trades"] < out["all"][1]["trades"]  # spot's trades stay out of the consensus tape
    per_second, agg = out["all"]
    assert "scope" not in agg and all("scope" not in x["agg"] for x in per_second)
    assert agg["venues_live"] == len(perps) + 1
    text = nexus("agg", "replay", str(rec), "--no-signals", "--agg-scope", "perps")
    assert text.returncode == 0 and (f"uncrossed {out['perps'][1]['seconds_uncrossed']}/{out['perps'][1]['seconds']} s"
                                     in text.stdout.splitlines()[-1]), text.stdout[-500:]
    # --agg-uncross off: the raw merge is the consensus; it samples the same raw crosses
    fresh = out["perps"][1]
    r = nexus("agg", "replay", str(rec), "--json", "--no-signals", "--agg-scope", "perps", "--agg-uncross", "off")
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    off = lines[-1]["summary"]
    assert off["uncross"] == "off" and all("crossed_raw" not in x["agg"] for x in lines[:-1])
    assert off["seconds_uncrossed"] == off["raw"]["seconds_uncrossed"] == fresh["raw"]["seconds_uncrossed"]
    assert off["crossed_by"] == fresh["crossed_by"] and off["crossed_pairs"] == fresh["crossed_pairs"]
    assert fresh["seconds_uncrossed"] >= off["seconds_uncrossed"]


def test_agg_replay_scope_is_checked(tmp_path):
    rec = tmp_path / "spot.nxr"
    p = nexus("record", "--sim", "--venues", "binance-spot,coinbase", "--duration", "2", "-o", str(rec), "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    r = nexus("agg", "replay", str(rec), "--json", "--agg-scope", "perps")
    assert r.returncode == 2 and "none of binance-spot, coinbase is a perpetual" in r.stderr, r.stderr[-2000:]
