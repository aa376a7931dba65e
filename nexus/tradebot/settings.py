"""Per-crypto Tradebot settings, validated when set.

The seed's bad-parameter cases ("Possible reasons why the tradebot is not executing any
actions") are refused here, when an operator sets them, and not only skipped at run time:

- max trade equals 0 or is below min trade                 (guard `bad_trade_limits`)
- max transfer equals 0 or is below min transfer           (guard `bad_transfer_limits`)
- min confirmed balance, target or wobble below 0, or wobble above target (`bad_balance_params`)

and so is the seed's standing assumption, "We assume the MinTradeCryptoValue, MaxTradeCryptoValue,
MinTransferCryptoValue and MaxTransferCryptoValue are all more than 0": a minimum or maximum of
0 or below is refused too. The decision still checks the guards on every run (a snapshot can come
from anywhere), so a refusal here and a `skipped` there never disagree.

Amounts are in the trade pair's fiat currency except `min_confirmed_hotwallet_balance` (crypto).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from nexus.tradebot.errors import SettingsRefused, SnapshotError
from nexus.tradebot.snapshot import SnapshotSettings, check_amount, dec_str, parse_decimal

NAME_CHARS_MAX = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}\Z" % (NAME_CHARS_MAX - 1))

# The amount fields, in the order the settings page and `settings show` list them.
AMOUNT_FIELDS = (
    "balance_target",
    "balance_wobble",
    "min_trade",
    "max_trade",
    "min_transfer",
    "max_transfer",
    "min_confirmed_hotwallet_balance",
)


@dataclass(frozen=True, slots=True)
class CryptoSettings:
    crypto: str  # the crypto's code, e.g. "BTC"
    exchange: str  # venue id of the primary exchange, e.g. "kraken"
    currency: str  # the fiat of the trade pair, e.g. "EUR"
    balance_target: Decimal  # fiat
    balance_wobble: Decimal  # fiat
    min_trade: Decimal  # fiat
    max_trade: Decimal  # fiat
    min_transfer: Decimal  # fiat
    max_transfer: Decimal  # fiat
    min_confirmed_hotwallet_balance: Decimal  # crypto
    active: bool = False  # the Tradebot acts only on an explicit opt-in

    def snapshot_settings(self) -> SnapshotSettings:
        return SnapshotSettings(**{name: getattr(self, name) for name in AMOUNT_FIELDS})

    def to_obj(self) -> dict[str, Any]:
        return {f.name: dec_str(v) if isinstance(v := getattr(self, f.name), Decimal) else v for f in fields(self)}


AGG_NAMES = frozenset({"agg", "aggregator", "consensus"})


def agg_refusal() -> str:
    """The Aggregator's own refusal message for an order request in AGG mode."""
    from nexus.agg.aggregator import AggOrderRefused, refuse_order_in_agg

    try:
        refuse_order_in_agg()
    except AggOrderRefused as e:
        return str(e)
    raise AssertionError("refuse_order_in_agg did not refuse")


def known_names() -> dict[str, tuple[str, ...]]:
    """What a setting may name: an exchange is a venue nexus has (nexus/venues); the currency is
    the broker's fiat, the one its internal price is in (the divergence guard compares the
    two prices); a crypto is one the broker carries or one the venue simulator has a market
    for (paper worlds)."""
    from nexus.broker.units import CRYPTOS, FIATS
    from nexus.sim.specs import SYMBOLS
    from nexus.venues import VENUE_IDS

    return {"exchange": tuple(VENUE_IDS), "currency": tuple(FIATS),
            "crypto": tuple(sorted(set(CRYPTOS) | {base for base, _, _ in SYMBOLS.values()}))}


def problems(s: CryptoSettings) -> list[str]:
    """Every reason these settings would be refused (empty: acceptable)."""
    out: list[str] = []
    known = known_names()
    for name in ("crypto", "exchange", "currency"):
        value = getattr(s, name)
        if not isinstance(value, str) or not _NAME.match(value):
            out.append(f"{name}: expected 1-{NAME_CHARS_MAX} letters, digits, '.', '_' or '-', got {value!r}")
        elif name == "exchange" and value.lower() in AGG_NAMES:
            # The Tradebot places orders on its exchange; the Aggregator's consensus is data-only.
            out.append(f"exchange {value!r}: {agg_refusal()}")
        elif value not in known[name]:
            out.append(f"{name} {value!r} is unknown (known: {', '.join(known[name])})")
    if not isinstance(s.active, bool):
        out.append(f"active: expected true or false, got {s.active!r}")
    bad_amount = False
    for name in AMOUNT_FIELDS:
        try:
            check_amount(getattr(s, name), name)
        except SnapshotError as e:
            out.append(str(e))
            bad_amount = True
    if bad_amount:
        return out
    for kind in ("trade", "transfer"):
        lo, hi = getattr(s, f"min_{kind}"), getattr(s, f"max_{kind}")
        if hi == 0 or hi < lo:
            out.append(f"max_{kind} {dec_str(hi)} is 0 or below min_{kind} {dec_str(lo)} (bad_{kind}_limits)")
        if lo <= 0:  # with the check above, this also covers every max <= 0
            out.append(f"min_{kind} {dec_str(lo)} must be more than 0 (the seed assumes it)")
    for name in ("min_confirmed_hotwallet_balance", "balance_target", "balance_wobble"):
        if getattr(s, name) < 0:
            out.append(f"{name} {dec_str(getattr(s, name))} is below 0 (bad_balance_params)")
    if s.balance_wobble > s.balance_target:
        out.append(
            f"balance_wobble {dec_str(s.balance_wobble)} is above balance_target "
            f"{dec_str(s.balance_target)} (bad_balance_params)"
        )
    return out


def validated(s: CryptoSettings) -> CryptoSettings:
    found = problems(s)
    if found:
        raise SettingsRefused(f"settings for {s.crypto!s} refused: " + "; ".join(found))
    return s


def settings_from_obj(obj: dict[str, Any], base: CryptoSettings | None = None) -> CryptoSettings:
    """Build (or update `base` with) settings from strings/JSON values, then validate.

    Amounts are decimal strings (JSON numbers accepted); every field is required for a new
    crypto. Unknown fields are refused.
    """
    names = {f.name for f in fields(CryptoSettings)}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise SettingsRefused(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(names))}")
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name, raw in obj.items():
        if name in AMOUNT_FIELDS:
            try:
                values[name] = parse_decimal(raw, name)
            except SnapshotError as e:
                errors.append(str(e))
        elif name == "active":
            if isinstance(raw, str) and raw.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                raw = raw.lower() in ("true", "yes", "on", "1")
            if not isinstance(raw, bool):
                errors.append(f"active: expected true or false, got {raw!r}")
            values[name] = raw
        else:
            values[name] = raw
    if errors:
        raise SettingsRefused("; ".join(errors))
    if base is None:
        missing = [n for n in sorted(names - {"active"}) if n not in values]
        if missing:
            raise SettingsRefused(f"a new crypto needs every setting; missing: {', '.join(missing)}")
        return validated(CryptoSettings(**values))
    if "crypto" in values and values["crypto"] != base.crypto:
        raise SettingsRefused(f"cannot rename {base.crypto} to {values['crypto']}")
    return validated(replace(base, **values))
