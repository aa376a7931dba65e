"""The terminal view renders what the runtime hands it: venues, ladder (coloured by venue in
AGG mode), tape, alerts and the latest signals."""

from rich.console import Console

from nexus.view import LadderRow, ViewModel, render


def _text(vm: ViewModel) -> str:
    c = Console(record=True, width=160, color_system="truecolor")
    c.print(render(vm, depth=3))
    return c.export_text()


def test_view_shows_ladder_tape_alerts_and_signals():
    vm = ViewModel(
        title="nexus run --agg BTCUSDT", t_s=7.0,
        venues={"okx-swap": {"state": "LIVE", "msgs_per_s": 12, "latency_us_p50": 180.0, "best_bid": "64999.4",
                             "best_ask": "64999.6", "gaps": 0, "resyncs": 1}},
        bids=[LadderRow("64999.4", "1.5", {"okx-swap": 1.0})],
        asks=[LadderRow("64999.6", "0.75", {"okx-swap": 0.5, "binance-perp": 0.5})],
        tape=[{"venue": "okx-swap", "side": "buy", "price": "64999.6", "size": "0.01", "ts": 1}],
        alerts=["type=stale venue=okx-swap state=stale"],
        venue_order=["okx-swap", "binance-perp"],
        signals=[{"venue": "agg", "signal": "iceberg", "side": "sell", "price": "65000.1", "confidence": 71}],
    )
    text = _text(vm)
    for want in ("64999.4", "64999.6", "LIVE", "type=stale", "signals", "iceberg", "65000.1", "71"):
        assert want in text, want


def test_view_without_signals_has_no_signal_panel():
    vm = ViewModel("t", 1.0, {}, [], [], [])
    assert "signals" not in _text(vm)
