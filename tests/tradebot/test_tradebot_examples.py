"""Worked examples with realistic figures, computed by hand (divisions checked with `bc`)."""

from __future__ import annotations

from tb_helpers import decision


def test_eth_transfer_and_sell():
    # ETH at 2000 EUR (internal 2010), 18 decimals.
    # T = 20000 / 2000 = 10, W = 4000 / 2000 = 2 (T - W = 8, T + W = 12), M = 3 ETH.
    # min/max trade 50/10000 EUR = 0.025/5 ETH; min/max transfer 100/6000 EUR = 0.05/3 ETH.
    # H = 13.5, C = 12.75, R = 12.8 (>= 0.99 * 12.75 = 12.6225), D = 0.4, X = 4.2, XA = 3.9.
    # Rule 1: 13.5 > 12, 12.75 >= 10, 12.75 - 0.4 = 12.35 > 3: amount 13.5 - 10 = 3.5;
    #         12.8 - 3.5 = 9.3 >= 3; 3.5 > 3 -> 3; 3 >= 0.05 -> transfer 3 to the exchange.
    # Rule 2: 13.5 < 8? 13.5 - 0.4 = 13.1 < 3? no.
    # Rule 3: 13.5 + 4.2 = 17.7 > 12, 13.1 > 3: amount 7.7; > XA 3.9 -> 3.9; <= 5; > 0.025: sell.
    # Rule 4: 13.5 < 8? no. 0.4 > 4.2? no.
    # Unbalanced: |12.8 - 12.75| = 0.05 > 10^-18.
    d = decision(
        decimals=18, price="2000", internal="2010",
        target="20000", wobble="4000", min_trade="50", max_trade="10000",
        min_transfer="100", max_transfer="6000", M="3",
        H="13.5", C="12.75", R="12.8", D="0.4", X="4.2", XA="3.9", F="30000", FA="25000",
    )
    assert d == {
        "status": "ok", "reasons": [], "unbalanced": True,
        "actions": [
            {"action": "transfer_to_exchange", "amount": "3.000000000000000000"},
            {"action": "sell", "amount": "3.900000000000000000"},
        ],
    }


def test_btc_transfer_from_exchange_and_buy_limited_by_currency():
    # BTC at 37123.45 EUR (internal 36000: 37123.45 / 36000 = 1.0312.., within 25 %), 8 decimals.
    # T = 50000 / 37123.45 = 1.34685757.., W = 5000 / 37123.45 = 0.13468575..,
    # T - W = 1.21217182.., T + W = 1.48154333..; M = 0.2 BTC.
    # min/max transfer 50/10000 EUR = 0.00134685../0.26937151..; min/max trade 20/25000 EUR =
    # 0.00053874../0.67342878.. BTC.
    # H = C = R = 0.4, D = 0.05, X = XA = 0.1, exchange currency 20000 EUR.
    # Rule 1: 0.4 > 1.48? no.
    # Rule 2: 0.4 < 1.212 -> amount T - H = 0.94685..; D = 0.05 not above it; capped at XA = 0.1;
    #         0.1 <= max 0.269; 0.1 >= 0.00134 -> transfer 0.1 from the exchange.
    # Rule 3: 0.4 + 0.1 = 0.5 > 1.48? no.
    # Rule 4: 0.4 < 1.212 and X = 0.1 < T - H = 0.94685.. -> amount T - 0.5 = 0.84685757..;
    #         D - X < 0; H not above T + W; amount * P = 50000 - 18561.725 = 31438.275 fiat
    #         > 0.99 * 20000 = 19800 -> amount = 19800 / 37123.45 = 0.533355601378643..;
    #         below max 0.673; R not above H; quantized toward zero: 0.53335560 > 0.000538: buy.
    d = decision(
        price="37123.45", internal="36000",
        target="50000", wobble="5000", min_trade="20", max_trade="25000",
        min_transfer="50", max_transfer="10000", M="0.2",
        H="0.4", D="0.05", X="0.1", XA="0.1", F="20000", FA="20000",
    )
    assert d == {
        "status": "ok", "reasons": [], "unbalanced": False,
        "actions": [
            {"action": "transfer_from_exchange", "amount": "0.10000000"},
            {"action": "buy", "amount": "0.53335560"},
        ],
    }


def test_busy_and_inconsistent_wallet_is_skipped_with_every_reason():
    # An order still open, the last one finished 12.5 s ago, and the measured reserve 1.5 % below
    # the administrative balance (0.985 * 2 = 1.97 < 0.99 * 2 = 1.98): three reasons, in order.
    d = decision(open=True, age="12.5", H="2.1", C="2", R="1.97")
    assert d == {
        "status": "skipped",
        "reasons": ["open_orders_or_withdraws", "recent_order", "reserve_below_balance"],
        "unbalanced": True,
        "actions": [],
    }


def test_zero_decimal_crypto():
    # A crypto without fractions (decimals 0) at price 1: T = 100, W = 10, M = 50, transfers 2..30.
    # H = C = R = 150: rule 1 amount 150 - 100 = 50; 150 - 50 = 100 >= 50; capped at 30.
    # Rule 3: 150 > 110, 150 > 50: amount 50, capped at XA = 7 -> 7 > 1: sell 7.
    d = decision(
        decimals=0, price="1", internal="1", target="100", wobble="10", M="50",
        min_trade="1", max_trade="50", min_transfer="2", max_transfer="30",
        H="150", X="7", XA="7", F="1000", FA="1000",
    )
    assert d["actions"] == [
        {"action": "transfer_to_exchange", "amount": "30"},
        {"action": "sell", "amount": "7"},
    ]
