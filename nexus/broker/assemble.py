"""Build a Broker from command-line style options (used by `nexus broker serve`, the tests and
the benchmark)."""

from __future__ import annotations

import os
import secrets as _secrets
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from nexus.broker import chainfile
from nexus.broker import schema as S
from nexus.broker.chain import Chain, connect
from nexus.broker.clock import Clock, ScaledClock
from nexus.broker.context import Broker, Secrets, Settings
from nexus.broker.db import Database
from nexus.broker.errors import BrokerError
from nexus.broker.hdwallet import DepositAddressDeriver, account_xpub_from_seed
from nexus.broker.pricing import DEFAULT_PRICES, FixedPriceSource, PriceSource
from nexus._native import EXPONENT_MAX
from nexus.broker.units import CRYPTOS, SEND_UNITS_MIN, to_units
from nexus.exceptions import ConfigError

HOT_KEY_ENV = "NEXUS_BROKER_HOT_WALLET_KEY"


def hot_wallet_key() -> str:
    """The hot wallet's private key for a real chain: from NEXUS_BROKER_HOT_WALLET_KEY, or from
    the owner-only file NEXUS_BROKER_HOT_WALLET_KEY_FILE names. Held in memory only."""
    key = os.environ.get(HOT_KEY_ENV)
    if not key and os.environ.get(HOT_KEY_ENV + "_FILE"):
        from nexus.config import read_secret_file

        key = read_secret_file(os.environ[HOT_KEY_ENV + "_FILE"], HOT_KEY_ENV + "_FILE")
    if not key:
        raise ConfigError(f"--chain URL needs the hot wallet private key: set {HOT_KEY_ENV}, or "
                          f"{HOT_KEY_ENV}_FILE to an owner-only file holding it (chmod 600)")
    return key


def latest_time_us(db: Database) -> int:
    """The latest time the database has seen, so a restarted clock never runs backwards."""
    try:
        with db.read() as conn:
            if not sa.inspect(conn).has_table("status_history"):
                return 0
            return conn.execute(sa.select(sa.func.max(S.status_history.c.at_us))).scalar() or 0
    except sa.exc.SQLAlchemyError:
        return 0


def parse_prices(items: list[str]) -> dict[str, Decimal]:
    prices = dict(DEFAULT_PRICES)
    for item in items:
        crypto, _, value = item.partition("=")
        try:
            p = Decimal(value)
        except InvalidOperation:
            raise ConfigError(f"--price {item!r}: expected CRYPTO=DECIMAL, e.g. ETH=2000.00") from None
        if crypto not in prices or not p > 0:
            raise ConfigError(f"--price {item!r}: crypto must be one of {', '.join(prices)} and the price > 0")
        prices[crypto] = p
    return prices


RING_INSTRUMENT_FORM = "CRYPTO=VENUE:SYMBOL[:FX] (or VENUE:SYMBOL:EXP:FX; FX written with a point: 0.92, 1.0)"


def parse_ring_instruments(items: list[str]):
    """CRYPTO=VENUE:SYMBOL[:FX] -> {crypto: RingInstrument}; the price exponent comes from the
    ring's side file. The old CRYPTO=VENUE:SYMBOL:EXP[:FX] is still read (a third part without
    a decimal point is an exponent), and the exponent is then checked against the side file."""
    from nexus.broker.pricing import RingInstrument
    from nexus.instruments import instrument_id_of

    out = {}
    for item in items:
        crypto, _, spec = item.partition("=")
        parts = spec.split(":")
        try:
            if not 2 <= len(parts) <= 4 or not all(parts):
                raise ValueError
            venue, symbol, rest = parts[0], parts[1], parts[2:]
            exponent, fx = None, Decimal(1)
            if len(rest) == 2 or (rest and "." not in rest[0]):
                exponent = int(rest.pop(0))
            if rest:
                fx = Decimal(rest[0])
        except (ValueError, InvalidOperation):
            raise ConfigError(f"--ring-instrument {item!r}: expected {RING_INSTRUMENT_FORM}") from None
        if crypto not in DEFAULT_PRICES:
            raise ConfigError(f"--ring-instrument {item!r}: the broker carries {' and '.join(DEFAULT_PRICES)} only, not {crypto or '(none)'}")
        if not fx.is_finite() or not fx > 0 or exponent is not None and not 0 <= exponent <= EXPONENT_MAX:
            raise ConfigError(f"--ring-instrument {item!r}: FX must be > 0 and EXP between 0 and {EXPONENT_MAX}")
        out[crypto] = RingInstrument(instrument_id_of(venue, symbol), exponent, fx, f"{venue}:{symbol}")
    if not out:
        raise ConfigError("--price-ring needs at least one --ring-instrument")
    return out


def parse_send_min(items: list[str]) -> dict[str, int]:
    """CRYPTO=AMOUNT (repeatable) over the defaults -> {crypto: smallest units}."""
    out = dict(SEND_UNITS_MIN)
    for item in items:
        crypto, _, value = item.partition("=")
        if crypto not in CRYPTOS:
            raise ConfigError(f"--min-send {item!r}: expected CRYPTO=AMOUNT with CRYPTO one of {', '.join(CRYPTOS)}")
        try:
            units = to_units(value, CRYPTOS[crypto], field="--min-send")
        except BrokerError as e:
            raise ConfigError(f"--min-send {item!r}: {e.message}") from None
        if units < 1:
            raise ConfigError(f"--min-send {item!r}: the minimum must be above zero")
        out[crypto] = units
    return out


def parse_operators(items: list[str]) -> dict[str, str]:
    ops: dict[str, str] = {}
    for item in items:
        name, sep, key = item.partition("=")
        if not sep or not name or not key:
            raise ConfigError("--operator takes NAME=KEY")
        if name in ops:
            raise ConfigError(f"operator {name} given twice")
        ops[name] = key
    return ops


def make_chain(spec: str, usdt_contract: str | None, chain_path: str | None = None) -> Chain:
    """`chain_path`: the embedded chain's file (nexus.broker.chainfile); None: not persisted."""
    if spec == "sim":
        from nexus.broker.chainsim import sim_chain

        return sim_chain(chain_path)
    if not spec.startswith(("http://", "https://")):
        raise ConfigError("--chain is 'sim' or a web3 HTTP URL")
    key = hot_wallet_key()
    return connect(spec, key, usdt_contract)


def build(
    *,
    db_url: str,
    chain: Chain | str = "sim",
    api_key: str,
    operators: dict[str, str],
    callback_secret: str,
    settings: Settings | None = None,
    clock: Clock | None = None,
    prices: PriceSource | None = None,
    xpub: str | None = None,
    usdt_contract: str | None = None,
    time_scale: float = 1.0,
    chain_dir: str | None = None,
) -> Broker:
    """`chain_dir`: where `--chain sim` keeps its chain file for PostgreSQL (SQLite: beside it)."""
    db = Database(db_url)
    if clock is None:
        clock = ScaledClock(time_scale, not_before_us=latest_time_us(db))
    ch = make_chain(chain, usdt_contract, chainfile.path_for(db, chain_dir)) if isinstance(chain, str) else chain
    if xpub is None:
        if ch.sim is None:
            raise ConfigError("a production chain needs --xpub (the BIP44 account extended public key m/44'/60'/0')")
        xpub = account_xpub_from_seed(_secrets.token_bytes(32))  # sim: a throwaway wallet, in memory
    try:
        deriver = DepositAddressDeriver(xpub)
    except ValueError as e:
        raise ConfigError(f"--xpub: {e}") from None
    return Broker(
        db=db,
        clock=clock,
        prices=prices or FixedPriceSource(clock),
        chain=ch,
        deriver=deriver,
        secrets=Secrets(api_key, operators, callback_secret),
        settings=settings or Settings(),
    )
