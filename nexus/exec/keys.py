"""API keys in memory only: read from environment variables, or typed at a prompt / piped on
standard input, never from a command-line argument (visible to every user in `ps`), never
written anywhere.

Environment variable names, per venue package (binance-spot and binance-perp share Binance's
keys, as the seed's matrix says):

    NEXUS_<PKG>_API_KEY, NEXUS_<PKG>_API_SECRET, NEXUS_<PKG>_API_PASSPHRASE (OKX, Bitget, KuCoin)

e.g. NEXUS_BINANCE_API_KEY / NEXUS_BINANCE_API_SECRET. A token venue (TOKEN_VENUES: FXCM,
whose REST API takes one persistent access token) reads that token from its own variable
(NEXUS_FXCM_TOKEN, the one its market data uses) or one line of standard input; the token is
the credentials' secret and the key id is a fingerprint of it (`token_id`), never the token.
`Credentials` shows a masked key id in
its repr, refuses to be pickled, and no message raised here holds a key: messages name the
variables only.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sys
from typing import Mapping, TextIO

from nexus.exceptions import NexusError
from nexus.exec.signing.base import mask

ENV_PREFIX = "NEXUS_"
PASSPHRASE_VENUES = frozenset({"okx-swap", "bitget", "kucoin"})
TOKEN_VENUES = {"fxcm": "NEXUS_FXCM_TOKEN"}     # venue -> the variable holding its access token
TOKEN_ID_HEX = 16


class KeysMissing(NexusError):
    """No credentials were given (the message says how to give them)."""


class Credentials:
    """An API key, its secret and passphrase. The secret is handed to a signer once
    (`take_secret`) and then forgotten here."""

    __slots__ = ("venue", "api_key", "_secret", "_passphrase")

    def __init__(self, venue: str, api_key: str, secret: str, passphrase: str | None = None) -> None:
        self.venue = venue
        self.api_key = api_key
        self._secret = secret
        self._passphrase = passphrase

    @property
    def secret(self) -> str:
        if self._secret is None:
            raise KeysMissing(f"{self.venue}: the secret was already handed to a signer")
        return self._secret

    @property
    def passphrase(self) -> str | None:
        return self._passphrase

    def forget(self) -> None:
        """Drop the secret and passphrase (the signer holds what it needs)."""
        self._secret = None
        self._passphrase = None

    def __repr__(self) -> str:
        return f"<Credentials venue={self.venue} api_key={mask(self.api_key)} secret=***>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("Credentials hold keys and cannot be pickled")


def env_names(venue: str) -> tuple[str, str, str]:
    """The environment variables holding `venue`'s key, secret and passphrase."""
    pkg = venue.split("-")[0].upper()
    base = f"{ENV_PREFIX}{pkg}_API_"
    return base + "KEY", base + "SECRET", base + "PASSPHRASE"


def token_id(token: str) -> str:
    """A token venue's key id: a fingerprint of the token (shown, masked, where a key id is)."""
    return "tok" + hashlib.sha256(token.encode()).hexdigest()[:TOKEN_ID_HEX]


def _load_token(venue: str, env: Mapping[str, str], stdin: TextIO | None, prompt: bool) -> Credentials:
    var = TOKEN_VENUES[venue]
    token = env.get(var, "")
    if not token and stdin is not None:
        token = stdin.readline().strip()
        if not token:
            raise KeysMissing(f"{venue}: standard input must hold the access token on its first line")
    if not token and prompt and sys.stdin.isatty():
        token = getpass.getpass(f"{venue} access token (not echoed): ").strip()
    if not token:
        raise KeysMissing(f"no access token for {venue}: set {var} in the environment, or pipe it with "
                          "--keys-stdin; tokens are never taken as arguments")
    return Credentials(venue, token_id(token), token)


def load(venue: str, *, env: Mapping[str, str] | None = None, stdin: TextIO | None = None,
         prompt: bool = False) -> Credentials:
    """`venue`'s credentials from the environment; else, with `stdin`, one value per line
    (key, secret, and passphrase where the venue has one); else, with `prompt`, typed without
    echo. Nothing else: never an argument, never a file. A token venue: its token (see above)."""
    env = os.environ if env is None else env
    if venue in TOKEN_VENUES:
        return _load_token(venue, env, stdin, prompt)
    key_var, secret_var, pass_var = env_names(venue)
    needs_pass = venue in PASSPHRASE_VENUES
    key, secret, passphrase = env.get(key_var, ""), env.get(secret_var, ""), env.get(pass_var) or None
    if key and secret:
        if needs_pass and not passphrase:
            raise KeysMissing(f"{venue} needs a passphrase too ({pass_var}): without it the venue fails "
                              "silently (seed, Troubleshooting)")
        return Credentials(venue, key, secret, passphrase)
    if stdin is not None:
        lines = [stdin.readline().strip() for _ in range(3 if needs_pass else 2)]
        if all(lines):
            return Credentials(venue, lines[0], lines[1], lines[2] if needs_pass else None)
        raise KeysMissing(f"{venue}: standard input must hold the API key and secret"
                          f"{' and passphrase' if needs_pass else ''}, one per line")
    if prompt and sys.stdin.isatty():
        key = input(f"{venue} API key: ").strip()
        secret = getpass.getpass(f"{venue} API secret (not echoed): ").strip()
        passphrase = getpass.getpass(f"{venue} API passphrase (not echoed): ").strip() if needs_pass else None
        if key and secret:
            return Credentials(venue, key, secret, passphrase)
    raise KeysMissing(f"no API key for {venue}: set {key_var} and {secret_var}"
                      f"{' and ' + pass_var if needs_pass else ''} in the environment, or pipe them with "
                      "--keys-stdin; keys are never taken as arguments")
