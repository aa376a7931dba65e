"""Live-feed settings shared by every venue: which venue's feed spec to use (each venue
package holds its own, see nexus/venues/registry.py), `--endpoint` overrides and the
Aggregator's default venues."""

from __future__ import annotations

from nexus.exceptions import ConfigError
from nexus.venues import registry
from nexus.venues.registry import FeedSpec

AGG_DEFAULT_VENUES = ("binance-perp", "binance-spot", "bybit-perp", "okx-swap", "hyperliquid")


def spec(venue: str) -> FeedSpec:
    try:
        v = registry.venue(venue)
    except ConfigError:
        raise ConfigError(f"no live feed for venue {venue!r}; available: {', '.join(registry.names())}") from None
    return v.feed_spec()


def parse_endpoints(values: tuple[str, ...]) -> dict[str, str]:
    """`--endpoint VENUE=URL` (repeatable) -> {venue: url}."""
    out = {}
    for v in values:
        venue, sep, url = v.partition("=")
        if not sep or not url.startswith(("ws://", "wss://", "http://", "https://")):
            raise ConfigError(f"--endpoint expects VENUE=ws://host:port/path, got {v!r}")
        spec(venue)
        out[venue] = url
    return out
