"""Every scripted pattern is labelled, and each label's ground truth is really in the flow."""

import asyncio
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from simclient import http_get, run

from nexus.sim import PATTERN_KINDS, SimCore, Simulator

VENUES = ["binance-perp", "okx-swap", "kraken"]
RUN_S = 80


@pytest.fixture(scope="module")
def engine():
    e = SimCore(seed=31, venues=VENUES, record_fills=True)
    e.advance(RUN_S)
    return e


def _fills(engine, label):
    return [f for v, f in engine.fill_log if v == label["venue"] and f.tag == label["id"]]


def _px(engine, label, v: int) -> str:
    return engine.feeds[label["venue"]].spec.px(v)


def test_every_kind_is_labelled_with_the_documented_fields(engine):
    labels = engine.labels(include_active=False)
    assert {lb["kind"] for lb in labels} == set(PATTERN_KINDS)
    for lb in labels:
        spec = engine.feeds[lb["venue"]].spec
        assert lb["venue"] in VENUES and lb["symbol"] == spec.symbol
        assert lb["side"] in ("buy", "sell") and lb["active"] is False
        assert lb["t_start_ns"] <= lb["t_ns"] <= lb["t_end_ns"]
        price = Decimal(lb["price"])
        assert price > 0 and (price / Decimal(spec.tick_str())) % 1 == 0, lb


def test_iceberg_trades_far_more_than_it_shows(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "iceberg" and "derived_from" not in x["detail"]]:
        spec = engine.feeds[lb["venue"]].spec
        at_price = [f for v, f in engine.fill_log if v == lb["venue"] and _px(engine, lb, f.price) == lb["price"]
                    and lb["t_start_ns"] <= f.ts_ns <= lb["t_end_ns"]]
        traded = sum(f.qty for f in at_price)
        visible = Decimal(lb["detail"]["visible"]) * 10 ** spec.qty_dec
        assert lb["detail"]["refills"] >= 3
        assert traded >= 3 * visible, (traded, visible)
        taker = 1 if lb["side"] == "sell" else -1          # a hidden bid is hit by sellers
        assert all(f.side == taker for f in _fills(engine, lb))


def test_spoof_wall_never_trades_and_is_pulled(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "spoof" and "derived_from" not in x["detail"]]:
        touched = [f for v, f in engine.fill_log if v == lb["venue"] and _px(engine, lb, f.price) == lb["price"]
                   and lb["t_start_ns"] <= f.ts_ns < lb["t_end_ns"]]
        assert touched == []
        assert lb["detail"]["pulled"] in ("approach", "timeout") and lb["detail"]["distance_ticks"] >= 4


def test_absorption_level_takes_the_aggression(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "absorption" and "derived_from" not in x["detail"]]:
        spec = engine.feeds[lb["venue"]].spec
        fills = _fills(engine, lb)
        assert fills and all(_px(engine, lb, f.price) == lb["price"] for f in fills)
        volume = sum(f.qty for f in fills)
        assert volume >= 2 * Decimal(lb["detail"]["display"]) * 10 ** spec.qty_dec
        taker = -1 if lb["side"] == "buy" else 1
        assert all(f.side == taker for f in fills)


def test_exhaustion_burst_then_nothing(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "exhaustion" and "derived_from" not in x["detail"]]:
        fills = _fills(engine, lb)
        side = 1 if lb["side"] == "buy" else -1
        assert len(fills) >= 5 and all(f.side == side for f in fills)
        assert max(f.ts_ns for f in fills) <= lb["t_ns"] < lb["t_end_ns"]
        extreme = max(f.price for f in fills) if side == 1 else min(f.price for f in fills)
        lp = Decimal(lb["price"])
        assert abs(Decimal(_px(engine, lb, extreme)) - lp) / lp < Decimal("0.001")


def test_delta_spike_is_one_sided_and_short(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "delta_spike" and "derived_from" not in x["detail"]]:
        fills = _fills(engine, lb)
        side = 1 if lb["side"] == "buy" else -1
        assert lb["detail"]["orders"] >= 10 and all(f.side == side for f in fills)
        assert lb["t_end_ns"] - lb["t_start_ns"] <= 700_000_000


def test_derived_labels_realise_the_other_definition(engine):
    """An exhaustion burst labelled a delta spike reached the spike z on the venue's fills; a
    delta spike labelled an exhaustion moved >= 3 bp and gave back >= 40 %."""
    from nexus.sim.patterns import FADE_MOVE_BPS, FADE_RETRACE, SPIKE_Z

    labels = engine.labels(False)
    by_id = {lb["id"]: lb for lb in labels}
    derived = [lb for lb in labels if "derived_from" in lb["detail"]]
    assert derived
    for lb in derived:
        src = by_id[lb["detail"]["derived_from"]]
        assert lb["id"].startswith(src["id"] + ".") and lb["venue"] == src["venue"] and lb["side"] == src["side"]
        assert src["t_start_ns"] == lb["t_start_ns"] <= lb["t_ns"] <= lb["t_end_ns"]
        if lb["kind"] == "delta_spike":
            assert src["kind"] == "exhaustion" and lb["detail"]["z"] >= SPIKE_Z
            fills = _fills(engine, src)       # the burst's own orders are all on its side
            assert all(f.side == (1 if lb["side"] == "buy" else -1) for f in fills)
        else:
            assert src["kind"] == "delta_spike" and lb["kind"] == "exhaustion"
            assert lb["detail"]["move_bps"] >= FADE_MOVE_BPS and lb["detail"]["retrace_pct"] >= 100 * FADE_RETRACE
            # the move is the spike's own prints (trades on the wire): first to extreme
            sign = 1 if lb["side"] == "buy" else -1
            px = [f.price for f in _fills(engine, src)]
            ext = max(px) if sign == 1 else min(px)
            assert lb["price"] == _px(engine, lb, ext)
            assert lb["detail"]["move_bps"] == round(sign * (ext - px[0]) * 1e4 / px[0], 2)


def test_accumulation_repeats_one_large_lot(engine):
    for lb in [x for x in engine.labels(False) if x["kind"] == "accumulation" and "derived_from" not in x["detail"]]:
        spec = engine.feeds[lb["venue"]].spec
        by_order = defaultdict(int)
        for f in _fills(engine, lb):
            by_order[f.order] += f.qty
        lot = Decimal(lb["detail"]["lot"]) * 10 ** spec.qty_dec
        assert len(by_order) >= 10 and lb["detail"]["orders"] == len(by_order)
        full = [q for q in by_order.values() if q == lot]
        assert len(full) >= 0.8 * len(by_order)
        assert (lb["t_end_ns"] - lb["t_start_ns"]) >= 20_000_000_000


def test_labels_endpoint_and_labels_file(tmp_path):
    out = tmp_path / "labels.jsonl"

    async def main():
        async with Simulator(seed=31, venues=["okx-swap", "kraken"], speed=25, labels_out=out) as sim:
            while sim.t_s < 70:
                await asyncio.sleep(0.1)
            status, body = await http_get(sim.endpoints()["labels"])
            return status, body
    status, body = run(main(), timeout=120)
    assert status == 200
    done = [lb for lb in body["labels"] if not lb["active"]]
    assert {lb["kind"] for lb in done} == set(PATTERN_KINDS)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert {lb["id"] for lb in done} <= {lb["id"] for lb in written}
    assert all(set(lb) >= {"kind", "venue", "symbol", "side", "price", "t_ns"} for lb in written)


class _Spec:
    venue, symbol = "x", "X"

    def px(self, v):
        return str(v)


class _Vs:
    spec = _Spec()


class _Spike:
    """The few attributes of a DeltaSpike a SpikeFade reads."""
    id, side, t_start, done, price = "L0001", 1, 0, False, 100_000
    vs = _Vs()


def _fill(t, price, tag="L0001"):
    from nexus.sim.market import BUY, Fill
    return Fill(t, price, 1, BUY, 1, 1, tag)


def test_spike_fade_measures_the_published_book_and_the_prints():
    """The derived exhaustion's move comes from the spike's prints and its retrace from the
    venue's PUBLISHED mid: a spike printing 5 bp up whose published book never moved is a
    failed burst; prints that moved 2 bp are not, however far the internal book went."""
    from nexus.sim.patterns import DeltaMeter, SpikeFade

    book = {"v": (99_990, 100_010)}      # the published best bid / ask (a 2 bp spread)
    m = DeltaMeter(lambda: book["v"])
    sp = _Spike()
    fade = SpikeFade(sp)
    m.feed(10, [_fill(10, 100_010), _fill(10, 100_030)])
    fade.observe(m)
    m.feed(20, [_fill(20, 100_060, tag="other"), _fill(20, 100_060)])   # extreme print: +5 bp
    fade.observe(m)
    assert not fade.done                         # the spike still runs
    sp.done = True
    m.feed(30, [])
    fade.observe(m)
    assert fade.done and fade.hit
    lb = fade.label()
    assert lb["price"] == "100060" and lb["t_ns"] == 20 and lb["detail"]["move_bps"] == 5.0
    assert lb["detail"]["retrace_pct"] == 120.0   # mid 100000: (100060 - 100000) / 50

    sp2 = _Spike()
    fade2 = SpikeFade(sp2)
    m.feed(40, [_fill(40, 100_010), _fill(40, 100_030)])   # prints: 2 bp
    fade2.observe(m)
    sp2.done = True
    book["v"] = (99_900, 99_950)                 # the book falls 6 bp below the start
    for t in range(50, 50 + 11 * 10**9, 10**9):
        m.feed(t, [])
        fade2.observe(m)
    assert fade2.done and not fade2.hit


def test_spike_fade_without_a_published_book_derives_nothing():
    from nexus.sim.patterns import DeltaMeter, SpikeFade

    m = DeltaMeter()                             # no feed: nothing published
    sp = _Spike()
    fade = SpikeFade(sp)
    m.feed(10, [_fill(10, 100_010), _fill(10, 100_100)])
    fade.observe(m)
    sp.done = True
    for t in range(20, 20 + 11 * 10**9, 10**9):
        m.feed(t, [])
        fade.observe(m)
    assert fade.done and not fade.hit


def test_spoof_wall_stays_within_the_published_depth():
    """A spoof is displayed size: on a depth-limited book channel (Kraken's 10 levels) the wall
    sits at most at rank depth // 2; where every level is shown the distance is the drawn
    1.5-3 bp; where the shown depth is under 4 ticks no spoof is injected."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    e = SimCore(seed=5, venues=["kraken", "binance-perp"], patterns=False)
    e.advance(2)
    vs = e.sim.venues["kraken"]
    assert vs.published_depth == 10 == e.feeds["kraken"].view().depth
    assert e.sim.venues["binance-perp"].published_depth is None
    for i in range(20):
        sp = Spoof(f"L{i}", vs, e.t_ns, random.Random(i), BID)
        shown = vs.top(BID, 10)
        assert sp.price in shown and shown.index(sp.price) <= 5, (i, sp.distance)
        assert sp.distance >= Spoof.TICKS_MIN
        sp._pull("timeout")
    far = Spoof("L99", vs, e.t_ns, random.Random(1), BID)
    far._pull("timeout")
    vs.published_depth = None
    free = Spoof("L98", vs, e.t_ns, random.Random(1), BID)
    free._pull("timeout")
    touch = vs.best_bid()
    assert free.distance * vs.tick >= 1.5e-4 * touch - vs.tick and free.distance >= far.distance
    vs.published_depth = 4                       # a 4-level channel: the wall at rank <= 2
    assert Spoof.feasible(vs, BID) == (vs.top(BID, 3)[0] - vs.top(BID, 3)[-1] >= 4 * vs.tick)
    for p in vs.top(BID, 3)[1:]:                 # ranks 1, 2 at 1 and 2 ticks behind the touch
        vs.set_level(BID, p, 0)
    for k in (1, 2):
        vs.set_level(BID, touch - k * vs.tick, vs.spec.lot)
    assert not Spoof.feasible(vs, BID)
    vs.published_depth = None
    assert Spoof.feasible(vs, BID)


def stand(e, sp, steps=100):
    """Step the simulator until the venue has published the wall standing Spoof.MIN_SHOWN
    times (its label needs that), or the wall is gone."""
    from nexus.sim.patterns import Spoof

    for _ in range(steps):
        if sp.done or sp.pubs_shown >= Spoof.MIN_SHOWN:
            return
        e.step()


def test_spoof_never_published_is_not_labelled():
    """A wall pulled before the venue's main book channel published it (Hyperliquid pushes
    l2Book every 0.5 s) was never displayed: no label; nor is one shown in only one
    publication (Spoof.MIN_SHOWN); one the venue showed standing in two is labelled."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    e = SimCore(seed=5, venues=["hyperliquid"], patterns=False)
    e.advance(2.0)                               # just after a publication (every 50 steps)
    vs = e.sim.venues["hyperliquid"]
    sp = Spoof("L1", vs, e.t_ns, random.Random(1), BID)
    vs.hooks.append(sp)
    e.step()
    assert not sp.shown and vs.published_qty(BID, sp.price) < sp.size
    sp._pull("approach")
    assert sp.done and not sp.observable()
    sp2 = Spoof("L2", vs, e.t_ns, random.Random(2), BID)
    vs.hooks.append(sp2)
    e.advance(0.6)                               # one publication since it was placed
    assert sp2.shown and not sp2.done and sp2.pubs_shown == 1
    sp2._pull("timeout")
    assert sp2.done and not sp2.observable() and sp2.detail["shown_in"] == 1
    sp3 = Spoof("L3", vs, e.t_ns, random.Random(3), BID)
    vs.hooks.append(sp3)
    e.advance(1.1)                               # two publications since it was placed
    assert sp3.shown and not sp3.done and sp3.pubs_shown == 2
    sp3._pull("timeout")
    assert sp3.observable() and sp3.detail["shown_in"] == 2


def test_scheduler_drops_unobservable_patterns(engine):
    sched = engine.scheduler
    ids = {lb["id"] for lb in sched.labels()}
    assert not ids & set(sched.unobservable)
    assert all(i.startswith("L") for i in sched.unobservable)


def test_spoof_pulled_out_of_view_is_not_labelled():
    """On a depth-limited channel (Kraken's book shows 10 levels) a wall that was displayed but
    is pulled after levels in front pushed it beyond the last shown one: the cancel never
    reaches the wire (to a client the wall left the view as a level does when the price moves
    away), so it gets no label; the same wall pulled while on display is labelled."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    def shown_wall(i):
        e = SimCore(seed=6, venues=["kraken"], patterns=False)
        e.advance(2.0)
        vs = e.sim.venues["kraken"]
        sp = Spoof(f"L{i}", vs, e.t_ns, random.Random(i), BID)
        vs.hooks.append(sp)
        for _ in range(20):
            e.step()
            if sp.shown:
                break
        stand(e, sp)
        assert sp.shown and not sp.done and vs.published_qty(BID, sp.price) >= sp.size
        assert sp.pubs_shown >= Spoof.MIN_SHOWN      # shown long enough: only the pull's view decides
        return e, vs, sp

    e, vs, sp = shown_wall(1)
    touch = vs.best_bid()
    assert (touch - sp.price) // vs.tick >= 10
    for k in range(1, (touch - sp.price) // vs.tick):    # fill every tick between touch and wall
        p = touch - k * vs.tick
        vs.set_level(BID, p, max(vs.book_side(BID).get(p, 0), vs.spec.lot))
    for _ in range(6):                                  # Kraken publishes every 50 ms
        e.step()
    assert sp.price not in vs.top(BID, 10) and vs.published_qty(BID, sp.price) == 0
    sp._pull("timeout")
    assert sp.done and not sp.observable()

    e, vs, sp = shown_wall(1)
    sp._pull("timeout")
    assert sp.done and sp.observable()


def test_spoof_settled_at_the_publication_of_its_cancel():
    """A pulled wall is labelled once the venue has published its cancel, and only if the
    published touch was then still in front of it: a wall whose cancel shows up in the same
    message as the touch at or beyond its price looks on the wire like a quote the price ran
    over (the definition asks for a pull BEFORE the price reached it): no label."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    def pulled_wall(i):
        e = SimCore(seed=5, venues=["kraken"], patterns=False)
        e.advance(2.0)
        vs = e.sim.venues["kraken"]
        sp = Spoof(f"L{i}", vs, e.t_ns, random.Random(i), BID)
        vs.hooks.append(sp)
        for _ in range(20):
            e.step()
            if sp.shown:
                break
        stand(e, sp)
        assert sp.shown and not sp.done
        sp._pull("approach")
        return e, vs, sp

    e, vs, sp = pulled_wall(1)
    assert not sp.settled((sp.price + 3 * vs.tick, None))     # cancel not published yet
    for _ in range(6):                                          # Kraken publishes every 50 ms
        e.step()
    assert vs.published_qty(BID, sp.price) < sp.size
    assert sp.settled((sp.price + 3 * vs.tick, None)) and sp.observable()
    for touch in (sp.price, sp.price - vs.tick, None):          # at it, run over, no bids
        e, vs, sp = pulled_wall(1)
        for _ in range(6):
            e.step()
        assert sp.settled((touch, None)) and not sp.observable()
        assert "published_touch" in sp.detail


def test_scheduler_labels_spoofs_only_after_settling(engine):
    sched = engine.scheduler
    labelled = {lb["id"] for lb in sched.labels(False) if lb["kind"] == "spoof"}
    assert labelled and not labelled & set(sched.unobservable)
    assert all(not p.observable() or p.run_over is False for p in sched.settling)
    for lb in sched.labels(False):
        if lb["kind"] == "spoof":
            assert "published_touch" not in lb["detail"]


def test_accumulation_lot_is_large_for_the_venue():
    """The accumulator's lot is 10-16 typical orders of the venue as its trades show it: the
    nominal order, or more where the venue's realised median order implies more (a quiet
    venue whose orders are largely other patterns' bursts)."""
    import random

    from nexus.sim.market import BUY, Fill
    from nexus.sim.patterns import PARETO_MEDIAN, Accumulation, OrderSizes

    e = SimCore(seed=5, venues=["hyperliquid"], patterns=False)
    e.advance(1.0)
    vs = e.sim.venues["hyperliquid"]
    nominal = max(1, int(vs.order_lots))
    small = Accumulation("L1", vs, e.t_ns, random.Random(3), BUY, typical_lots=0.0)
    assert small.lot == nominal * small.k and 10 <= small.k <= 16
    sizes = OrderSizes(vs.spec.lot)
    med = 3 * nominal * vs.spec.lot
    sizes.feed([Fill(0, 1, q, BUY, i, 1) for i, q in enumerate([med // 2, med, med, 2 * med, med // 3])])
    assert sizes.typical_lots() == med / vs.spec.lot / PARETO_MEDIAN
    big = Accumulation("L2", vs, e.t_ns, random.Random(3), BUY, typical_lots=sizes.typical_lots())
    assert big.k == small.k and big.lot == int(sizes.typical_lots()) * big.k
    assert big.lot >= 10 * med / vs.spec.lot                    # >= 10x the realised median order


def test_spoof_wall_sized_on_the_venue_typical_order():
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    e = SimCore(seed=5, venues=["hyperliquid"], patterns=False)
    e.advance(1.0)
    vs = e.sim.venues["hyperliquid"]
    nominal = max(1, int(vs.order_lots))
    a = Spoof("L1", vs, e.t_ns, random.Random(4), BID)
    b = Spoof("L2", vs, e.t_ns, random.Random(4), BID, typical_lots=2.5 * nominal)
    k = a.size // (nominal * vs.spec.lot)
    assert 25 <= k <= 40 and a.size == nominal * k * vs.spec.lot
    assert b.size == int(2.5 * nominal) * k * vs.spec.lot


def test_iceberg_takers_lean_at_the_venues_ordinary_pace():
    # An iceberg is a clip refilled at the pace of the takers who happen to hit it: its own
    # leaning takers come no faster than the venue's ordinary taker orders (Tradovate's flow
    # is ~0.8 orders a second; a fixed 5 a second there was a flood, i.e. absorption).
    e = SimCore(seed=31, venues=["tradovate"], record_fills=True)
    icebergs = {}
    for _ in range(120):
        e.advance(1)
        icebergs.update({p.id: p for p in e.scheduler.active if p.kind == "iceberg"})
    assert icebergs
    fills = [f for v, f in e.fill_log if v == "tradovate"]
    background = {f.order for f in fills if f.tag is None}
    rate = len(background) / ((max(f.ts_ns for f in fills) - min(f.ts_ns for f in fills)) / 1e9)
    for p in icebergs.values():
        own = {f.order for f in fills if f.tag == p.id}
        assert p.done and own and len(own) / ((p.t_end - p.t_start) / 1e9) <= 2 * rate, (len(own), rate)
        # labelled only where its hidden size showed again and again; else it is not a label
        assert (p.refills >= 3) == (p.id in {lb["id"] for lb in e.labels(False)})


def test_delta_meter_leaves_the_largest_order_out_of_the_spike():
    """The derived delta spike scores the burst as the detector does: without its largest
    order (one step's prints: one timestamp on the wire), so one block is no spike."""
    from nexus.sim.market import BUY, SELL, Fill
    from nexus.sim.patterns import SPIKE_BUCKET_NS, SPIKE_BUCKETS_MIN, DeltaMeter

    m = DeltaMeter()
    step = SPIKE_BUCKET_NS // 5
    t = 0
    for i in range(SPIKE_BUCKETS_MIN * 5 + 5):      # a calm baseline: +-1 alternating
        t += step
        m.feed(t, [Fill(t, 100, 1, BUY if i % 2 else SELL, i, 1)])
    t += step
    m.feed(t, [Fill(t, 100, 50, BUY, 10_000, 1)])    # one block of 50
    assert m.z() > 6 and m.z_rest(1) < 1
    for k in range(4):                                # then four more orders of 10, one a step
        t += step // 5
        m.feed(t, [Fill(t, 100, 10, BUY, 10_001 + k, 1)])
    assert m.z_rest(1) == m.z(m.sliding - 50) and m.z_rest(1) > 6
    assert m.z_rest(-1) >= m.z()                      # leaving a sell out only adds to a buy delta


def test_tradovate_spoof_walls_stand_away_from_the_touch():
    """On a coarse-tick venue (Tradovate: $5 tick, ~0.8 bp, a 10-level DOM) every labelled
    spoof wall had at least the touch and one more level in front of it in the DOM that
    first showed it (counted here from the published view, step by step) -- a spoof is size
    away from the best quote; before, walls 4 ticks out in a hollow book had 1 level in front
    and the detector's definition (min_front 2) rightly ignored them."""
    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    e = SimCore(seed=202, venues=["tradovate"])
    feed, vs = e.feeds["tradovate"], e.sim.venues["tradovate"]
    front: dict[str, int] = {}
    for _ in range(150 * 100):
        e.step()
        view = feed.view(feed.primary)
        for h in vs.hooks:
            if isinstance(h, Spoof) and h.id not in front:
                book = view.bids if h.side == BID else view.asks
                if book.get(h.price, 0) >= h.size:
                    front[h.id] = sum(1 for p in book if (p > h.price if h.side == BID else p < h.price))
    spoofs = [lb for lb in e.labels(False) if lb["kind"] == "spoof" and "derived_from" not in lb["detail"]]
    assert spoofs
    for lb in spoofs:
        assert front[lb["id"]] >= Spoof.FRONT_MIN, (lb, front)
        assert lb["detail"]["front_levels"] >= Spoof.FRONT_MIN


def test_spoof_wall_without_levels_in_front_is_not_labelled():
    """Where the book behind the touch is empty as far as the wall may go (the drawn distance,
    at most 1.5-3 bp and the channel's shown depth) the wall cannot stand away from the touch:
    it runs, but gets no label (judged on the DOM that first shows it, as a client sees the
    placement); in a book with levels in front it is labelled."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Spoof

    def wall(hollow):
        e = SimCore(seed=5, venues=["tradovate"], patterns=False)
        e.advance(2.0)
        vs = e.sim.venues["tradovate"]
        touch = vs.best_bid()
        if hollow:          # nothing within 30 ticks behind the touch, and no ladder refilling it
            vs.ladder_ticks = 0
            for p in [p for p in vs.bids if touch - 30 * vs.tick <= p < touch]:
                vs.set_level(BID, p, 0)
        sp = Spoof("L1", vs, e.t_ns, random.Random(1), BID)
        vs.hooks.append(sp)
        for _ in range(30):
            e.step()
            if sp.shown or sp.done:
                break
        stand(e, sp)
        if not sp.done:
            sp._pull("timeout")
        return sp

    sp = wall(True)
    assert sp.shown and sp.front < Spoof.FRONT_MIN and not sp.observable()
    sp = wall(False)
    assert sp.shown and sp.front >= Spoof.FRONT_MIN and sp.detail["front_shown"] >= Spoof.FRONT_MIN
    assert sp.observable() or sp.run_over


def test_first_pattern_starts_after_the_detectors_warm_up():
    # Relative thresholds are unknown before the warm-up: a pattern there cannot be read.
    from nexus.flow.params import FlowParams
    from nexus.sim.patterns import FIRST_PATTERN_S
    assert FIRST_PATTERN_S > FlowParams().warmup_s
    e = SimCore(seed=31, venues=VENUES)
    assert e.scheduler.next_ns - e.epoch_ns >= FlowParams().warmup_s * 1_000_000_000


def test_iceberg_flood_threshold_is_the_absorption_detectors():
    from nexus.flow.params import FlowParams
    from nexus.sim.patterns import ABSORPTION_TURNOVER_PCT
    assert ABSORPTION_TURNOVER_PCT == FlowParams().absorption_turnover_pct


def _iceberg_at_touch(venue: str):
    """A running SimCore without patterns and an iceberg at its best bid whose slice the venue
    has published; its own takers off (the test takes the level)."""
    import random

    from nexus.sim.market import BID
    from nexus.sim.patterns import Iceberg
    e = SimCore(seed=5, venues=[venue], patterns=False)
    e.advance(2)
    vs = e.sim.venues[venue]
    p = Iceberg("T1", vs, e.t_ns, random.Random(1), BID)
    p.lean = 0
    vs.hooks.append(p)
    _until_published(e, vs, p)
    return e, vs, p


def _until_published(e, vs, p) -> None:
    """Step until the venue has published the level since the iceberg's last refill."""
    while (vs.published_ts() or 0) < p.refill_ns:
        e.step()


def _take_in_one_step(e, vs, p, qty: int) -> None:
    """One sell order of qty (venue units, rounded up to lots) into the iceberg's level during
    the next step, as the pattern's own takers do."""
    from nexus.sim.market import SELL
    lots = -(-qty // vs.spec.lot)
    p.before_flow = lambda vs_, t_ns: vs_.market(SELL, lots, limit=p.price, tag=p.id)
    e.step()
    del p.before_flow


def test_iceberg_refills_inside_one_order_are_not_seen():
    from nexus.sim.patterns import Iceberg
    # One order eating the level and three clips refills it three times inside one step: no
    # book message ever shows those clips, so they are not refills on the wire.
    # (The venue's background sellers hit the level too: counts are taken around the order.)
    e, vs, p = _iceberg_at_touch("binance-perp")
    refills, seen = p.refills, p.refills_seen
    _take_in_one_step(e, vs, p, vs.book_side(p.side)[p.price] + 2 * p.visible)
    assert p.refills - refills >= 3 and p.refills_seen - seen == 1
    assert p.refills_seen < Iceberg.MIN_REFILLS <= p.refills and not p.observable()


def test_iceberg_refills_with_a_publication_between_are_seen():
    e, vs, p = _iceberg_at_touch("binance-perp")
    for _ in range(3):
        refills, seen = p.refills, p.refills_seen
        _take_in_one_step(e, vs, p, vs.book_side(p.side)[p.price])      # the queue and the slice
        assert p.refills > refills and p.refills_seen == seen + 1
        _until_published(e, vs, p)                                      # the venue shows the clip
    assert p.refills_seen >= 3
    turnover = 100 * p.level_traded / p.level_max / ((p.last_fill_ns - p.first_fill_ns) / 1e9)
    assert p.turnover_pct() == pytest.approx(turnover)
    from nexus.sim.patterns import ABSORPTION_TURNOVER_PCT
    assert p.observable() == (turnover < ABSORPTION_TURNOVER_PCT)


def test_iceberg_inside_a_level_that_showed_more_than_traded_is_not_labelled():
    """Three published refills are labelled while more traded at the level than it ever
    showed; once makers join it beyond everything that traded there (seen at the next fill),
    the wire shows ordinary depth being taken, no hidden size: no label
    (Iceberg.observable: level_traded > level_max)."""
    from nexus.sim.market import SELL
    e, vs, p = _iceberg_at_touch("binance-perp")
    for _ in range(3):
        _take_in_one_step(e, vs, p, vs.book_side(p.side)[p.price])      # the queue and the slice
        _until_published(e, vs, p)
    assert p.refills_seen >= 3 and p.level_traded > p.level_max and p.turnover_pct() < 1000
    assert p.observable()
    book = vs.book_side(p.side)
    vs.set_level(p.side, p.price, book[p.price] + 2 * p.level_traded)   # makers join behind the clip
    p.before_flow = lambda vs_, t_ns: vs_.market(SELL, 1, limit=p.price, tag=p.id)
    e.step()                                                            # one lot: the fill sees the level
    del p.before_flow
    assert p.level_traded <= p.level_max and not p.observable()
    p._update_detail()
    assert p.detail["level_traded"] == vs.spec.qty(p.level_traded)


def test_iceberg_labels_are_not_floods(engine):
    # The level of every iceberg label was taken less than the absorption detector's flood
    # turnover (its largest size ten times a second): measured on the fill log.
    from nexus.sim.patterns import ABSORPTION_TURNOVER_PCT
    for lb in [x for x in engine.labels(False) if x["kind"] == "iceberg" and "derived_from" not in x["detail"]]:
        side = 1 if lb["side"] == "sell" else -1        # a hidden bid is hit by sellers
        fills = [f for v, f in engine.fill_log if v == lb["venue"] and _px(engine, lb, f.price) == lb["price"]
                 and f.side == side and lb["t_start_ns"] <= f.ts_ns < lb["t_end_ns"]]
        span_s = max(1_000_000, fills[-1].ts_ns - fills[0].ts_ns) / 1e9
        level_max = Decimal(lb["detail"]["level_max"]) * 10 ** engine.feeds[lb["venue"]].spec.qty_dec
        assert 100 * sum(f.qty for f in fills) / float(level_max) / span_s < ABSORPTION_TURNOVER_PCT, lb
