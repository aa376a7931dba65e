"""Tradebot errors, under the one Nexus hierarchy (`nexus.exceptions.NexusError`)."""

from nexus.exceptions import ConfigError, NexusError


class TradebotError(NexusError):
    """Root of the Tradebot's errors."""


class SnapshotError(TradebotError, ValueError):
    """A snapshot is malformed. The message names the field (`settings.max_trade`) and why."""


class SettingsRefused(TradebotError, ConfigError):
    """Settings that the seed calls bad parameters were refused; the message lists every problem."""


class UpstreamError(TradebotError):
    """A balance source, exchange or wallet failed (maps to exit status 4 on the CLI)."""


class WorldError(TradebotError, ConfigError):
    """A world for `nexus tradebot run` cannot be built as configured (no active crypto, an
    exchange the venue simulator does not serve); the message says which."""
