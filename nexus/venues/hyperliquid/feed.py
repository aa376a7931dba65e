"""Hyperliquid WebSocket: where to connect and what to subscribe. Source: Hyperliquid
"WebSocket" docs (l2Book and trades subscriptions; connections are closed after 60 s
without a message).

HIP-3 builder-deployed dexs: an asset of a dex is named "<dex>:<coin>" ("xyz:XYZ100"), the
same name in l2Book and trades subscriptions. `--symbol nxs:BTCUSDT` subscribes the coin
"nxs:BTC". Instruments come from `POST /info {"type":"meta"}`, with `"dex":"<dex>"` for a
dex asset (Info endpoint > Perpetuals: "Retrieve perpetuals metadata", field `dex`, "Perp
dex name. Defaults to the empty string which represents the first perp dex")."""

from __future__ import annotations

from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol



def dex_of(coin: str) -> str:
    """The HIP-3 dex of a coin name ("xyz:XYZ100" -> "xyz"); "" for the first (main) dex."""
    dex, sep, _ = coin.partition(":")
    return dex if sep else ""


def meta_request(coin: str) -> bytes:
    dex = dex_of(coin)
    return compact_json({"type": "meta", "dex": dex} if dex else {"type": "meta"})


FEED = FeedSpec(
    "hyperliquid",
    "wss://api.hyperliquid.xyz/ws",
    "https://api.hyperliquid.xyz",
    lambda c: split_symbol(c)[0],
    lambda sym: [
        compact_json({"method": "subscribe", "subscription": {"type": "l2Book", "coin": sym}}),
        compact_json({"method": "subscribe", "subscription": {"type": "trades", "coin": sym}}),
    ],
    Heartbeat(30, compact_json({"method": "ping"}), b'"pong"'),
    instruments_path=lambda sym: "/info",
    instruments_body=lambda sym: meta_request(sym),
)
