"""Server heartbeats that must be answered (Heartbeat.answer_marker / answer): Deribit's
test_request (answered with public/test) and Crypto.com's public/heartbeat (answered with
public/respond-heartbeat carrying the request's id). The simulator closes a connection that
leaves one unanswered until the next; run at 6x so several fall due within the test."""
import asyncio

from nexus.feeds.runtime import RunConfig, Runtime

SPEED = 6
RUN_S = 14  # 84 simulated seconds: heartbeats at 30 and 60 on both venues


def test_heartbeat_requests_are_answered_and_the_connections_stay_up():
    async def main():
        rt = Runtime(RunConfig(venues=["deribit", "cryptocom"], sim=True, seed=2, signals=False,
                               duration_s=RUN_S, sim_speed=SPEED))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + RUN_S
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.002)
        conns = {v: [c.state for c in rt.sim.server.conns[v]] for v in ("deribit", "cryptocom")}
        stats = rt.venue_stats()
        await rt.stop()
        return conns, stats

    conns, stats = asyncio.run(main())
    for v in ("deribit", "cryptocom"):
        assert stats[v]["reconnects"] == 0 and stats[v]["state"] in ("LIVE", "STALE"), (v, stats[v])
        assert len(conns[v]) == 1, v
    d = conns["deribit"][0]
    assert d.get("asked_ns") and d["tested_ns"] >= d["asked_ns"]  # test_request sent and answered
    c = conns["cryptocom"][0]
    assert c["hb_next_ns"] > 60 * 10**9 + 1_767_225_600_000_000_000 and c.get("hb_id") in (None,)  # answered
