"""`nexus bench risk`'s signal -> order path through the auto-trader: every signal published
into a real ring becomes an order the real gate accepted and the adapter stub received, and
the latency figures are reported."""

from nexus.bench.risk import auto_signal_to_order


def test_auto_signal_to_order_reaches_the_adapter_for_every_signal():
    res = auto_signal_to_order(2_000)
    assert res["auto_signal_to_order_orders_sent"] == 2_000 and res["auto_signal_to_order_refused"] == 0
    assert 0 < res["auto_signal_to_order_ns_p50"] <= res["auto_signal_to_order_ns_p99"]
