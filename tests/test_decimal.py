from decimal import Decimal, localcontext

import pytest
from hypothesis import example, given, strategies as st

from nexus import _native
from nexus.exceptions import DecimalError


def reference(s: str, exp: int) -> int:
    # exact: scaleb rounds to the context's precision (28 digits by default), which would make
    # '1953124.99999999999999999999950039...' the integer 1953125
    with localcontext(prec=200):
        scaled = Decimal(s).scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise DecimalError("off grid")
    if not -(2**63) <= scaled < 2**63:
        raise DecimalError("out of range")
    return int(scaled)


@given(st.integers(min_value=-(2**62), max_value=2**62), st.integers(0, 12))
def test_format_then_parse_round_trips(v, exp):
    s = _native.format_scaled(v, exp)
    assert _native.parse_scaled(s, exp) == v
    assert Decimal(s) == Decimal(v).scaleb(-exp)
    fixed = _native.format_fixed(v, exp)
    assert _native.parse_scaled(fixed, exp) == v
    assert len(fixed.split(".")[1]) == exp if exp else "." not in fixed


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**9, max_value=10**9), st.integers(0, 10))
@example(Decimal("1953124.9999999999999999999995003977864102008944093634"), 0)   # found by CI: off grid
def test_parse_agrees_with_decimal_or_refuses(d, exp):
    s = format(d, "f")
    try:
        want = reference(s, exp)
    except DecimalError:
        with pytest.raises(DecimalError):
            _native.parse_scaled(s, exp)
        return
    assert _native.parse_scaled(s, exp) == want


@given(st.text(max_size=12))
def test_garbage_is_refused_never_misread(s):
    try:
        v = _native.parse_scaled(s, 4)
    except DecimalError:
        return
    assert Decimal(s).scaleb(4) == v  # anything accepted must be exactly right


@pytest.mark.parametrize("bad", ["", "-", ".", "1.2.3", "1,5", "NaN", "inf", "0x10", "1e", " 1"])
def test_malformed_strings_raise_decimal_error(bad):
    with pytest.raises(DecimalError):
        _native.parse_scaled(bad, 2)


def test_off_grid_is_an_error_not_a_rounding():
    with pytest.raises(DecimalError, match="more decimal places"):
        _native.parse_scaled("0.125", 2)
    assert _native.parse_scaled("0.12000", 2) == 12  # trailing zeros are not precision
    assert _native.parse_scaled("0.120", 2) == 12
