"""The Tradebot decision: one snapshot in, one decision out. Pure and deterministic.

It follows the seed (shared/seeds/004, "Tradebot and Exchange behavior") line by line, with the
readings issue 8 pins where the text is ambiguous:

1. The guards ("Possible reasons why the tradebot is not executing any actions") are checked
   first, in the order of `GUARDS`; if any holds the decision is `skipped`, every guard that
   holds is reported, and nothing is done.
2. Otherwise the settings in fiat are converted to crypto by dividing by the exchange price
   (`min_confirmed_hotwallet_balance` is already crypto and is only clamped into
   [0, target - wobble]), and the four rules are evaluated on the same snapshot, in the seed's
   order. Each computes its amount step by step as written; the final amount is quantized toward
   zero (ROUND_DOWN) to the crypto's decimals, then compared with its minimum (>= for transfers,
   > for trades, as written). A non-positive amount is never emitted.

Names used below, as in the seed:
    H  total hot wallet crypto balance           C  confirmed hot wallet crypto balance
    R  confirmed crypto hot wallet reserve       D  delayed crypto being send
    X  total exchange crypto reserve             XA available exchange crypto reserve
    FA available exchange currency reserve       P  exchange (crypto) price
    T, W  BalanceTarget/WobbleCryptoValue        M  minimum confirmed hot wallet balance (clamped)

All arithmetic runs in `DECIMAL_CONTEXT`; with the input limits of `snapshot`, sums and
differences of inputs are exact and only the divisions by the price round (at
DECIMAL_PRECISION significant digits, half-even), far below any crypto's smallest unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from nexus.tradebot.snapshot import (
    DECIMAL_PRECISION,
    STATUS_OK,
    STATUS_SKIPPED,
    Action,
    Decision,
    Snapshot,
    dec_str,
)

DECIMAL_CONTEXT = Context(
    prec=DECIMAL_PRECISION,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

RECENT_ORDER_S = Decimal(60)  # "The previous finished order is less than 1 minute old"
PRICE_DIVERGENCE_MAX = Decimal("0.25")  # "differ more than 25%": |exchange / internal - 1| > 0.25
RESERVE_MIN_OF_BALANCE = Decimal("0.99")  # "reserve is less than 99% of the ... balance"
CURRENCY_USABLE = Decimal("0.99")  # rule 4: "we leave 1% to allow for fees"

ZERO = Decimal(0)


def _price_unknown(s: Snapshot) -> bool:
    # "The exchange price or internal price is unknown or equals zero." A negative price is no
    # more usable than a zero one (and would flip every fiat -> crypto conversion), so it is
    # reported here too.
    return any(p is None or p <= 0 for p in (s.exchange_price, s.internal_price))


def _price_divergence(s: Snapshot) -> bool:
    if _price_unknown(s):
        return False  # not computable; price_unknown already skips
    assert s.exchange_price is not None and s.internal_price is not None
    return abs(s.exchange_price / s.internal_price - 1) > PRICE_DIVERGENCE_MAX


def _bad_limits(lo: Decimal, hi: Decimal) -> bool:
    # "MaxTradeCryptoValue equals 0 or ... is less than the MinTradeCryptoValue". Dividing by a
    # positive price keeps both "= 0" and the order, so the fiat values are compared exactly;
    # this also lets the guard be reported when the price is unknown.
    return hi == 0 or hi < lo


def _bad_balance_params(s: Snapshot) -> bool:
    p = s.settings
    # Checked on the configured minimum, before the clamp (after it, it can never be < 0).
    # Target and wobble compared in fiat, as for the limits above.
    return (
        p.min_confirmed_hotwallet_balance < 0
        or p.balance_target < 0
        or p.balance_wobble < 0
        or p.balance_wobble > p.balance_target
    )


# The guards, in the order issue 8 names them (the seed's list, top to bottom). Read it as a
# table: name, then the condition under which the Tradebot does nothing.
GUARDS: tuple[tuple[str, Callable[[Snapshot], bool]], ...] = (
    ("inactive", lambda s: not s.flags.active),
    ("open_orders_or_withdraws", lambda s: s.flags.open_orders_or_withdraws),
    (
        "recent_order",
        lambda s: s.flags.last_order_age_s is not None and s.flags.last_order_age_s < RECENT_ORDER_S,
    ),
    ("missing_hotwallet_deposits", lambda s: s.flags.missing_hotwallet_deposits),
    ("missing_exchange_deposits", lambda s: s.flags.missing_exchange_deposits),
    ("price_unknown", _price_unknown),
    ("price_divergence", _price_divergence),
    ("bad_trade_limits", lambda s: _bad_limits(s.settings.min_trade, s.settings.max_trade)),
    ("bad_transfer_limits", lambda s: _bad_limits(s.settings.min_transfer, s.settings.max_transfer)),
    (
        "hotwallet_negative",
        lambda s: min(
            s.state.hotwallet_confirmed_reserve,
            s.state.hotwallet_confirmed_balance,
            s.state.hotwallet_total_balance,
            s.state.delayed_send,
        )
        < 0,
    ),
    (
        "hotwallet_total_below_confirmed",
        lambda s: s.state.hotwallet_total_balance < s.state.hotwallet_confirmed_balance,
    ),
    (
        "reserve_below_balance",
        lambda s: s.state.hotwallet_confirmed_reserve < RESERVE_MIN_OF_BALANCE * s.state.hotwallet_confirmed_balance,
    ),
    ("bad_balance_params", _bad_balance_params),
    (
        "exchange_negative",
        lambda s: s.state.exchange_crypto_total < 0 or s.state.exchange_currency_total < 0,
    ),
)
GUARD_NAMES = tuple(name for name, _ in GUARDS)


@dataclass(frozen=True, slots=True)
class CryptoTerms:
    """The settings in crypto: the seed's *CryptoValue terms, and M after its clamp."""

    target: Decimal
    wobble: Decimal
    min_trade: Decimal
    max_trade: Decimal
    min_transfer: Decimal
    max_transfer: Decimal
    min_confirmed: Decimal


def crypto_terms(s: Snapshot) -> CryptoTerms:
    """Fiat settings / exchange price; the minimum confirmed balance clamped.

    Seed: "If the minimum confirmed crypto balance of the hot wallet is ever more than
    BalanceTargetCryptoValue minus the BalanceWobbleCryptoValue, then we set [it] equal to
    [that]. And if this value is less than 0, then we set [it] as 0." -> clamp into [0, T - W].
    Requires a positive exchange price (the price_unknown guard).
    """
    p = s.exchange_price
    assert p is not None and p > 0
    with localcontext(DECIMAL_CONTEXT):
        st = s.settings
        target, wobble = st.balance_target / p, st.balance_wobble / p
        m = st.min_confirmed_hotwallet_balance
        if m > target - wobble:
            m = target - wobble
        if m < 0:
            m = ZERO
        return CryptoTerms(
            target=target,
            wobble=wobble,
            min_trade=st.min_trade / p,
            max_trade=st.max_trade / p,
            min_transfer=st.min_transfer / p,
            max_transfer=st.max_transfer / p,
            min_confirmed=m,
        )


def guards_holding(s: Snapshot) -> tuple[str, ...]:
    with localcontext(DECIMAL_CONTEXT):
        return tuple(name for name, holds in GUARDS if holds(s))


def is_unbalanced(s: Snapshot) -> bool:
    """'Unbalanced': |confirmed reserve - confirmed balance| exceeds one smallest unit."""
    with localcontext(DECIMAL_CONTEXT):
        unit = Decimal(1).scaleb(-s.decimals)
        return abs(s.state.hotwallet_confirmed_reserve - s.state.hotwallet_confirmed_balance) > unit


def _quantize(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)


# A rule returns the action it emits, or a note saying why its condition held but nothing was
# emitted, or (None, None) when its condition does not hold.
RuleResult = tuple[Action | None, str | None]


def _emit(kind: str, amount: Decimal, decimals: int, minimum: Decimal, inclusive: bool) -> RuleResult:
    q = _quantize(amount, decimals)
    if q <= 0:
        return None, f"{kind}: amount {dec_str(q)} is not positive"
    if q > minimum or (inclusive and q == minimum):
        return Action(kind, q), None
    cmp = "below" if inclusive else "not above"
    return None, f"{kind}: amount {dec_str(q)} {cmp} the minimum {_shown(minimum, decimals)}"


NOTE_EXTRA_DIGITS = 4  # a converted minimum is shown to the crypto's decimals + this, then "..."


def _shown(value: Decimal, decimals: int) -> str:
    short = value.quantize(Decimal(1).scaleb(-(decimals + NOTE_EXTRA_DIGITS)), rounding=ROUND_DOWN)
    return dec_str(short) + ("" if short == value else "...")


def rule_transfer_to_exchange(s: Snapshot, t: CryptoTerms) -> RuleResult:
    """1. The hot wallet crypto balance is too high."""
    H, C, R, D = _hot(s)
    T, W, M = t.target, t.wobble, t.min_confirmed
    if not (H > T + W and C >= T and C - D > M):
        return None, None
    amount = H - T
    if R - amount < M:
        amount = R - M
    if amount > t.max_transfer:
        amount = t.max_transfer
    return _emit("transfer_to_exchange", amount, s.decimals, t.min_transfer, inclusive=True)


def rule_transfer_from_exchange(s: Snapshot, t: CryptoTerms) -> RuleResult:
    """2. The hot wallet crypto balance is too low ("or/and" read as an inclusive or)."""
    H, _, _, D = _hot(s)
    T, W, M = t.target, t.wobble, t.min_confirmed
    XA = s.state.exchange_crypto_available
    if not (H < T - W or H - D < M):
        return None, None
    amount = T - H
    if D > amount and H - D < M:
        amount = D
    if amount > XA:
        amount = XA
    if amount > t.max_transfer:
        amount = t.max_transfer
    return _emit("transfer_from_exchange", amount, s.decimals, t.min_transfer, inclusive=True)


def rule_sell(s: Snapshot, t: CryptoTerms) -> RuleResult:
    """3. The physical crypto balance is too high: sell on the primary exchange."""
    H, _, _, D = _hot(s)
    T, W, M = t.target, t.wobble, t.min_confirmed
    X, XA = s.state.exchange_crypto_total, s.state.exchange_crypto_available
    if not (H + X > T + W and H - D > M):
        return None, None
    amount = (H + X) - T
    if amount > XA:
        amount = XA
    if amount > t.max_trade:
        amount = t.max_trade
    return _emit("sell", amount, s.decimals, t.min_trade, inclusive=False)


def rule_buy(s: Snapshot, t: CryptoTerms) -> RuleResult:
    """4. The physical crypto balance is too low: buy on the primary exchange.

    Condition read with the seed's semicolon as the outer split:
    (H < T - W and X < T - H) or (D > X and H - D < MinTransfer).
    """
    H, _, R, D = _hot(s)
    T, W = t.target, t.wobble
    X, FA = s.state.exchange_crypto_total, s.state.exchange_currency_available
    P = s.exchange_price
    assert P is not None
    if not ((H < T - W and X < T - H) or (D > X and H - D < t.min_transfer)):
        return None, None
    amount = T - (H + X)
    if D - X > amount and H - D < t.min_transfer:
        amount = D - X
    if H > T + W:
        amount = D - (H - T)  # issue 8: "delayed - (hot total - target)"
    if amount * P > CURRENCY_USABLE * FA:
        amount = CURRENCY_USABLE * FA / P
    if amount > t.max_trade:
        amount = t.max_trade
    if R > H and R - D > T + W:
        amount = ZERO
    return _emit("buy", amount, s.decimals, t.min_trade, inclusive=False)


def _hot(s: Snapshot) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    st = s.state
    return (
        st.hotwallet_total_balance,
        st.hotwallet_confirmed_balance,
        st.hotwallet_confirmed_reserve,
        st.delayed_send,
    )


RULES = (rule_transfer_to_exchange, rule_transfer_from_exchange, rule_sell, rule_buy)


def decide(s: Snapshot) -> Decision:
    """Guards first (every one that holds reported), then the four rules in the seed's order."""
    with localcontext(DECIMAL_CONTEXT):
        unbalanced = is_unbalanced(s)
        reasons = guards_holding(s)
        if reasons:
            return Decision(STATUS_SKIPPED, reasons, unbalanced, ())
        terms = crypto_terms(s)
        actions: list[Action] = []
        notes: list[str] = []
        for rule in RULES:
            action, note = rule(s, terms)
            if action is not None:
                actions.append(action)
            if note is not None:
                notes.append(note)
        return Decision(STATUS_OK, (), unbalanced, tuple(actions), tuple(notes))
