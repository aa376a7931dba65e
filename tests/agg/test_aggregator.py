"""Aggregator: normalisation, consensus depth, staleness, divergence, dedup, AGG refuses orders."""
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus._native import TradeDedup
from nexus.agg.aggregator import AggConfig, Aggregator, AggOrderRefused, refuse_order_in_agg
from nexus.agg.scales import common_grid, scale_for, to_common_qty
from nexus.exceptions import ConfigError
from nexus.instruments import Instrument

BID, ASK = int(record.Side.BID), int(record.Side.ASK)
S = 1_000_000_000

INSTS = {
    "binance-perp": Instrument("binance-perp", "BTCUSDT", "0.10", "0.001", contract_kind="linear"),
    "binance-spot": Instrument("binance-spot", "BTCUSDT", "0.01", "0.00001"),
    "okx-swap": Instrument("okx-swap", "BTC-USDT-SWAP", "0.1", "0.01", contract_value="0.01", contract_kind="linear"),
    "hyperliquid": Instrument("hyperliquid", "BTC", "1", "0.00001", contract_kind="linear"),
}


def levels(updates):
    b = record.empty(len(updates))
    b["kind"] = record.Kind.BOOK_LEVEL
    for i, (side, price, qty) in enumerate(updates):
        b[i]["side"], b[i]["price"], b[i]["qty"] = side, price, qty
    return b


def base_units(inst, qty_str):
    return Decimal(qty_str) * Decimal(inst.contract_value)


def test_scales_are_exact_for_linear_contracts():
    grid = common_grid(list(INSTS.values()))
    assert grid.price_exponent == 2  # binance-spot's 0.01 is the finest tick
    okx = INSTS["okx-swap"]
    sc = scale_for(okx, grid)
    # 3 contracts of 0.01 BTC = 0.03 BTC = 3,000,000 at 1e-8
    assert to_common_qty(okx.qty_to_int("3"), sc, 0) == 3_000_000
    assert okx.price_to_int("65000.1") * sc.price_mul == 6_500_010


def test_inverse_contracts_convert_by_notional_over_price():
    inv = Instrument("deribit", "BTC-PERPETUAL", "0.5", "10", contract_value="10", contract_kind="inverse")
    grid = common_grid([inv, INSTS["binance-spot"]])
    sc = scale_for(inv, grid)
    price_c = inv.price_to_int("50000") * sc.price_mul
    # 100 contracts x 10 USD / 50,000 = 0.02 BTC
    assert to_common_qty(inv.qty_to_int("100"), sc, price_c) == 2_000_000


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(INSTS)), st.sampled_from([BID, ASK]),
                          st.integers(0, 30), st.integers(0, 50)), max_size=300))
def test_consensus_depth_equals_sum_of_normalised_venue_depths(updates):
    agg = Aggregator(INSTS)
    model: dict[tuple[str, int, Decimal], Decimal] = {}
    for venue, side, k, q in updates:
        inst = INSTS[venue]
        # prices on a shared 1-dollar lattice so venues meet at the same levels
        price_s = str(60000 + (k if side == ASK else -k))
        qty_s = str(Decimal(q) * Decimal(inst.lot_size))
        agg.on_book(venue, levels([(side, inst.price_to_int(price_s), inst.qty_to_int(qty_s))]), 1)
        model[(venue, side, Decimal(price_s))] = base_units(inst, qty_s)
    for side in (BID, ASK):
        for lvl in agg.consensus.top(side, 10_000):
            price = Decimal(lvl[0]).scaleb(-2)
            want = sum((q for (v, s, p), q in model.items() if s == side and p == price), Decimal(0))
            assert Decimal(lvl[1]).scaleb(-8) == want
        prices_model = {p for (v, s, p), q in model.items() if s == side and q > 0}
        assert {Decimal(l[0]).scaleb(-2) for l in agg.consensus.top(side, 10_000)} == prices_model


def test_stale_venue_is_excluded_then_recovers():
    agg = Aggregator({k: INSTS[k] for k in ("binance-perp", "okx-swap")}, AggConfig(stale_after_s=5))
    bp, okx = INSTS["binance-perp"], INSTS["okx-swap"]
    agg.on_book("binance-perp", levels([(BID, bp.price_to_int("100"), bp.qty_to_int("1"))]), 0)
    agg.on_book("okx-swap", levels([(BID, okx.price_to_int("101"), okx.qty_to_int("100"))]), 0)
    assert agg.summary()["best_bid"] == "101"
    agg.on_message("binance-perp", 6 * S)
    alerts = agg.tick(6 * S)
    assert alerts == [{"type": "stale", "venue": "okx-swap", "state": "stale", "silent_s": 6.0}]
    assert agg.summary()["best_bid"] == "100" and agg.summary()["venues_live"] == 1
    agg.on_message("okx-swap", 7 * S)
    alerts = agg.tick(7 * S)
    assert [a["state"] for a in alerts] == ["recovered"] and alerts[0]["venue"] == "okx-swap"
    assert agg.summary()["best_bid"] == "101"
    assert agg.venue_metrics(8 * S)["okx-swap"]["stale_s"] == 1.0


def test_flag_mode_keeps_stale_levels():
    agg = Aggregator({k: INSTS[k] for k in ("binance-perp", "okx-swap")}, AggConfig(stale_mode="flag"))
    okx = INSTS["okx-swap"]
    agg.on_book("okx-swap", levels([(BID, okx.price_to_int("101"), okx.qty_to_int("1"))]), 0)
    agg.on_message("binance-perp", 10 * S)
    agg.tick(10 * S)
    assert agg.venues["okx-swap"].stale and agg.summary()["best_bid"] == "101"


def _two_sided(agg, venue, bid, ask, t):
    inst = INSTS[venue]
    agg.on_book(venue, levels([(BID, inst.price_to_int(bid), inst.qty_to_int("1")), (ASK, inst.price_to_int(ask), inst.qty_to_int("1"))]), t)


def test_divergence_fires_once_per_episode_naming_the_venue():
    agg = Aggregator(INSTS)
    for v in INSTS:
        _two_sided(agg, v, "99", "101", 0)
    assert agg.tick(S) == []
    # okx moves 1 % away: remove its old levels, set new ones
    agg.on_venue_reset("okx-swap")
    _two_sided(agg, "okx-swap", "101", "101.2", S)
    a1 = agg.tick(2 * S)
    assert [(a["type"], a["venue"], a["state"]) for a in a1] == [("divergence", "okx-swap", "diverged")]
    assert Decimal(a1[0]["gap_pct"]) == Decimal("1.1000")  # 101.1 vs 100
    assert agg.tick(3 * S) == []  # same episode: no second alert
    agg.on_venue_reset("okx-swap")
    _two_sided(agg, "okx-swap", "99", "101", 3 * S)
    a2 = agg.tick(4 * S)
    assert [(a["venue"], a["state"]) for a in a2] == [("okx-swap", "cleared")]


def test_dedup_never_merges_trades_of_one_venue_and_merges_cross_feed_copies():
    agg = Aggregator({k: INSTS[k] for k in ("binance-perp", "binance-spot")}, AggConfig(dedup_window_ms=1))
    bp, bs = INSTS["binance-perp"], INSTS["binance-spot"]
    t0 = 1_700_000_000 * S
    assert agg.on_trade("binance-perp", t0, bp.price_to_int("100.1"), bp.qty_to_int("0.5"), BID, 1, 0)
    assert agg.on_trade("binance-perp", t0, bp.price_to_int("100.1"), bp.qty_to_int("0.5"), BID, 2, 0)  # other id
    assert not agg.on_trade("binance-spot", t0 + 500_000, bs.price_to_int("100.10"), bs.qty_to_int("0.50000"), BID, 9, 0)
    assert agg.on_trade("binance-spot", t0 + 500_000, bs.price_to_int("100.11"), bs.qty_to_int("0.5"), BID, 10, 0)
    assert agg.summary()["trades"] == 4 and agg.summary()["trades_deduped"] == 1


trade_content = st.tuples(st.integers(0, 10**6), st.integers(1, 5), st.integers(1, 3), st.sampled_from([BID, ASK]))


@settings(max_examples=80, deadline=None)
@given(
    originals=st.lists(st.tuples(st.integers(0, 4), trade_content), max_size=150, unique_by=lambda t: t[1]),
    copies=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 4)), max_size=100, unique_by=lambda c: c),
)
def test_dedup_never_merges_two_different_trades(originals, copies):
    """Corpus: genuinely different trades (distinct content, each with its venue's own id),
    then copies: a re-delivery of the same venue and id (offset 0), or the same trade seen
    through another venue's feed (offset 1-4, at most one copy per other venue). Exactly the
    originals are counted; every copy is dropped."""
    stream = [(v, c, 1000 + i) for i, (v, c) in enumerate(originals)]
    for n, (which, offset) in enumerate(copies):
        if not originals:
            break
        i = which % len(originals)
        v, c = originals[i]
        stream.append((v, c, 1000 + i) if offset == 0 else ((v + offset) % 5, c, 5000 + n))
    stream_copies = stream[len(originals):]
    # one copy per (original, other venue): drop later duplicates of that pair from the corpus
    seen_pairs, corpus = set(), stream[: len(originals)]
    for v, c, tid in stream_copies:
        if (v, c) not in seen_pairs:
            seen_pairs.add((v, c))
            corpus.append((v, c, tid))
    d = TradeDedup(window_ns=0, retention_ns=10**16)  # the corpus spans 10^6 s
    kept = [(v, c) for v, c, tid in corpus if d.check(v, c[0] * 10**9, c[1], c[2], c[3], tid)]
    assert kept == [(v, c) for v, c in originals]
    assert d.duplicates_same_venue + d.duplicates_cross_venue == len(corpus) - len(originals)


def test_identical_trades_of_one_venue_are_all_kept():
    d = TradeDedup(window_ns=10**9)
    assert all(d.check(0, 5, 100, 1, BID, tid) for tid in range(1, 50))
    assert d.unique == 49


def test_agg_mode_refuses_orders():
    with pytest.raises(AggOrderRefused, match="pick one venue"):
        refuse_order_in_agg()


def test_touch_is_the_best_levels_and_reuses_its_tuple_while_unchanged():
    agg = Aggregator(INSTS)
    c = agg.consensus
    assert c.touch() is None
    bp = INSTS["binance-perp"]
    agg.on_book("binance-perp", levels([(BID, bp.price_to_int("100"), bp.qty_to_int("1")),
                                        (ASK, bp.price_to_int("101"), bp.qty_to_int("2"))]), 0)
    t = c.touch()
    b, a = c.best_bid(), c.best_ask()
    assert t == (b[0], b[1], a[0], a[1])
    agg.on_book("binance-perp", levels([(BID, bp.price_to_int("90"), bp.qty_to_int("1"))]), 0)  # not the touch
    assert c.touch() is t
    agg.on_book("binance-perp", levels([(BID, bp.price_to_int("100"), bp.qty_to_int("3"))]), 0)
    assert c.touch() == (b[0], 300_000_000, a[0], a[1])


def test_summary_says_when_venues_cross_the_consensus():
    agg = Aggregator({k: INSTS[k] for k in ("binance-perp", "okx-swap")})
    bp, okx = INSTS["binance-perp"], INSTS["okx-swap"]
    assert agg.on_book("binance-perp", levels([(BID, bp.price_to_int("100"), bp.qty_to_int("1")),
                                               (ASK, bp.price_to_int("100.5"), bp.qty_to_int("1"))]), 0)
    assert agg.summary()["crossed"] is False
    # okx bids above binance's ask: the touch changes and the consensus is crossed
    assert agg.on_book("okx-swap", levels([(BID, okx.price_to_int("101"), okx.qty_to_int("100"))]), 0)
    assert agg.summary()["crossed"] is True and agg.summary()["best_bid"] == "101"
    # a level far from the touch leaves it alone
    assert not agg.on_book("okx-swap", levels([(BID, okx.price_to_int("90"), okx.qty_to_int("100"))]), 0)


def test_auto_scope_merges_the_perpetuals_only_when_kinds_are_mixed():
    """run --agg's "auto" scope (nexus.feeds.run.aggregation): perpetuals when spot and
    perpetual instruments are mixed, every venue otherwise; explicit scopes are kept."""
    from nexus.feeds.run.aggregation import resolve_scope, scope_members

    mixed = {v: INSTS[v] for v in ("binance-perp", "binance-spot", "okx-swap")}
    assert resolve_scope(mixed, "auto") == "perps"
    assert set(scope_members(mixed, "auto")) == {"binance-perp", "okx-swap"}
    assert set(scope_members(mixed, "all")) == set(mixed)
    perps = {v: INSTS[v] for v in ("binance-perp", "okx-swap", "hyperliquid")}
    assert resolve_scope(perps, "auto") == "all" and set(scope_members(perps, "auto")) == set(perps)
    spot = {"binance-spot": INSTS["binance-spot"]}
    assert resolve_scope(spot, "auto") == "all" and set(scope_members(spot, "auto")) == {"binance-spot"}
    with pytest.raises(ConfigError, match="none of binance-spot is a perpetual"):
        scope_members(spot, "perps")
    with pytest.raises(ConfigError, match="must be one of auto, all, perps"):
        resolve_scope(mixed, "spot")


def test_coherent_instants_judge_books_published_at_one_exchange_time():
    """CrossedSeconds' coherent sample: the consensus is judged only when every merged venue's
    last book update carries the same exchange time, once per instant, after the instant's
    last venue; a cross between a fresh book and one published earlier is not sampled there."""
    from nexus.feeds.run.aggregation import CrossedSeconds

    insts = {v: INSTS[v] for v in ("binance-perp", "okx-swap")}
    agg, cs = Aggregator(insts, AggConfig()), CrossedSeconds()

    shown: dict = {}

    def book(venue, ts_ns, bid, ask):  # the venue's one bid and one ask move to (bid, ask)
        new = [(BID, insts[venue].price_to_int(bid), 1), (ASK, insts[venue].price_to_int(ask), 1)]
        b = levels([(side, px, 0) for side, px, _ in shown.get(venue, ())] + new)
        shown[venue] = new
        b["ts_exchange_ns"] = ts_ns
        agg.on_book(venue, b, ts_ns)
        cs.note_book(venue, b, agg)

    book("binance-perp", 1 * S, "100.0", "100.2")
    assert cs.summary()["coherent"]["instants"] == 0           # one venue has published: no instant yet
    book("okx-swap", 1 * S, "100.1", "100.3")                    # instant 1 s: uncrossed
    book("binance-perp", 2 * S, "101.0", "101.1")              # fresh touch over okx's 1 s ask: not an instant
    assert cs.summary()["coherent"] == {"instants": 1, "uncrossed": 1, "uncrossed_share": 1.0}
    book("okx-swap", 2 * S, "101.0", "101.2")                    # instant 2 s: uncrossed again ...
    book("okx-swap", 2 * S, "101.1", "101.3")                    # ... until okx's second update of it locks
    book("binance-perp", 3 * S, "101.1", "101.2")
    book("okx-swap", 3 * S + 500_000, "101.1", "101.3")          # within COHERENT_NS: instant 3 s, uncrossed
    assert cs.summary()["coherent"] == {"instants": 3, "uncrossed": 2, "uncrossed_share": 0.667}


class _Books:
    """Each venue's one bid and one ask, moved with an exchange time (the previous pair
    removed in the same batch), through Aggregator.on_book."""

    def __init__(self, agg):
        self.agg, self.shown = agg, {}

    def __call__(self, venue, ts_ns, bid, ask, qty="1"):
        inst = self.agg.venues[venue].inst
        new = [(BID, inst.price_to_int(bid), inst.qty_to_int(qty)), (ASK, inst.price_to_int(ask), inst.qty_to_int(qty))]
        b = levels([(side, px, 0) for side, px, _ in self.shown.get(venue, ()) if (side, px) not in
                    {(s, p) for s, p, _ in new}] + new)
        self.shown[venue] = new
        b["ts_exchange_ns"] = ts_ns
        return self.agg.on_book(venue, b, ts_ns)


def _px(agg, price):
    """A price on the consensus grid."""
    v = agg.venues["okx-swap"]
    return v.inst.price_to_int(price) * v.scale.price_mul


def _pair(agg):
    s = agg.summary()
    return s["best_bid"], s["best_ask"], s["crossed"], s.get("crossed_raw")


def test_a_quote_crossing_a_newer_touch_leaves_the_consensus_until_its_venue_publishes():
    """Uncrossing by freshness (nexus.agg.aggregator): OKX publishes 50 ms after Binance and
    its bid is over Binance's ask; Binance's ask is the older quote, so it is hidden (the
    consensus shows OKX's ask, the venue books keep everything, `crossed_raw` says the raw
    merge is crossed); when Binance publishes again, the hidden range follows the newest
    touches, and it is lifted once nothing crosses."""
    insts = {v: INSTS[v] for v in ("binance-perp", "okx-swap")}
    agg = Aggregator(insts)
    book = _Books(agg)
    book("binance-perp", 1 * S, "65000.0", "65000.2")
    book("okx-swap", 1 * S + 50_000_000, "65000.3", "65000.5")
    assert _pair(agg) == ("65000.3", "65000.5", False, True)
    assert agg.consensus.hidden_from(0, ASK) == _px(agg, "65000.3") and agg.consensus.hidden_from(0, BID) is None
    assert agg.venues["binance-perp"].book.best_ask()[0] == INSTS["binance-perp"].price_to_int("65000.2")  # kept
    # depth reads leave the hidden ask out as the touch does
    per, total = agg.consensus.depth_between(ASK, _px(agg, "65000.0"), _px(agg, "65000.4"))
    assert per[0] == 0 and total == 0
    # Binance publishes: now OKX is the older one, and its bid 100.3 locks Binance's ask 100.3
    book("binance-perp", 1 * S + 100_000_000, "65000.1", "65000.3")
    assert _pair(agg) == ("65000.1", "65000.3", False, True)
    assert agg.consensus.hidden_from(0, ASK) is None and agg.consensus.hidden_from(1, BID) == _px(agg, "65000.3")
    # OKX publishes an uncrossed pair: nothing is hidden any more
    book("okx-swap", 1 * S + 150_000_000, "65000.2", "65000.4")
    assert _pair(agg) == ("65000.2", "65000.3", False, False)
    assert all(agg.consensus.hidden_from(i, s) is None for i in (0, 1) for s in (BID, ASK))
    assert agg._hiding == 0 and agg.uncross_updates == 4


def test_crosses_at_one_instant_or_deeper_than_the_band_stay_shown():
    """Not hidden: a cross between books published at one instant (within SAME_INSTANT_NS:
    the market's own), and one deeper than uncross_max_bps (a dislocation); with
    uncross="off" nothing is hidden at all."""
    insts = {v: INSTS[v] for v in ("binance-perp", "okx-swap")}
    agg = Aggregator(insts)
    book = _Books(agg)
    book("binance-perp", 1 * S, "100.0", "100.2")
    book("okx-swap", 1 * S + 900_000, "100.3", "100.5")          # 0.9 ms later: one instant
    assert _pair(agg) == ("100.3", "100.2", True, True)
    agg = Aggregator(insts, AggConfig(uncross_max_bps=2.0))
    book = _Books(agg)
    book("binance-perp", 1 * S, "100.0", "100.2")
    book("okx-swap", 2 * S, "100.3", "100.5")                     # 100.3 over 100.2: 10 bp > 2 bp
    assert _pair(agg) == ("100.3", "100.2", True, True)
    agg = Aggregator(insts, AggConfig(uncross_max_bps=20.0))
    book = _Books(agg)
    book("binance-perp", 1 * S, "100.0", "100.2")
    book("okx-swap", 2 * S, "100.3", "100.5")                     # within 20 bp: hidden
    assert _pair(agg) == ("100.3", "100.5", False, True)
    agg = Aggregator(insts, AggConfig(uncross="off"))
    book = _Books(agg)
    book("binance-perp", 1 * S, "100.0", "100.2")
    book("okx-swap", 2 * S, "100.3", "100.5")
    assert _pair(agg) == ("100.3", "100.2", True, None)
    with pytest.raises(ConfigError, match="uncross mode must be one of fresh, off"):
        AggConfig(uncross="newest")


def test_a_reset_or_stale_venue_takes_its_hidden_range_with_it():
    insts = {v: INSTS[v] for v in ("binance-perp", "okx-swap")}
    agg = Aggregator(insts, AggConfig(uncross_max_bps=20.0))
    book = _Books(agg)
    book("binance-perp", 1 * S, "100.0", "100.2")
    book("okx-swap", 2 * S, "100.3", "100.5")
    assert agg.consensus.hidden_from(0, ASK) is not None and agg._hiding == 1
    agg.on_venue_reset("binance-perp")
    assert agg.consensus.hidden_from(0, ASK) is None and agg._hiding == 0
    book.shown.pop("binance-perp")
    book("binance-perp", 3 * S, "100.4", "100.6")                # newer: okx's bid 100.3 < 100.6, no cross
    book("okx-swap", 4 * S, "100.7", "100.9")                     # okx newer, over binance's ask
    assert agg.consensus.hidden_from(0, ASK) == _px(agg, "100.7") and agg._hiding == 1
    agg.on_message("okx-swap", 10 * S)
    agg.tick(10 * S)                                              # binance silent 7 s: stale, excluded
    assert agg.venues["binance-perp"].stale and agg.consensus.hidden_from(0, ASK) is None and agg._hiding == 0
    assert _pair(agg) == ("100.7", "100.9", False, False)


def test_a_book_without_exchange_times_counts_as_published_at_the_latest_one_seen():
    """Bitfinex and dYdX book records carry no exchange time: such a venue's update counts as
    published at the latest exchange time the other venues have shown, so it is not taken
    for the oldest quote forever (its crossing levels hidden) nor judged on another clock."""
    insts = {v: INSTS[v] for v in ("binance-perp", "okx-swap")}
    agg = Aggregator(insts)
    book = _Books(agg)
    book("binance-perp", 5 * S, "65000.0", "65000.2")
    book("okx-swap", 0, "65000.3", "65000.5")          # no exchange time: as of 5 s
    assert agg.venues["okx-swap"].book_ts_ns == 5 * S
    assert _pair(agg) == ("65000.3", "65000.2", True, True)   # one instant: the cross stays shown
    book("binance-perp", 6 * S, "65000.1", "65000.2")
    book("okx-swap", 0, "65000.3", "65000.6")          # as of 6 s again: still one instant
    assert _pair(agg) == ("65000.3", "65000.2", True, True)
    book("binance-perp", 7 * S, "65000.1", "65000.3")  # binance newer: okx's locking bid hides
    assert _pair(agg) == ("65000.1", "65000.3", False, True)
