"""`nexus bench feeds --json --decode-only`: the decode cost of every venue of the registry
(issue 17's "Done when"), measured on each venue's simulated stream (small N here)."""

import json
import subprocess
import sys

from nexus.venues import registry


def test_bench_feeds_reports_the_decode_cost_of_every_venue():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "feeds", "--json", "--decode-only", "--quick"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout.splitlines()[-1])
    decode = res["decode"]
    assert set(decode) == set(registry.names())  # every venue of the registry, new ones included
    served = set(registry.simulated())
    for venue, d in decode.items():
        if venue not in served:
            assert "error" in d
            continue
        assert "error" not in d, (venue, d)
        assert d["msgs"] > 0 and d["ns_per_msg"] > 0 and d["msgs_per_s"] > 0, (venue, d)
        assert d["rejected"] == 0, (venue, d)  # the simulator's own stream decodes cleanly
        assert abs(d["msgs_per_s"] * d["ns_per_msg"] / 1e9 - 1) < 0.01  # the two figures agree
    assert "replay_msgs_per_s" not in res  # --decode-only: nothing else was run
