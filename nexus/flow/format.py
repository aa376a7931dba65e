"""Exact decimal strings at the edge: quantities and prices in the venue's units, ratios as
decimal strings with a documented precision.

Ratios (OBI, VPIN) are kept by the engine as exact integer fractions num/den and printed
here rounded half-to-even to RATIO_DECIMALS = 6 decimal places, always with six digits after
the point ("0.250000", "-1.000000"): exact, not through a binary float."""

from __future__ import annotations

from nexus import _native

RATIO_DECIMALS = 6


def ratio_str(num: int, den: int, places: int = RATIO_DECIMALS) -> str | None:
    """num/den rounded half-to-even to `places` decimals; None when den == 0."""
    num, den = int(num), int(den)
    if den == 0:
        return None
    if den < 0:
        num, den = -num, -den
    neg = num < 0
    q, r = divmod(abs(num) * 10**places, den)
    if 2 * r > den or (2 * r == den and q % 2 == 1):
        q += 1
    return _native.format_fixed(-q if neg and q else q, places)


def scaled_str(v: int, exponent: int) -> str:
    """An integer at a decimal exponent as the shortest exact decimal string ("1.5", "-0.005")."""
    return _native.format_scaled(int(v), exponent)


def x100_str(v: int) -> str:
    """A ratio carried times 100 (a z-score) as a decimal string with two places."""
    return _native.format_fixed(int(v), 2)
