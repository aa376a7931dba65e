"""Shared helpers of the risk tests: one linear perp and a seeded store."""
from decimal import Decimal

from nexus.instruments import Instrument
from nexus.risk.store import RiskStore
from nexus.risk.settings import RiskSettings

# A linear perp: tick 0.1, lot 0.001 (price exponent 1, qty exponent 3).
INST = Instrument("bybit-perp", "BTCUSDT", "0.1", "0.001", contract_kind="linear", base="BTC", quote="USDT")


def seed_store(url, daily_loss="50", daily_profit="1000", now_ns=None):
    st = RiskStore(url, now_ns=now_ns)
    st.put_limits({"venue": INST.venue, "symbol": INST.symbol, "tick_size": INST.tick_size, "lot_size": INST.lot_size,
                   "contract_value": "1", "contract_kind": "linear", "quote": "USDT", "price_exponent": 1,
                   "qty_exponent": 3, "max_qty": Decimal("1"), "max_notional": Decimal("100000")})
    st.put_settings(RiskSettings(daily_loss=Decimal(daily_loss), daily_profit=Decimal(daily_profit)))
    st.close()
