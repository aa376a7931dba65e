"""Every parameter of the flow engine, its unit, default and meaning, validated in one place.

Units: quantities and prices are the instrument's integer units (see nexus.instruments);
times are exchange-time nanoseconds; `*_pct` are integer percentages; `*_x100` a ratio times
100. A `*_min_qty` of 0 means "no absolute floor" (the relative threshold alone applies).
The definitions the parameters belong to are in the headers of engine/*.pxd.

How the detector defaults were chosen: each definition comes from what the pattern means to
a trader (engine/det_*.pxd); the thresholds were then swept on the simulator's labelled
scenarios for seeds 2, 3 and 4 (`nexus signals eval --seed N --details`, 300 simulated
seconds each) and the values kept here are the ones those sweeps favoured. Seed 1 (the
simulator's and `signals eval`'s default) and seeds 5-7 were not used for choosing values;
they are the figures to quote. (Seed 1 was looked at once, against an earlier version of
the simulator, while the first definitions were drafted.)

Delta spike (issue 6): min_levels replaced a 2 bp move and calm_z_x100 was turned off, on dev
seeds 2,3,4,10-16 only, against the simulator's labels including the derived ones (an
exhaustion burst whose delta reached |z| >= 6 is a delta spike; nexus/sim/patterns.py). On
seeds 2,3 (a replica of the rule over the decoded trades): z+orders+2 bp+calm 0.94/0.60,
no calm 0.96/0.76, no move check 0.64/0.84, >= K distinct prices with K = 2,3,4,6,8:
0.79,0.79,0.81,0.86,0.86 precision at 0.84 recall; 6 kept. On all ten dev seeds through
the engine: 0.90/0.83 (was 0.57/0.65 against the older labels). The aggression the
simulator's absorption sends trades at ONE price; every spike label walks >= 8.
Exhaustion (issue 6), on dev seeds 2,3,4,10-16 only: the burst was "one-sided volume over
2 s >= 150 % of the market's TOTAL normal flow, >= 20 orders, 10 % in the older half"; on
binance-perp (~73 orders/s of background) the injected bursts never reached that (16 of 17
missed) and 0.6 s spikes that faded could not be 2 s long. Now: the sliding 0.5 s one-sided
volume scored as a z against the venue's own 0.5 s one-sided volumes (both sides pooled). A
replica over the decoded trades: z >= 5, dominance >= 60 %, >= 3 bp over a 1 s lookback armed
86 of 88 labelled bursts against 41 background episodes (z >= 6: 84 and 25; z >= 4: 86 and 58;
lookback 0.5/1/2 s: 84/86/86 with the same background). Through the engine (orders z off):
burst_z 500/600/700 -> recall 0.94/0.91/0.78, precision 0.49/0.54/0.57. The background arms
were a few large lots (their aggressive-order count's z had median 0.4, accumulation 0.8)
while the labelled bursts' order z was >= 3.1 in 90 %: orders_z 150/200/300 -> precision
0.61/0.66/0.69 at recall 0.94; 300 kept. The move is measured from the oldest print on the
burst's own side (a print of the other side added the spread). What was left (0.69/0.94)
were injected delta spikes (prints walking >= 3 bp) with no derived exhaustion label: the
simulator measured that label on its INTERNAL book, which the makers refill within the 10 ms
step, not on what the venue publishes. Measured on the spike's prints and the published mid
(nexus/sim/patterns.py SpikeFade), 50 of the 77 dev spikes are failed bursts (was 12); no
detector value changed: 0.97/0.93.
Smart money (issue 6, session 3), dev seeds 2,3,4,10-16 for the choices, seeds 17-30 (never
looked at before) as a check, 1 and 5-7 held out. The previous rule (a lot >= 5x the mean
order AND in the top 1 % of the last 2000 orders; a sign test n_d - n_o >= 3 sqrt(n_d + n_o))
missed 10 of 73 dev accumulations for two reasons seen in the traces: (a) an earlier
accumulation's 15-20 lots of one larger size stayed in the size window and filled its top
per cent, so the next accumulator's lots never ranked (6 misses: coinbase, hyperliquid,
binance-spot), and on quiet venues its own lots inflated the mean until they were no longer
5x it; (b) on binance-perp ~11 random large lots per side per 30 s hid ~17 lots from the sign
test (4 misses). Now: large = 12x the MEDIAN order (the venues' background: p99 7.5-10.5x,
p99.5 10-14x the median; the accumulations' lots 11-25x), the background is the median
per-side count of the last 10 windows and the test is a Poisson excess over it. A replica over
the decoded orders (exact median): 0.95/0.96 dev, 0.94/0.89 on 17-30; with the mean of the
last 5 minutes as background 0.97/0.93 and 0.98/0.81 (earlier patterns inflated it); 10x the
median 0.94/0.90. Through the engine (all 24 seeds pooled): min_count 8: 0.90/0.92; 10:
0.94/0.91; mult 1300/1400: 0.93/0.90, 0.91/0.91; z 4.5: 0.95/0.90. Kept 1200, z 4, 10:
dev 0.91/0.86 -> 0.93/0.95, seeds 17-30 0.92/0.64 -> 0.95/0.88.
Iceberg flood_pct (issue 6), dev seeds only: all 13 iceberg false positives fell on the
simulator's absorptions (same level, same side), ~0.5 s in, before the absorption detector had
armed (its guard came too late). The volume at the level over its first 0.5 s, in units of
the whole market's normal flow over the same time: absorptions min 0.81, p10 1.11, median 4.2;
icebergs median 0.18, p90 0.61, max 1.08 (1 s: the same picture). 70 % sits in the gap;
through the engine 100/80/70 % gave 0.90/0.90, 0.97/0.88, 1.00/0.87 (was 0.84/0.90).
Iceberg flood_orders_per_s (issue 6, session 3), dev seeds 2,3,4,10-16 and 17-30 (1 and 5-7
held out): of the 10 iceberg false positives left, 6 were the simulator's absorptions on
binance-perp, firing at the 0.5 s settle before the absorption detector armed; there a burst
is only 48-80 % of the market's (very busy) normal flow, under the 70 % share above. Their
pace at the level, in the venue's mean order sizes per second since the first print: 34-56;
every one of the 162 true iceberg signals: median 3.7, p95 7.8, max 11.0. 20 sits in the gap
(geometric middle of 11 and 34). Through the engine (all 24 seeds, absorption on):
0.94/0.87 -> 0.98/0.87. The other 4 false positives (hyperliquid, 3 refills read from 0.5 s
snapshots, confidence 53-58) look like the true ones there and were left.
Spoof prints through the wall (issue 6, session 3): traced over dev seeds, 7 of 21 misses were
walls whose price the trades passed (beyond it, nothing at its price) before the book message
removing them arrived (bybit 3, hyperliquid 2, kraken 1, binance-spot 1); the rule then
counted the whole peak as traded. A resting wall is hit before the price passes it, so such
a wall was already gone: only prints AT its price count now. Dev 0.83/0.70 -> 0.82/0.77,
seeds 17-30 0.78/0.63 -> 0.77/0.71. Of the rest: 11 walls never tracked (on hyperliquid
25x the average order, which its few, large trades inflate, exceeded the wall 5 times; a
median-order threshold was tried, see the commit log: no better overall) and 3 that became
the touch in the message that pulled them.
Spoof order_mult_pct was re-checked, not changed: 1500 on the same ten seeds gave
precision 0.31 (from 0.84) for recall 0.66 (from 0.62).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from nexus.exceptions import ConfigError

MS = 1_000_000
S = 1_000_000_000
MAX_LEVELS = 20  # engine/flow.pxd FLOW_MAX_LEVELS (checked in tests)


@dataclass(frozen=True)
class FlowParams:
    # -- metrics -------------------------------------------------------------------------
    ofi_levels: int = 5                 # multi-level OFI over levels 1..N (engine/ofi.pxd)
    obi_levels: int = 5                 # OBI over the top N levels (engine/obi.pxd)
    instrument_id: int = 0              # only records of this instrument (0: all)
    vpin_bucket_volume: int = 0         # V, quantity units per bucket; 0 turns VPIN off
    vpin_window: int = 50               # n buckets (the paper's default: 50)
    vpin_sigma_bars: int = 50           # bars in the rolling sd of price changes (BVC)
    vpin_bar_ns: int = 0                # 0: every trade is a bar; else time bars of this length
    # -- detectors -----------------------------------------------------------------------
    signals: bool = True                # detectors on at all
    absorption: bool = True
    iceberg: bool = True
    exhaustion: bool = True
    delta_spike: bool = True
    spoof: bool = True
    smart_money: bool = True
    oracle: bool = True                 # emitted; excluded from trading by default (signals.TRADE_DEFAULT)
    tick: int = 1                       # price units per tick (set from the instrument)
    warmup_trades: int = 20             # relative thresholds wait for this many trades ...
    warmup_s: int = 10                  # ... and this many seconds of flow (engine/detctx.pxd)
    order_median_window: int = 2000     # the typical order: median size of this many (engine/ordersize.pxd)

    absorption_window_ns: int = 2 * S
    absorption_hold_ns: int = 300 * MS
    absorption_rate_pct: int = 30        # x normal taker volume over the window
    absorption_display_pct: int = 600    # x the largest size the level showed
    absorption_min_qty: int = 0
    absorption_min_prints: int = 5
    absorption_cooldown_ns: int = 5 * S

    iceberg_window_ns: int = 30 * S
    iceberg_min_refills: int = 3
    iceberg_vol_mult_pct: int = 200      # x largest displayed size
    iceberg_min_qty: int = 0
    iceberg_settle_ns: int = 500 * MS
    iceberg_cooldown_ns: int = 5 * S
    iceberg_flood_pct: int = 70          # not while the level took >= this % of normal flow (0: off)
    iceberg_flood_orders_per_s: int = 20  # nor >= this many average orders per second (0: off)

    exhaustion_window_ns: int = 1 * S    # the lookback the burst's move is measured over
    exhaustion_burst_ns: int = 500 * MS  # the burst window, also the baseline's bucket
    exhaustion_base_window: int = 60     # baseline buckets (x2 samples: buy and sell volume)
    exhaustion_min_buckets: int = 20
    exhaustion_burst_z_x100: int = 500   # one-sided volume z against the baseline, x100
    exhaustion_orders_z_x100: int = 300  # ... and its aggressive-order count's z, x100
    exhaustion_min_qty: int = 0
    exhaustion_dominance_pct: int = 60
    exhaustion_min_move_bps: int = 3
    exhaustion_min_orders: int = 5       # aggressive orders in the burst's direction in burst_ns
    exhaustion_stall_ns: int = 1 * S
    exhaustion_retrace_pct: int = 40     # of the burst's move
    exhaustion_watch_ns: int = 10 * S
    exhaustion_cooldown_ns: int = 5 * S

    delta_spike_bucket_ns: int = 500 * MS
    delta_spike_window: int = 60
    delta_spike_min_buckets: int = 20
    delta_spike_z_x100: int = 600
    delta_spike_min_qty: int = 0
    delta_spike_min_rate_pct: int = 100  # |delta| >= this % of normal taker volume per bucket
    delta_spike_calm_z_x100: int = 0     # if > 0: the delta of the bucket before must have |z| below this
    delta_spike_min_orders: int = 8      # aggressive orders in the spike's direction in the window
    delta_spike_min_levels: int = 6      # distinct prices its prints traded at (moved through the book)

    spoof_levels: int = 20               # levels the median level size is taken over
    spoof_mult_pct: int = 1000           # x median size of the top `spoof_levels` levels
    spoof_max_bps: int = 5               # walls within this many basis points of the touch
    spoof_order_mult_pct: int = 2500     # x average aggressive order size (0: not used)
    spoof_min_qty: int = 0
    spoof_max_life_ns: int = 30 * S
    spoof_pull_pct: int = 75
    spoof_max_traded_pct: int = 10
    spoof_min_rank: int = 1
    spoof_min_behind: int = 3
    spoof_approach_pct: int = 100        # distance at the pull <= this % of the distance at placement

    smart_money_mult_pct: int = 1200     # a large lot: >= this % of the venue's median order
    smart_money_min_qty: int = 0
    smart_money_window_ns: int = 30 * S
    smart_money_base_windows: int = 10   # the background: median per-side count over this many windows
    smart_money_min_count: int = 10      # net large lots n_d - n_o
    smart_money_imbalance_pct: int = 0   # volume imbalance of the large lots, % (0: no condition)
    smart_money_z_x100: int = 400        # n_d - E >= z * sqrt(E), E the background per side
    smart_money_min_orders: int = 50     # orders seen before any is a large lot
    smart_money_cooldown_ns: int = 30 * S

    oracle_window_ns: int = 30 * S
    oracle_min_conf: int = 60
    oracle_min_types: int = 2
    oracle_cooldown_ns: int = 5 * S
    # absorption, iceberg, exhaustion, delta_spike, spoof, smart_money
    oracle_weights: tuple[int, ...] = field(default=(3, 3, 2, 2, 1, 3))

    def __post_init__(self) -> None:
        errors = []

        def need(ok: bool, msg: str) -> None:
            if not ok:
                errors.append(msg)

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "oracle_weights":
                need(len(v) == 6 and all(isinstance(w, int) and 0 <= w <= 100 for w in v),
                     "oracle_weights: six integers in 0..100")
            elif isinstance(v, bool):
                continue
            else:
                need(isinstance(v, int) and v >= 0, f"{f.name} must be a non-negative integer, got {v!r}")
        need(1 <= self.ofi_levels <= MAX_LEVELS, f"ofi_levels must be in 1..{MAX_LEVELS}")
        need(1 <= self.obi_levels <= MAX_LEVELS, f"obi_levels must be in 1..{MAX_LEVELS}")
        need(self.instrument_id < 1 << 32, "instrument_id must fit in 32 bits")
        if self.vpin_bucket_volume:
            need(1 <= self.vpin_window <= 1 << 16, "vpin_window must be in 1..65536")
            need(self.vpin_bucket_volume * self.vpin_window < 1 << 43,
                 "vpin_bucket_volume * vpin_window must be below 2^43 (exact integer VPIN)")
        need(1 <= self.vpin_sigma_bars <= 1 << 16, "vpin_sigma_bars must be in 1..65536")
        need(self.tick >= 1, "tick must be >= 1 price unit")
        for name in ("absorption_window_ns", "iceberg_window_ns", "exhaustion_window_ns",
                     "delta_spike_bucket_ns", "smart_money_window_ns", "oracle_window_ns",
                     "spoof_max_life_ns", "exhaustion_watch_ns"):
            need(getattr(self, name) >= 1, f"{name} must be >= 1 ns")
        need(self.oracle_window_ns <= 10**13, "oracle_window_ns must be at most 10^13 ns")
        need(1 <= self.delta_spike_window <= 4096, "delta_spike_window must be in 1..4096")
        need(1 <= self.exhaustion_burst_ns <= self.exhaustion_window_ns,
             "exhaustion_burst_ns must be in 1..exhaustion_window_ns")
        need(1 <= self.exhaustion_base_window <= 4096, "exhaustion_base_window must be in 1..4096")
        need(self.exhaustion_min_buckets <= self.exhaustion_base_window,
             "exhaustion_min_buckets must not exceed exhaustion_base_window")
        need(self.delta_spike_min_buckets <= self.delta_spike_window,
             "delta_spike_min_buckets must not exceed delta_spike_window")
        need(self.iceberg_min_refills >= 1, "iceberg_min_refills must be >= 1")
        need(self.smart_money_min_count >= 1, "smart_money_min_count must be >= 1")
        need(1 <= self.order_median_window <= 8192, "order_median_window must be in 1..8192")
        need(1 <= self.smart_money_base_windows <= 64, "smart_money_base_windows must be in 1..64")
        need(2 <= self.spoof_levels <= MAX_LEVELS, f"spoof_levels must be in 2..{MAX_LEVELS}")
        for name in ("exhaustion_dominance_pct", "spoof_pull_pct", "spoof_max_traded_pct",
                     "smart_money_imbalance_pct", "oracle_min_conf", "exhaustion_retrace_pct"):
            need(getattr(self, name) <= 100, f"{name} must be in 0..100")
        need(1 <= self.oracle_min_types <= 6, "oracle_min_types must be in 1..6")
        if errors:
            raise ConfigError("; ".join(errors))

    def replace(self, **changes) -> "FlowParams":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown flow parameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def engine_dict(self) -> dict:
        """The plain dict of integers engine.flow.FlowEngine takes."""
        d = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            d[f.name] = tuple(int(w) for w in v) if f.name == "oracle_weights" else int(v)
        return d

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["oracle_weights"] = list(self.oracle_weights)
        return d
