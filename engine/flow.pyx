# cython: language_level=3
"""The flow engine kernel: order-flow metrics and signal detectors over record batches.

One `FlowEngine` per instrument (or per consensus book). `update(batch, out)` folds records
in order with the GIL released and writes, into arrays the caller owns:
  * a metrics row per message (a run of records ending with F_LAST) that changed the book
    or carried trades (engine/flow.pxd MetricRow; nexus.flow.dtypes.METRIC_DTYPE);
  * a VPIN row per completed bucket once the window is full (engine/vpin.pxd);
  * a SIGNAL record and a facts row per detector signal (engine/signal.pxd).
It stops early, at a record boundary, when an output array is about to fill, and says how
many input records it consumed: drain the outputs and call again with the rest. Nothing is
allocated per message. Parameters and their meaning: nexus/flow/params.py, whose schema
setup.py turns into the structs of engine/params.pxd; `_load` copies a parameter dict in by
that layout, and importing this module checks the layout against the schema.
"""
from libc.stdint cimport int64_t, uint64_t, uint32_t, INT64_MIN, INT64_MAX
from libc.string cimport memcpy, memcmp, memset
from libc.stdlib cimport malloc, realloc, free
from engine.record cimport (Record, KIND_BOOK_LEVEL, KIND_BOOK_CLEAR, KIND_TRADE, F_LAST,
                            F_RESYNC, SIDE_BID, SIDE_ASK)
from engine.ladder cimport (Level, LadderSide, side_init, side_free, side_set, side_clear,
                            side_px, side_sz, side_qty_at, LADDER_LEVELS_MAX)
from engine.ofi cimport ofi_term
from engine.obi cimport depth_sum
from engine.vpin cimport (Vpin, VpinRow, vpin_init, vpin_free, vpin_trade, vpin_room,
                          VPIN_WINDOW_MAX as C_VPIN_WINDOW_MAX,
                          VPIN_SIGMA_BARS_MAX as C_VPIN_SIGMA_BARS_MAX, VPIN_PHI_BITS)
from engine.signal cimport SignalOut, SignalFacts, SIGNALS_PER_RECORD_MAX, SIGNAL_FACTS, SIG_TYPES, signal_ts
from engine.detectors cimport Detectors, det_trade, det_level, det_clear, det_resync, det_message
from engine.det_exhaustion cimport EXH_RING, EXH_WINDOW_MAX
from engine.det_delta_spike cimport DS_WINDOW_MAX
from engine.det_smart_money cimport SM_RING, SM_BINS_MAX
from engine.ordersize cimport OS_RING
from engine.det_spoof cimport SPOOF_WALLS_MAX, SPOOF_LEVELS_MAX
from engine.params cimport EngineParams, param_layout
from engine.oracle_model cimport (OracleModel, OM_NF, OM_BUCKET_NS, om_reset, om_message, om_features,
                                  om_due, om_emit, om_logit, om_prob, om_conf)
from libc.math cimport isfinite

import numpy as np

LEVELS_MAX = FLOW_LEVELS_MAX
SIGNALS_PER_RECORD_MAX_ = SIGNALS_PER_RECORD_MAX
FACTS = SIGNAL_FACTS
PHI_BITS = VPIN_PHI_BITS
VPIN_WINDOW_MAX = C_VPIN_WINDOW_MAX
VPIN_SIGMA_BARS_MAX = C_VPIN_SIGMA_BARS_MAX
DELTA_SPIKE_WINDOW_MAX = DS_WINDOW_MAX
ORACLE_FEATURES = OM_NF
ORACLE_BUCKET_NS = OM_BUCKET_NS
LIMITS = {
    "FLOW_LEVELS_MAX": FLOW_LEVELS_MAX, "LADDER_LEVELS_MAX": LADDER_LEVELS_MAX,
    "VPIN_WINDOW_MAX": C_VPIN_WINDOW_MAX, "VPIN_SIGMA_BARS_MAX": C_VPIN_SIGMA_BARS_MAX,
    "DS_WINDOW_MAX": DS_WINDOW_MAX, "EXH_RING": EXH_RING, "SM_RING": SM_RING,
    "SPOOF_WALLS_MAX": SPOOF_WALLS_MAX, "SIGNALS_PER_RECORD_MAX": SIGNALS_PER_RECORD_MAX,
    "EXH_WINDOW_MAX": EXH_WINDOW_MAX, "SM_BINS_MAX": SM_BINS_MAX, "OS_RING": OS_RING,
    "SPOOF_LEVELS_MAX": SPOOF_LEVELS_MAX,
}
# (sizeof(EngineParams), ((name, offset, bytes), ...)): the parameter structs as compiled;
# _load reads its own C-level copy, which Python code cannot rebind
PARAM_LAYOUT = param_layout()
cdef tuple _FIELDS = PARAM_LAYOUT[1]


def row_layouts():
    """{struct name: (sizeof, {field: offset})} as compiled, for nexus.flow.dtypes to check."""
    cdef MetricRow m
    cdef VpinRow v
    cdef SignalFacts f
    cdef char* mb = <char*>&m
    cdef char* vb = <char*>&v
    return {
        "MetricRow": (sizeof(MetricRow), {
            "msg": <char*>&m.msg - mb, "rec": <char*>&m.rec - mb,
            "ts_exchange_ns": <char*>&m.ts_exchange_ns - mb,
            "bid_px": <char*>&m.bid_px - mb, "bid_qty": <char*>&m.bid_qty - mb,
            "ask_px": <char*>&m.ask_px - mb, "ask_qty": <char*>&m.ask_qty - mb,
            "ofi": <char*>&m.ofi[0] - mb, "obi_num": <char*>&m.obi_num - mb,
            "obi_den": <char*>&m.obi_den - mb, "cvd": <char*>&m.cvd - mb,
            "buy_qty": <char*>&m.buy_qty - mb, "sell_qty": <char*>&m.sell_qty - mb,
            "flags": <char*>&m.flags - mb, "levels": <char*>&m.levels - mb}),
        "VpinRow": (sizeof(VpinRow), {
            "msg": <char*>&v.msg - vb, "rec": <char*>&v.rec - vb,
            "ts_exchange_ns": <char*>&v.ts_exchange_ns - vb, "bucket": <char*>&v.bucket - vb,
            "num": <char*>&v.num - vb, "den": <char*>&v.den - vb}),
        "SignalFacts": (sizeof(SignalFacts), {"f": <char*>&f.f[0] - <char*>&f}),
    }


cdef int _load(dict p, EngineParams* cfg) except -1:
    """Copy the parameter dict into cfg, one int64 slot per value, by the compiled layout."""
    cdef int64_t* slot
    cdef Py_ssize_t i, n
    for name, offset, nbytes in _FIELDS:
        try:
            v = p[name]
        except KeyError:
            raise ValueError(f"FlowEngine: missing parameter {name!r}") from None
        slot = <int64_t*>(<char*>cfg + <Py_ssize_t>offset)
        n = nbytes // sizeof(int64_t)
        if n == 1:
            slot[0] = v
        elif len(v) != n:
            raise ValueError(f"FlowEngine: {name} takes {n} integers")
        else:
            for i in range(n):
                slot[i] = v[i]
    return 0


cdef class FlowEngine:
    """Order-flow metrics and signal detectors for one instrument.

    FlowEngine(params) with `params` a dict of integers: nexus.flow.params.FlowParams
    .engine_dict() builds it (and documents and validates every value).
    """

    def __cinit__(self, dict params):
        cdef EngineParams cfg
        cdef int64_t vq, vn
        cdef int ci
        if side_init(&self.bids, 1) or side_init(&self.asks, 0) \
                or side_init(&self.saved_bids, 1) or side_init(&self.saved_asks, 0):
            raise MemoryError()
        _load(params, &cfg)
        m = &cfg.metrics
        self.ofi_levels = <int>m.ofi_levels
        self.obi_levels = <int>m.obi_levels
        if not (1 <= self.ofi_levels <= FLOW_LEVELS_MAX and 1 <= self.obi_levels <= FLOW_LEVELS_MAX):
            raise ValueError(f"levels must be in 1..{FLOW_LEVELS_MAX}")
        self.instrument_id = <uint32_t>m.instrument_id
        vq = m.vpin_bucket_volume
        vn = m.vpin_window
        self.vpin_enabled = vq > 0
        if self.vpin_enabled:
            if vn < 1 or vn > C_VPIN_WINDOW_MAX or vq > ((<int64_t>1) << (63 - VPIN_PHI_BITS)) // vn - 1:
                raise ValueError("VPIN needs 1 <= window <= %d and bucket_volume * window < 2^%d"
                                 % (C_VPIN_WINDOW_MAX, 63 - VPIN_PHI_BITS))
            if not (1 <= m.vpin_sigma_bars <= C_VPIN_SIGMA_BARS_MAX) or m.vpin_bar_ns < 0:
                raise ValueError("VPIN needs 1 <= sigma_bars <= %d and bar_ns >= 0" % C_VPIN_SIGMA_BARS_MAX)
            if vpin_init(&self.vpin, vq, vn, m.vpin_sigma_bars, m.vpin_bar_ns):
                raise MemoryError()
        self.signals_enabled = cfg.detectors.signals != 0
        for ci in range(808):
            self.calib[ci] = ci % 101
        self._init_detectors(&cfg)
        om_reset(&self.om)
        self.reset_counters()

    def __dealloc__(self):
        side_free(&self.bids)
        side_free(&self.asks)
        side_free(&self.saved_bids)
        side_free(&self.saved_asks)
        free(self.undo)
        free(self.om_meta)
        free(self.om_x)
        if self.vpin_enabled:
            vpin_free(&self.vpin)

    cdef _init_detectors(self, const EngineParams* cfg):
        """The detectors' parameter structs from cfg; the bounds their fixed arrays need are
        checked here too (the engine can be given a dict that FlowParams never validated)."""
        cdef Detectors* d = &self.det
        g = &cfg.detectors
        memset(d, 0, sizeof(Detectors))
        d.ctx.bids = &self.bids
        d.ctx.asks = &self.asks
        d.ctx.tick = g.tick
        d.ctx.warmup_trades = g.warmup_trades
        d.ctx.warmup_s = g.warmup_s
        d.ctx.sizes.window = g.order_median_window
        if not (1 <= d.ctx.sizes.window <= OS_RING):
            raise ValueError(f"order_median_window must be in 1..{OS_RING}")
        if d.ctx.tick < 1:
            raise ValueError("tick must be >= 1 price unit")
        on = self.signals_enabled
        d.on_absorption = on and g.absorption != 0
        d.on_iceberg = on and g.iceberg != 0
        d.on_exhaustion = on and g.exhaustion != 0
        d.on_delta_spike = on and g.delta_spike != 0
        d.on_spoof = on and g.spoof != 0
        d.on_smart_money = on and g.smart_money != 0
        d.on_oracle = on and g.oracle != 0
        d.absorption.p = cfg.absorption
        d.iceberg.p = cfg.iceberg
        d.exhaustion.p = cfg.exhaustion
        d.delta_spike.p = cfg.delta_spike
        d.spoof.p = cfg.spoof
        d.smart_money.p = cfg.smart_money
        d.oracle.p = cfg.oracle
        x = &cfg.exhaustion
        if not (1 <= x.burst_ns <= x.window_ns) or not (1 <= x.base_window <= EXH_WINDOW_MAX):
            raise ValueError(f"exhaustion needs 1 <= burst_ns <= window_ns and 1 <= base_window <= {EXH_WINDOW_MAX}")
        if cfg.delta_spike.bucket_ns < 1 or not (1 <= cfg.delta_spike.window <= DS_WINDOW_MAX):
            raise ValueError(f"delta spike needs bucket_ns >= 1 and 1 <= window <= {DS_WINDOW_MAX}")
        if not (2 <= cfg.spoof.levels <= SPOOF_LEVELS_MAX):
            raise ValueError(f"spoof_levels must be in 2..{SPOOF_LEVELS_MAX}")
        if not (1 <= cfg.smart_money.base_windows <= SM_BINS_MAX):
            raise ValueError(f"smart_money_base_windows must be in 1..{SM_BINS_MAX}")
        if cfg.oracle.window_ns < 1:
            raise ValueError("oracle_window_ns must be >= 1")

    def set_calibration(self, int sig_type, table):
        """Map signal type `sig_type`'s raw confidence c (0..100) to table[c] (101 integers
        0..100, non-decreasing): the measured calibration (nexus/flow/calibration.py). The
        oracle still reads the raw confidences of the other detectors."""
        cdef int i
        cdef int64_t v, prev = 0
        if not (1 <= sig_type < SIG_TYPES) or len(table) != 101:
            raise ValueError("set_calibration needs a signal type 1..7 and 101 values")
        for i in range(101):
            v = int(table[i])
            if v < 0 or v > 100 or v < prev:
                raise ValueError("a calibration table holds non-decreasing values in 0..100")
            prev = v
        for i in range(101):
            self.calib[sig_type * 101 + i] = int(table[i])

    # -- the learned oracle (engine/oracle_model.pxd; nexus/flow/oracle_model.py) -------------
    def set_oracle_model(self, double bias, weights, mean, scale, int min_conf=65,
                         long long cooldown_ns=5_000_000_000, long long sample_ns=1_000_000_000):
        """Install a learned oracle: z = bias + sum w_i (x_i - mean_i) / scale_i over the
        ORACLE_FEATURES features, p = logistic(z). It replaces the rule oracle (whose memory of
        the other detectors' signals it still reads); emitted as the oracle signal with
        confidence round(100 max(p, 1-p)) when >= min_conf. Refuses a model of the wrong shape,
        non-finite values or a scale <= 0."""
        cdef int i
        if len(weights) != OM_NF or len(mean) != OM_NF or len(scale) != OM_NF:
            raise ValueError(f"an oracle model needs {OM_NF} weights, means and scales")
        vals = [float(bias)] + [float(v) for v in weights] + [float(v) for v in mean] + [float(v) for v in scale]
        if not all(isfinite(v) for v in vals):
            raise ValueError("an oracle model's values must be finite numbers")
        if not all(float(v) > 0 for v in scale):
            raise ValueError("an oracle model's scales must be > 0")
        if not (50 <= min_conf <= 100) or cooldown_ns < 0 or sample_ns < 1:
            raise ValueError("oracle model: min_conf in 50..100, cooldown_ns >= 0, sample_ns >= 1")
        self.om.bias = bias
        for i in range(OM_NF):
            self.om.w[i] = float(weights[i])
            self.om.mu[i] = float(mean[i])
            self.om.sd[i] = float(scale[i])
        self.om.min_conf = min_conf
        self.om.cooldown_ns = cooldown_ns
        self.om.sample_ns = sample_ns
        self.om.loaded = 1
        self.det.oracle.learned = 1

    def clear_oracle_model(self):
        """Back to the rule oracle (engine/det_oracle.pxd)."""
        self.om.loaded = 0
        self.det.oracle.learned = 0

    @property
    def oracle_model_loaded(self):
        return bool(self.om.loaded)

    def collect_oracle_features(self, bint on, long long sample_ns=1_000_000_000):
        """Keep every oracle sample's features (training data); take them with
        oracle_features(). Samples are taken while the detectors and the oracle are on."""
        if sample_ns < 1:
            raise ValueError("sample_ns must be >= 1")
        self.om.collect = on
        if not self.om.loaded:
            self.om.sample_ns = sample_ns

    def oracle_features(self):
        """(meta, x) of the samples kept since the last call: meta int64 (n, 3) = exchange
        time, best bid, best ask (price units); x float64 (n, ORACLE_FEATURES). Clears them."""
        cdef Py_ssize_t n = self.om_n, i, j
        meta = np.zeros((n, 3), np.int64)
        x = np.zeros((n, OM_NF), np.float64)
        cdef int64_t[:, ::1] mv = meta
        cdef double[:, ::1] xv = x
        for i in range(n):
            for j in range(3):
                mv[i, j] = self.om_meta[3 * i + j]
            for j in range(OM_NF):
                xv[i, j] = self.om_x[OM_NF * i + j]
        self.om_n = 0
        return meta, x

    def oracle_logit(self, x):
        """The installed model's z on a feature vector, computed by the compiled code the
        engine runs (tests compare it with the Python inference)."""
        cdef double xs[OM_NF]
        cdef int i
        if not self.om.loaded:
            raise ValueError("no oracle model installed")
        if len(x) != OM_NF:
            raise ValueError(f"{OM_NF} features expected")
        for i in range(OM_NF):
            xs[i] = float(x[i])
        return om_logit(&self.om, xs)

    def oracle_confidence(self, double z):
        """(probability of up, raw confidence) the engine derives from z."""
        cdef double p = om_prob(z)
        return p, om_conf(p)

    cdef void _oracle_model(self, double ofi, SignalOut* sig) noexcept nogil:
        """At a message end (signals on): fold it into the learned oracle's buckets; take a
        sample when one is due: keep it (collect) and/or let the installed model speak."""
        cdef int64_t bid = 0, ask = 0, now = self.det.ctx.now_ns, bq, aq, cap
        cdef int64_t* gm
        cdef double* gx
        cdef double x[OM_NF]
        cdef int j
        if not (self.om.loaded or self.om.collect) or not self.det.on_oracle:
            return
        if self.bids.n > 0 and self.asks.n > 0:
            bid = side_px(&self.bids, 0)
            ask = side_px(&self.asks, 0)
        om_message(&self.om, now, ofi, self.msg_buy, self.msg_sell, bid + ask if bid > 0 and ask > bid else 0)
        if bid <= 0 or ask <= bid or not om_due(&self.om, now):
            return
        bq = depth_sum(&self.bids, self.obi_levels)
        aq = depth_sum(&self.asks, self.obi_levels)
        om_features(&self.om, &self.det.oracle, now, bq - aq, bq + aq, bid, ask, self.det.ctx.tick, x)
        if self.om.collect:
            if self.om_n == self.om_cap:
                cap = self.om_cap * 2 if self.om_cap else 1024
                gm = <int64_t*>realloc(self.om_meta, cap * 3 * sizeof(int64_t))
                if gm != NULL:
                    self.om_meta = gm
                gx = <double*>realloc(self.om_x, cap * OM_NF * sizeof(double))
                if gx != NULL:
                    self.om_x = gx
                if gm != NULL and gx != NULL:
                    self.om_cap = cap
            if self.om_n < self.om_cap:
                self.om_meta[3 * self.om_n] = now
                self.om_meta[3 * self.om_n + 1] = bid
                self.om_meta[3 * self.om_n + 2] = ask
                for j in range(OM_NF):
                    self.om_x[OM_NF * self.om_n + j] = x[j]
                self.om_n += 1
            else:
                self.oracle_samples_lost += 1
        if self.om.loaded:
            om_emit(&self.om, &self.det.oracle, now, x, (bid + ask) // 2, sig)

    cpdef void reset_counters(self) noexcept:
        self.messages = 0
        self.records = 0

    # -- the batch API -------------------------------------------------------------------
    def update(self, const Record[::1] batch, Record[::1] signals_out, SignalFacts[::1] facts_out,
               MetricRow[::1] metrics_out, VpinRow[::1] vpin_out):
        """Fold `batch` in. Returns (consumed, metric rows, VPIN rows, signals) written from
        the start of each output array. consumed < len(batch) means an output array was
        about to fill: drain it and call again with batch[consumed:]."""
        cdef Py_ssize_t n = batch.shape[0], consumed = 0, nm = 0, nv = 0
        cdef SignalOut sig
        cdef int status
        cdef Py_ssize_t k
        cdef Record* rr
        if signals_out.shape[0] != facts_out.shape[0]:
            raise ValueError("signals_out and facts_out must have the same length")
        if self.signals_enabled and signals_out.shape[0] < SIGNALS_PER_RECORD_MAX:
            raise ValueError(f"signals_out needs at least {SIGNALS_PER_RECORD_MAX} rows")
        if metrics_out.shape[0] < 1:
            raise ValueError("metrics_out needs at least one row")
        sig.recs = &signals_out[0] if signals_out.shape[0] > 0 else NULL
        sig.facts = &facts_out[0] if facts_out.shape[0] > 0 else NULL
        sig.n = 0
        sig.cap = signals_out.shape[0]
        sig.dropped = 0
        with nogil:
            status = self._run(&batch[0] if n > 0 else NULL, n, &consumed,
                               &metrics_out[0], metrics_out.shape[0], &nm,
                               &vpin_out[0] if vpin_out.shape[0] > 0 else NULL, vpin_out.shape[0], &nv,
                               &sig)
        if status == RUN_BOOK_LIMIT:
            raise MemoryError(f"book side deeper than {LADDER_LEVELS_MAX} levels, or out of memory")
        if status == RUN_OUT_FULL and consumed == 0 and nm == 0 and nv == 0 and sig.n == 0:
            raise ValueError("output arrays too small to process one record (vpin_out needs "
                             "room for every bucket one trade can complete)")
        for k in range(sig.n):
            rr = &signals_out[k]
            if rr.aux < SIG_TYPES and 0 <= rr.qty <= 100:
                rr.qty = self.calib[rr.aux * 101 + rr.qty]
        return consumed, nm, nv, sig.n

    cdef int _run(self, const Record* recs, Py_ssize_t n, Py_ssize_t* consumed,
                  MetricRow* mrows, Py_ssize_t mcap, Py_ssize_t* nm,
                  VpinRow* vrows, Py_ssize_t vcap, Py_ssize_t* nv,
                  SignalOut* sig) noexcept nogil:
        cdef Py_ssize_t i
        cdef const Record* r
        for i in range(n):
            r = &recs[i]
            if self.instrument_id != 0 and r.instrument_id != self.instrument_id:
                self.records += 1            # ordinals count every record fed, so callers can map back
                consumed[0] = i + 1
                continue
            if nm[0] >= mcap or (self.signals_enabled and sig.cap - sig.n < SIGNALS_PER_RECORD_MAX):
                return RUN_OUT_FULL
            if r.kind == KIND_TRADE and self.vpin_enabled and vcap - nv[0] < vpin_room(&self.vpin, r.qty):
                return RUN_OUT_FULL
            sig.msg = self.messages
            sig.rec = self.records
            sig.ts_local = r.ts_local_ns
            sig.instrument_id = r.instrument_id
            sig.venue_id = r.venue_id
            if r.ts_exchange_ns > self.det.ctx.now_ns:
                self.det.ctx.now_ns = r.ts_exchange_ns
            sig.ts = signal_ts(r.ts_exchange_ns, self.det.ctx.now_ns, r.ts_local_ns)
            if r.flags & F_RESYNC:
                self.msg_resync = 1
            if r.kind == KIND_BOOK_LEVEL or r.kind == KIND_BOOK_CLEAR:
                if self._book(r) < 0:
                    return RUN_BOOK_LIMIT
            elif r.kind == KIND_TRADE:
                self._trade(r, vrows, nv, sig)
            self.records += 1
            if r.flags & F_LAST:
                self._end_message(r, mrows, nm, sig)
            consumed[0] = i + 1
        return RUN_OK

    cdef int _book(self, const Record* r) noexcept nogil:
        cdef LadderSide* s
        cdef LadderSide* saved
        cdef int changed
        cdef int64_t old_qty
        self.msg_book = 1
        if r.kind == KIND_BOOK_CLEAR:
            if r.side != SIDE_ASK:
                self._save(&self.bids, &self.saved_bids, &self.saved_b)
                side_clear(&self.bids)
            if r.side != SIDE_BID:
                self._save(&self.asks, &self.saved_asks, &self.saved_a)
                side_clear(&self.asks)
            if self.signals_enabled:
                det_clear(&self.det, r.side)
            return 0
        if r.side == SIDE_BID:
            s = &self.bids
        elif r.side == SIDE_ASK:
            s = &self.asks
        else:
            return 0
        changed = side_set(s, r.price, r.qty if r.qty > 0 else 0, &old_qty)
        if changed < 0:
            return -1
        if changed and not (self.saved_b if r.side == SIDE_BID else self.saved_a):
            self.msg_changed = 1
            self._log_change(r.side, r.price, old_qty, r.qty if r.qty > 0 else 0)
        if self.signals_enabled:
            det_level(&self.det, r.side, r.price)
        return 0

    cdef int _save(self, LadderSide* s, LadderSide* saved, bint* flag) noexcept nogil:
        """Keep a side's levels before its first clear in a message, so the message end can
        tell whether the book really changed (a venue that re-sends identical snapshots).
        If memory runs out the copy is marked unknown (n = -1) and the side counts as changed."""
        if flag[0]:
            return 0
        flag[0] = 1
        if saved.cap < s.n:
            free(saved.levels)
            saved.levels = <Level*>malloc(s.cap * sizeof(Level))
            saved.cap = s.cap if saved.levels != NULL else 0
            if saved.levels == NULL:
                saved.n = -1
                return 0
        memcpy(saved.levels, s.levels, s.n * sizeof(Level))
        saved.n = s.n
        # Changes this message made to the side before the clear: revert them in the copy
        # (newest first) so it is the side as the message found it, and drop them from the log.
        cdef Py_ssize_t i, j = 0
        cdef int64_t ignored
        cdef int which = SIDE_BID if s == &self.bids else SIDE_ASK
        if self.undo_lost:
            saved.n = -1
        for i in range(self.undo_n - 1, -1, -1):
            if self.undo[UNDO * i] == which and side_set(saved, self.undo[UNDO * i + 1], self.undo[UNDO * i + 2], &ignored) < 0:
                saved.n = -1
                break
        for i in range(self.undo_n):
            if self.undo[UNDO * i] != which:
                self.undo[UNDO * j] = self.undo[UNDO * i]
                self.undo[UNDO * j + 1] = self.undo[UNDO * i + 1]
                self.undo[UNDO * j + 2] = self.undo[UNDO * i + 2]
                self.undo[UNDO * j + 3] = self.undo[UNDO * i + 3]
                j += 1
        self.undo_n = j
        return 0

    cdef void _log_change(self, int side, int64_t price, int64_t old_qty, int64_t new_qty) noexcept nogil:
        cdef int64_t* grown
        cdef Py_ssize_t cap
        if self.undo_lost:
            return
        if self.undo_n == self.undo_cap:
            cap = self.undo_cap * 2 if self.undo_cap else 64
            grown = <int64_t*>realloc(self.undo, cap * UNDO * sizeof(int64_t))
            if grown == NULL:
                self.undo_lost = 1           # cannot prove the changes cancel: count as changed
                return
            self.undo = grown
            self.undo_cap = cap
        self.undo[UNDO * self.undo_n] = side
        self.undo[UNDO * self.undo_n + 1] = price
        self.undo[UNDO * self.undo_n + 2] = old_qty
        self.undo[UNDO * self.undo_n + 3] = new_qty
        self.undo_n += 1

    cdef bint _changes_stand(self) noexcept nogil:
        """Whether the logged level changes leave the book different from the message start
        (a single change always does; several may cancel out)."""
        cdef Py_ssize_t i, j
        cdef LadderSide* s
        cdef bint first
        if self.undo_lost or self.undo_n == 1:
            return 1
        for i in range(self.undo_n):
            first = 1                        # only a level's first entry holds its original size
            for j in range(i):
                if self.undo[UNDO * j] == self.undo[UNDO * i] and self.undo[UNDO * j + 1] == self.undo[UNDO * i + 1]:
                    first = 0
                    break
            if not first:
                continue
            s = &self.bids if self.undo[UNDO * i] == SIDE_BID else &self.asks
            if side_qty_at(s, self.undo[UNDO * i + 1]) != self.undo[UNDO * i + 2]:
                return 1
        return 0

    cdef bint _differs(self, const LadderSide* s, const LadderSide* saved) noexcept nogil:
        if saved.n != s.n:
            return 1
        return s.n > 0 and memcmp(s.levels, saved.levels, s.n * sizeof(Level)) != 0

    cdef void _trade(self, const Record* r, VpinRow* vrows, Py_ssize_t* nv, SignalOut* sig) noexcept nogil:
        cdef int64_t ts = r.ts_exchange_ns if r.ts_exchange_ns > 0 else 0
        if r.qty <= 0:
            return
        self.msg_trades += 1
        if r.side == SIDE_BID:
            self.msg_buy += r.qty
            self.cvd += r.qty
        elif r.side == SIDE_ASK:
            self.msg_sell += r.qty
            self.cvd -= r.qty
        else:
            self.trades_unknown_side += 1
        if self.vpin_enabled:
            nv[0] += vpin_trade(&self.vpin, r.price, r.qty, ts, &vrows[nv[0]], self.messages, self.records)
        if self.signals_enabled and (r.side == SIDE_BID or r.side == SIDE_ASK):
            det_trade(&self.det, r.side, r.price, r.qty, ts, sig)

    cdef void _end_message(self, const Record* r, MetricRow* mrows, Py_ssize_t* nm, SignalOut* sig) noexcept nogil:
        cdef MetricRow* row
        cdef int k
        cdef int64_t bp, bq, ap, aq
        cdef bint reset = 0
        cdef double ofi_sum = 0
        self.msg_changed = self.undo_lost or (self.undo_n > 0 and self._changes_stand())
        if self.saved_b:
            self.msg_changed = self.msg_changed or self._differs(&self.bids, &self.saved_bids)
        if self.saved_a:
            self.msg_changed = self.msg_changed or self._differs(&self.asks, &self.saved_asks)
        if self.msg_changed or self.msg_trades:
            row = &mrows[nm[0]]
            nm[0] += 1
            row.msg = self.messages
            row.rec = self.records - 1
            row.ts_exchange_ns = r.ts_exchange_ns
            row.flags = 0
            row.levels = self.ofi_levels
            if self.msg_changed:
                row.flags |= ROW_BOOK_CHANGED
                reset = self.msg_resync or not self.have_prev
                if reset:
                    row.flags |= ROW_RESET
                for k in range(self.ofi_levels):
                    bp = side_px(&self.bids, k)
                    bq = side_sz(&self.bids, k)
                    ap = side_px(&self.asks, k)
                    aq = side_sz(&self.asks, k)
                    row.ofi[k] = 0 if reset else ofi_term(bp, bq, self.prev_bpx[k], self.prev_bq[k],
                                                          ap, aq, self.prev_apx[k], self.prev_aq[k])
                    ofi_sum += row.ofi[k]
                    self.prev_bpx[k] = bp
                    self.prev_bq[k] = bq
                    self.prev_apx[k] = ap
                    self.prev_aq[k] = aq
                self.have_prev = 1
            else:
                for k in range(self.ofi_levels):
                    row.ofi[k] = 0
            for k in range(self.ofi_levels, FLOW_LEVELS_MAX):
                row.ofi[k] = 0
            if self.msg_trades:
                row.flags |= ROW_TRADES
            if self.bids.n > 0:
                row.flags |= ROW_HAVE_BID
            if self.asks.n > 0:
                row.flags |= ROW_HAVE_ASK
            row.bid_px = side_px(&self.bids, 0) if self.bids.n > 0 else 0
            row.bid_qty = side_sz(&self.bids, 0)
            row.ask_px = side_px(&self.asks, 0) if self.asks.n > 0 else 0
            row.ask_qty = side_sz(&self.asks, 0)
            bq = depth_sum(&self.bids, self.obi_levels)
            aq = depth_sum(&self.asks, self.obi_levels)
            row.obi_num = bq - aq
            row.obi_den = bq + aq
            row.cvd = self.cvd
            row.buy_qty = self.msg_buy
            row.sell_qty = self.msg_sell
        if self.signals_enabled:
            if self.msg_resync and self.msg_book:
                det_resync(&self.det)
            # what this message changed, for detectors that look at placements (spoof)
            self.det.ctx.undo = self.undo
            self.det.ctx.undo_n = 0 if self.undo_lost else self.undo_n
            self.det.ctx.saved_bids = &self.saved_bids if self.saved_b else NULL
            self.det.ctx.saved_asks = &self.saved_asks if self.saved_a else NULL
            det_message(&self.det, self.msg_changed, sig)
            self._oracle_model(ofi_sum, sig)
        self.undo_n = 0
        self.undo_lost = 0
        self.msg_book = 0
        self.msg_changed = 0
        self.msg_resync = 0
        self.msg_trades = 0
        self.msg_buy = 0
        self.msg_sell = 0
        self.saved_b = 0
        self.saved_a = 0
        self.messages += 1

    # -- inspection (tests, the CLI) -----------------------------------------------------
    def top(self, int side, int n):
        """[(price, qty)] of the n best levels of side 1 (bids) or 2 (asks), best first."""
        cdef LadderSide* s = &self.bids if side == 1 else &self.asks
        if side not in (1, 2):
            raise ValueError("side must be 1 (bid) or 2 (ask)")
        return [(side_px(s, k), side_sz(s, k)) for k in range(min(n, s.n))]

    def depth(self, int side):
        return self.bids.n if side == 1 else self.asks.n

    @property
    def baselines(self):
        """The detectors' baselines: average aggressive order size and taker volume per
        second (quantity units, floor), seconds and trades seen."""
        return {"avg_order_qty": self.det.ctx.avg_order_q16 >> 16,
                "volume_per_s": self.det.ctx.rate_q16 >> 16,
                "seconds": self.det.ctx.seconds,
                "trades": self.det.ctx.trades, "now_ns": self.det.ctx.now_ns}

    @property
    def vpin_buckets(self):
        return self.vpin.buckets if self.vpin_enabled else 0


from nexus.flow.params import check_layout as _check_layout

_check_layout(PARAM_LAYOUT, LIMITS)
