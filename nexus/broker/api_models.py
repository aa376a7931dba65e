"""Request and response bodies of the broker API (they are its OpenAPI document)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from nexus.broker.orders import OPERATOR_ACTIONS
from nexus.broker.states import ALL_STATUSES, KINDS
from nexus.broker.units import AMOUNT_PATTERN

Crypto = Literal["ETH", "USDT"]
Kind = Literal[KINDS]  # type: ignore[valid-type]
Status = Literal[ALL_STATUSES]  # type: ignore[valid-type]
Action = Literal[OPERATOR_ACTIONS]  # type: ignore[valid-type]

CODE_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
URL_PATTERN = r"^https?://[!-~]{1,1990}$"  # printable ASCII only
METHOD_PATTERN = r"^[a-z0-9_\-]{1,40}$"


def Amount(default=...):  # noqa: N802 - reads like a type in the models
    return Field(default, pattern=AMOUNT_PATTERN, description='decimal string, e.g. "12.50"', examples=["100.00"])


class Strict(BaseModel):
    """Request bodies: unknown fields refused, no type coercion (false is not 0, 1 is not "1")."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class CustomerIn(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=200)
    merchant: bool = False


class CustomerOut(BaseModel):
    code: str
    name: str
    email: str
    merchant: bool
    created_at: str


class AccountIn(Strict):
    crypto: Crypto
    withdraw_address: str = Field(pattern=ADDRESS_PATTERN)
    callback_url: Optional[str] = Field(None, pattern=URL_PATTERN, description="for spontaneous deposits and gifts")


class AccountOut(BaseModel):
    account_code: str
    customer_code: str
    crypto: Crypto
    native: bool
    deposit_address: str
    withdraw_address: str
    active: bool
    deleted_transactions: Optional[list[str]] = None


class PriceOut(BaseModel):
    crypto: Crypto
    fiat: str
    buy_price: str
    sell_price: str
    at: str


class BuyIn(Strict):
    account_code: str = Field(pattern=CODE_PATTERN)
    payment_method: str = Field(pattern=METHOD_PATTERN)
    fiat_amount: Optional[str] = Amount(None)
    crypto_amount: Optional[str] = Amount(None)
    callback_url: Optional[str] = Field(None, pattern=URL_PATTERN)


class SellIn(Strict):
    account_code: str = Field(pattern=CODE_PATTERN)
    payment_method: str = Field(pattern=METHOD_PATTERN)
    crypto_amount: str = Amount()
    callback_url: Optional[str] = Field(None, pattern=URL_PATTERN)


class GiftIn(Strict):
    account_code: str = Field(pattern=CODE_PATTERN)
    fiat_amount: Optional[str] = Amount(None)
    crypto_amount: Optional[str] = Amount(None)
    callback_url: Optional[str] = Field(None, pattern=URL_PATTERN)


class QuoteOut(BaseModel):
    transaction_code: Optional[str]
    type: Kind
    status: Optional[Status]
    crypto: Crypto
    fiat: str
    price: str
    fee: str
    fiat_amount: str
    crypto_amount: str
    quote_expires_at: Optional[str]
    account_code: Optional[str] = None
    deposit_address: Optional[str] = None


class HistoryItem(BaseModel):
    status: Status
    at: str
    by: str
    event: str


class TransactionOut(BaseModel):
    transaction_code: str
    type: Kind
    status: Status
    account_code: str
    customer_code: str
    payment_method: Optional[str]
    crypto: Crypto
    fiat: str
    price: str
    fee: str
    fiat_amount: str
    crypto_amount: str
    quote_expires_at: Optional[str]
    deposit_address: Optional[str]
    withdraw_address: str
    callback_url: Optional[str]
    created_at: str
    updated_at: str
    history: Optional[list[HistoryItem]] = None


class TransactionList(BaseModel):
    transactions: list[TransactionOut]


class DeliveryAttempt(BaseModel):
    attempt: int
    at: str
    http_status: Optional[int]
    error: Optional[str]
    duration_ms: int


class CallbackOut(BaseModel):
    id: int
    url: str
    state: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: Optional[str]
    delivered_at: Optional[str]
    last_error: Optional[str]
    body: str
    log: list[DeliveryAttempt]


class CallbackLog(BaseModel):
    transaction_code: str
    callbacks: list[CallbackOut]


class PaymentMethodIn(Strict):
    fiat: Literal["EUR"] = "EUR"
    quote_window_s: int = Field(ge=1, le=86_400)
    fee_rate: str = Field(pattern=r"^0(\.[0-9]{1,6})?$", description="fraction, e.g. 0.01 for 1%")
    fee_fixed: str = Amount()
    callback_url: Optional[str] = Field(None, pattern=URL_PATTERN)


class PaymentMethodOut(BaseModel):
    code: str
    fiat: str
    quote_window_s: int
    fee_rate: str
    fee_fixed: str
    callback_url: Optional[str]


class CryptoSettingsIn(Strict):
    send_delay_s: int = Field(ge=0, le=86_400)


class CryptoSettingsOut(BaseModel):
    crypto: Crypto
    send_delay_s: int


class BalancesOut(BaseModel):
    """What the Tradebot reads: the administrative balances beside the measured reserve."""

    crypto: Crypto
    hot_wallet_address: str
    hotwallet_confirmed_balance: str
    hotwallet_total_balance: str  # plus incoming unconfirmed Sells (Confirming, Blocked)
    delayed_send: str  # subtracted from the administrative balance, not yet mined
    hotwallet_confirmed_reserve: str  # measured on chain: hot wallet + deposit addresses
    exchange: str
    coldstore: str
    unbalanced: bool  # |confirmed reserve - (confirmed balance + delayed send)| > one smallest unit


Reserve = Literal["hot_wallet", "exchange", "coldstore"]


class TransferIn(Strict):
    crypto: Crypto
    from_account: Reserve
    to_account: Reserve
    amount: str = Amount()
    memo: Optional[str] = Field(None, pattern=r"^[ -~]{1,120}$")


class DepositOut(BaseModel):
    tx_hash: str
    log_index: int
    crypto: Crypto
    address: str
    amount: str
    block_number: int
    state: Literal["assigned", "unassigned"]
    transaction_code: Optional[str]
    note: Optional[str]
    detected_at: str


class DepositList(BaseModel):
    deposits: list[DepositOut]


class SimDepositIn(Strict):
    address: str = Field(pattern=ADDRESS_PATTERN)
    crypto: Crypto
    amount: str = Amount()


class SimDepositOut(BaseModel):
    tx_hash: str
    block_number: int


SIM_MINE_BLOCKS_MAX = 100  # one request's work on the in-process chain


class SimMineIn(Strict):
    blocks: int = Field(ge=1, le=SIM_MINE_BLOCKS_MAX)


class SimMineOut(BaseModel):
    block_number: int


class SimPriceIn(Strict):
    mid: str = Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,8})?$")


# -- validation errors a person understands ---------------------------------------------------

AMOUNT_FIELDS = {"fiat_amount", "crypto_amount", "amount", "fee_fixed"}
_FORMATS = {  # what a string field must look like, said in words (never the raw pattern)
    "withdraw_address": "an Ethereum address: 0x followed by 40 hexadecimal digits",
    "address": "an Ethereum address: 0x followed by 40 hexadecimal digits",
    "callback_url": "an http:// or https:// URL of printable ASCII characters, at most 2000 long",
    "code": "1 to 64 letters, digits, '_', '.' or '-'",
    "account_code": "1 to 64 letters, digits, '_', '.' or '-'",
    "customer": "1 to 64 letters, digits, '_', '.' or '-'",
    "payment_method": "1 to 40 lower-case letters, digits, '_' or '-'",
    "fee_rate": 'a fraction below 1 with at most 6 decimals, e.g. "0.01" for 1 %',
    "mid": 'a positive decimal price like "2000.50"',
    "memo": "1 to 120 printable ASCII characters",
}


def explain(err: dict) -> str:
    """One pydantic/FastAPI validation error as a sentence naming the field."""
    loc = [str(x) for x in err.get("loc", ())]
    field = ".".join(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ".".join(loc)
    name = loc[-1] if loc else ""
    kind, value = err.get("type", ""), err.get("input")
    if kind == "missing":
        return f"{field} is required" if field else "the request body is missing: a JSON object is expected"
    if kind == "extra_forbidden":
        return f"{field}: unknown field"
    if name in AMOUNT_FIELDS and kind in ("string_pattern_mismatch", "string_type"):
        if isinstance(value, str) and value.strip().startswith("-"):
            return f"{field} must be a positive amount, not {value}"
        if not isinstance(value, str):
            return f'{field} must be a decimal string like "12.50", not a JSON {type(value).__name__}'
        return f'{field}: {value!r} is not a plain decimal amount like "12.50" (digits and one optional point; no sign or exponent; at most 18 decimals)'
    if kind == "string_pattern_mismatch":
        return f"{field}: {value!r} is not {_FORMATS.get(name, 'in the expected format')}"
    if kind == "model_attributes_type" and not field:
        return "the request body must be a JSON object"
    msg = str(err.get("msg", "invalid")).replace("Input should", "should").replace("String should", "should")
    return f"{field} {msg}" if field else msg
