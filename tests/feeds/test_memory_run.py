"""The memory run behind `nexus bench feeds` (its figures are a benchmark, not asserted here):
a fresh process runs the five-venue runtime against `nexus sim` and samples its memory once
per simulated minute."""

from nexus.bench.feeds import VENUES, memory_run


def test_memory_run_samples_each_minute_with_populated_rings():
    res = memory_run(minutes=2, speed=20)
    series = res["rss_series"]
    assert [s["minute"] for s in series] == [1, 2]
    assert series[1]["msgs"] > series[0]["msgs"] > 0
    assert set(res["memory_run_states"]) == set(VENUES)
    # every ring (writer + reader mapping per venue) is resident from the first sample on:
    # the shared part is exactly the rings' fixed, page-rounded size, and does not grow
    assert series[0]["shmem"] == series[1]["shmem"] >= res["rss_shmem_bound_bytes"]
    assert res["rss_growth_bytes"] == res["rss_end_bytes"] - res["rss_first_minute_bytes"]
