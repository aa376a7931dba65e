"""Signal types, their record encoding and the meaning of each facts column.

A signal is a record of kind SIGNAL (5): `aux` = signal type (SignalType), `side` = 1 buy /
2 sell (the direction it points to), `price` = the level or trade price it is about, `qty` =
confidence 0..100, `seq` = message ordinal, `trade_id` = record ordinal, timestamps, venue and
instrument of the triggering record. Facts travel beside it in a FACTS_DTYPE row (six int64);
FACT_NAMES says what each column means per type, and which columns are quantities or prices
(formatted as decimal strings in the venue's units at the edge)."""

from __future__ import annotations

from enum import IntEnum


class SignalType(IntEnum):
    ABSORPTION = 1
    ICEBERG = 2
    EXHAUSTION = 3
    DELTA_SPIKE = 4
    SPOOF = 5
    SMART_MONEY = 6
    ORACLE = 7


SIGNAL_NAMES: dict[int, str] = {t.value: t.name.lower() for t in SignalType}
SIGNAL_IDS: dict[str, int] = {v: k for k, v in SIGNAL_NAMES.items()}

# The signal types the auto-trader may act on unless the user opts in to more. The oracle is
# off by default for trading (seed: "Oracle prediction -- AI agent consensus (off by default)").
TRADE_DEFAULT: frozenset[str] = frozenset(n for n in SIGNAL_NAMES.values() if n != "oracle")

# Unit of a fact column: "qty" (quantity units), "price" (price units), "ns", "count", "x100"
# (a ratio times 100), "side" (1 buy / 2 sell), "mask" (bit set), "raw" (plain integer).
FACT_NAMES: dict[int, tuple[tuple[str, str], ...]] = {
    SignalType.ABSORPTION: (("volume", "qty"), ("prints", "count"), ("displayed", "qty"),
                            ("duration_ns", "ns"), ("threshold", "qty")),
    SignalType.ICEBERG: (("volume", "qty"), ("refills", "count"), ("max_displayed", "qty"),
                         ("duration_ns", "ns"), ("displayed", "qty"), ("beyond_display", "qty")),
    SignalType.EXHAUSTION: (("burst_volume", "qty"), ("move", "price"), ("retrace", "price"),
                            ("since_extreme_ns", "ns"), ("burst_side", "side"), ("threshold", "qty")),
    SignalType.DELTA_SPIKE: (("delta", "qty"), ("z_x100", "x100"), ("window_delta_sum", "qty"),
                             ("window_buckets", "count"), ("bucket_ns", "ns")),
    SignalType.SPOOF: (("wall_qty", "qty"), ("life_ns", "ns"), ("levels_in_front", "count"),
                       ("traded", "qty"), ("distance", "price"), ("distance_at_placement", "price")),
    SignalType.SMART_MONEY: (("net_large_qty", "qty"), ("large_lots", "count"), ("other_side_lots", "count"),
                             ("background_lots_x1000", "raw"), ("threshold", "qty"), ("net_large_lots", "count")),
    # score: the rule oracle's weighted score // window_ns; the learned oracle's round(1000 z),
    # z its logit. model: 0 the rule-based consensus, 1 the learned model (nexus/flow/oracle_model.py)
    SignalType.ORACLE: (("types", "count"), ("agreeing", "count"), ("type_mask", "mask"),
                        ("score", "raw"), ("model", "raw")),
}
