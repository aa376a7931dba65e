"""Each auto-trader rule on the real compiled gate and the paper router over a native book:
threshold boundaries, the type filter, REVERSE, SMART sizes after losses and back to base
after a win, TP/SL prices in ticks of the symbol, refusals with their reason code, and a
fill for an unknown order counted but never applied."""
from decimal import Decimal

import pytest

from nexus._native import Book
from nexus.exec.orders import OrderType, Side
from nexus.instruments import Instrument
from nexus.risk.codes import Latch
from nexus.risk.gate import Gate
from nexus.risk.settings import InstrumentLimits, RiskSettings
from nexus.trade.config import AutoSettings, AutoSettingsError, parse_signals, validated
from nexus.trade.martingale import Martingale
from nexus.trade.paper import PaperRouter
from nexus.trade.tap import MarketTap
from nexus.trade.trader import AutoTrader

# binance-perp BTCUSDT as the simulator serves it: tick 0.1, lot 0.001.
INST = Instrument("binance-perp", "BTCUSDT", "0.1", "0.001", contract_kind="linear", base="BTC", quote="USDT")
BID, ASK = 1, 2


class Clock:
    def __init__(self):
        self.t = 1_700_000_000_000_000_000

    def __call__(self):
        return self.t


def make(settings=AutoSettings(), risk=None, max_qty="1", max_notional="1000000"):
    clock = Clock()
    risk = risk or RiskSettings(cooldown_ms=0, max_orders=1000, daily_loss=Decimal("1000"), daily_profit=Decimal("1000"))
    gate = Gate(risk, [(INST, InstrumentLimits(INST.venue, INST.symbol, Decimal(max_qty), Decimal(max_notional)))],
                clock_ns=clock)
    book = Book(INST.price_exponent, INST.qty_exponent)
    paper = PaperRouter(INST)
    trader = AutoTrader(settings, gate, INST, paper, clock_ns=clock, session="t")
    paper.sink = trader
    tap = MarketTap(trader, INST, paper)
    return trader, gate, book, paper, tap, clock


def quote(book, tap, bid, ask, qty=5_000):
    book.clear()
    book.set(BID, INST.price_to_int(bid), qty)
    book.set(ASK, INST.price_to_int(ask), qty)
    tap.on_batch(book, None)


def sig(name="absorption", side="buy", conf=80):
    return {"venue": "binance-perp", "signal": name, "side": side, "price": "65000.0", "confidence": conf}


def test_threshold_boundaries():
    trader, gate, book, paper, tap, clock = make(AutoSettings(threshold_pct=65))
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    assert trader.on_signal(sig(conf=64)) is None
    assert trader.skipped["below_threshold"] == 1
    assert trader.on_signal(sig(conf=65)) is not None
    for bad in (49, 96, 0, 100):
        with pytest.raises(AutoSettingsError, match="50..95"):
            validated(AutoSettings(threshold_pct=bad))
    for ok in (50, 95):
        validated(AutoSettings(threshold_pct=ok))


def test_nothing_fires_without_auto():
    trader, gate, book, paper, tap, clock = make()
    quote(book, tap, "65000.0", "65000.1")
    assert trader.on_signal(sig(conf=100)) is None
    assert trader.skipped["auto_off"] == 1 and paper.orders == 0


def test_filter_and_oracle_off_by_default():
    trader, gate, book, paper, tap, clock = make(AutoSettings(signals=parse_signals("iceberg,oracle")))
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    assert trader.on_signal(sig("absorption")) is None and trader.skipped["filtered"] == 1
    assert trader.on_signal(sig("oracle")) is not None
    assert "oracle" not in parse_signals(None)
    with pytest.raises(AutoSettingsError, match="known: absorption, iceberg"):
        parse_signals("iceberg,wyckoff")


def test_reverse_inverts_the_signal():
    trader, gate, book, paper, tap, clock = make(AutoSettings(reverse=True))
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    it = trader.on_signal(sig(side="buy"))
    assert it.side is Side.SELL and it.type is OrderType.MARKET
    assert gate.rg.position(INST.instrument_id)[0] == -1        # short one lot, filled at the bid


def test_tp_sl_in_ticks_of_the_symbol():
    trader, gate, book, paper, tap, clock = make(AutoSettings(tp_ticks=7, sl_ticks=3))
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    trader.on_signal(sig(side="buy"))                  # bought at the ask 65000.1
    t = trader.trades[1]
    assert (t.tp.price, t.sl.stop_price) == (Decimal("65000.8"), Decimal("65000.8") - Decimal("1.0"))
    assert t.tp.reduce_only and t.sl.reduce_only and t.tp.side is Side.SELL
    assert t.tag == "absorption#t-1" and trader.status()["open"][0]["signal"] == "absorption"


def _round_trip(trader, book, tap, clock, win: bool):
    """Enter long at 65000.1 and let the TP (win) or the SL (loss) take it out."""
    quote(book, tap, "65000.0", "65000.1")
    clock.t += 1_000_000_000
    trader.on_signal(sig(side="buy"))
    tid = max(trader.trades)
    if win:
        quote(book, tap, "65000.6", "65000.7")         # bid through the TP at +5 ticks
    else:
        quote(book, tap, "64999.5", "64999.6")         # bid through the SL at -5 ticks: the stop walks the bid
    assert not trader.trades[tid].open
    return trader.trades[tid]


def test_smart_martingale_sizes_and_back_to_base():
    trader, gate, book, paper, tap, clock = make(AutoSettings(smart=True, tp_ticks=5, sl_ticks=5, base_qty=Decimal("0.002")))
    trader.enable()
    t1 = _round_trip(trader, book, tap, clock, win=False)
    # lost (65000.1 - 64999.5) * 0.002 = 0.0012; one TP earns 5 * 0.1 = 0.5 per unit:
    # next = 0.002 + ceil_lot(0.0012 / 0.5 = 0.0024) = 0.002 + 0.003 = 0.005
    assert t1.pnl == Decimal("-0.0012") and trader.sizer.streak == 1
    assert trader.sizer.next_qty() == Decimal("0.005")
    t2 = _round_trip(trader, book, tap, clock, win=False)
    assert trader.trades[t2.id].filled == Decimal("0.005") and trader.sizer.streak == 2
    # losses 0.0012 + 0.6 * 0.005 = 0.0042 -> 0.002 + ceil_lot(0.0084) = 0.011
    assert trader.sizer.next_qty() == Decimal("0.011")
    t3 = _round_trip(trader, book, tap, clock, win=True)
    assert t3.pnl > 0 and trader.sizer.streak == 0 and trader.sizer.next_qty() == Decimal("0.002")


def test_martingale_capped_by_the_gate_max_qty():
    m = Martingale(Decimal("0.002"), Decimal("0.001"), Decimal("0.5"), Decimal("0.0105"), smart=True)
    m.on_result(Decimal("-100"))
    assert m.next_qty() == Decimal("0.010")
    plain = Martingale(Decimal("0.002"), Decimal("0.001"), Decimal("0.5"), Decimal("1"), smart=False)
    plain.on_result(Decimal("-100"))
    assert plain.next_qty() == Decimal("0.002") and plain.streak == 1


def test_refusal_is_logged_with_its_reason_code():
    trader, gate, book, paper, tap, clock = make(AutoSettings(base_qty=Decimal("0.1")), max_notional="1000")
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    assert trader.on_signal(sig()) is None                # 0.1 x 65000.1 > 1000
    assert trader.refused["MAX_NOTIONAL"] == 1 and paper.orders == 0
    assert [e["code"] for e in trader.take_events() if e["event"] == "refused"] == ["MAX_NOTIONAL"]


def test_unknown_fill_counted_never_applied():
    trader, gate, book, paper, tap, clock = make()
    trader.on_fill("nxSOMEONEELSE", Decimal("0.001"), Decimal("65000.0"))
    assert trader.unknown_fills == 1 and gate.fills == 0 and trader.journal == []
    assert gate.rg.position(INST.instrument_id)[0] == 0


def test_cap_crossed_forces_auto_off():
    risk = RiskSettings(cooldown_ms=0, daily_loss=Decimal("0.0001"), daily_profit=Decimal("1000"))
    trader, gate, book, paper, tap, clock = make(risk=risk)
    quote(book, tap, "65000.0", "65000.1")
    trader.enable()
    trader.on_signal(sig(side="buy"))                   # long at the ask, valued at the bid: -0.0001
    assert gate.latch == Latch.LOSS and not trader.auto and trader.status()["limit_hit"]
    assert trader.on_signal(sig()) is None and trader.skipped["auto_off"] == 1
    with pytest.raises(PermissionError):
        trader.enable()


def test_fees_make_a_gross_win_a_net_loss_for_smart_and_the_stats():
    from nexus.trade.stats import compute

    trader, gate, book, paper, tap, clock = make(AutoSettings(smart=True, tp_ticks=5, sl_ticks=5, base_qty=Decimal("0.002")))
    trader.enable()
    quote(book, tap, "65000.0", "65000.1")
    trader.on_signal(sig(side="buy"))
    tid = max(trader.trades)
    entry = next(cid for cid, (t, role) in trader.orders.items() if t == tid and role == "entry")
    # the venue's commission for the entry, itemised after the fill (the router's on_fee path)
    trader.on_fee(entry, Decimal("0.01"))
    quote(book, tap, "65000.6", "65000.7")             # the TP fills: +5 ticks x 0.002 = +0.001 gross
    t = trader.trades[tid]
    assert not t.open and t.pnl == Decimal("0.0010") and t.fees == Decimal("0.01")
    # net -0.009: SMART counts it a loss and raises the next size to recover it
    assert trader.sizer.streak == 1 and trader.sizer.next_qty() > Decimal("0.002")
    st = compute(trader.journal)["total"]
    assert (st["gross_pnl"], st["fees"], st["net_pnl"], st["pnl"], st["wins"]) == ("0.0010", "0.01", "-0.0090", "-0.0090", 0)
    # the gate's day PnL (the caps' figure) stays the trading PnL before fees
    assert gate.day_pnl() == Decimal("0.001")
    assert trader.status()["fees"] == "0.01"
