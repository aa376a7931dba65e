"""`nexus sign --venue V`: each venue's request signing, line by line (the contract is in
issue 14 and ARCHITECTURE.md): JSON objects on stdin, one per line, to one JSON object per
line on stdout, in order. A line that cannot be signed gets a message on stderr naming its
line number; the rest go on and the exit status is 3. No secret ever reaches the output or
an error message: messages name fields, never their values."""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import click

EXIT_USAGE, EXIT_REJECTED = 2, 3
SECRET_FIELDS = ("secret", "passphrase", "private_key")

HELP = """Sign requests exactly as venue V wants them, one JSON object per stdin line.

\b
HMAC venues: binance-spot, binance-perp, bybit-perp, okx-swap, kucoin, bitget, gate, kraken,
bitfinex, mexc, polymarket (its L2 HMAC). Input fields:
  api_key, secret, passphrase (okx-swap, bitget, kucoin; optional for polymarket),
  method (signed as given), path, query (as sent, may be ""), body (as sent, may be ""),
  timestamp (as the venue wants it sent), nonce (kraken, bitfinex).
  Extra: bybit-perp recv_window (default "5000"); kucoin key_version "2"|"3" (default "2");
  polymarket address (adds the POLY_ADDRESS header); bitfinex path is the URL path
  (/v2/auth/...), signed as "/api" + path.
  Output: {"signature": as transmitted (hex or base64), "headers": {every auth header}}.
  Headers that carry a secret in clear (OKX, Bitget and Polymarket passphrases) are left
  out; KuCoin's signed passphrase is a derived value and is included.
Binance WebSocket API (binance-spot, binance-perp): input api_key, secret, params (the
  request params without signature, apiKey included); output {"signature", "headers": {}}.
hyperliquid: private_key (0x hex), action (exactly as sent), nonce, vault_address (or null),
  expires_after (or null), testnet (bool); output {"r", "s", "v"}. An action carrying
  signatureChainId and hyperliquidChain is signed as a user-signed action, any other as an
  L1 action (phantom agent).
polymarket EIP-712: private_key, chain_id, and either order (the CTF Exchange Order fields
  under their EIP-712 names, integers, side 0 BUY / 1 SELL) with exchange (the verifying
  contract), or clob_auth {address, timestamp, nonce}; output {"signature": "0x…"}.
coinbase: key_name, private_key (PEM: EC P-256 for ES256, Ed25519 for EdDSA; or CDP's
  Base64 Ed25519 secret), claims {iss, sub, nbf, exp, uri}, nonce; output {"jwt"}.

Blank lines are skipped. Exit 0 all signed, 2 unknown venue, 3 some lines rejected.
"""


def _text(line: dict, field: str, default: str | None = None) -> str:
    value = line.get(field, default)
    if not isinstance(value, str):
        from nexus.exec.signing import SigningError

        raise SigningError(f"`{field}` must be a string")
    return value


class LineSigner:
    """Signs the lines of one venue; signers are cached per credential set for the run."""

    def __init__(self, venue: str) -> None:
        from nexus.exec import signing

        self.venue = venue
        self.signing = signing
        self.hmac = venue in signing.HMAC_SIGNERS
        self._cache: dict[tuple, object] = {}

    def sign(self, line) -> dict:
        from nexus.exec.signing import SigningError

        if not isinstance(line, dict):
            raise SigningError("a line must be a JSON object")
        if self.venue == "hyperliquid":
            return self._hyperliquid(line)
        if self.venue == "coinbase":
            return self._coinbase(line)
        if self.venue == "polymarket" and ("order" in line or "clob_auth" in line):
            return self._polymarket_eip712(line)
        if self.venue.startswith("binance-") and "params" in line:
            signer = self._hmac(line)
            if not isinstance(line["params"], dict):
                raise SigningError("`params` must be an object")
            return {"signature": signer.sign_ws(line["params"]), "headers": {}}
        return self._hmac_request(line)

    def _cached(self, key: tuple, make):
        signer = self._cache.get(key)
        if signer is None:
            signer = self._cache[key] = make()
        return signer

    def _hmac(self, line: dict):
        extra = {}
        if self.venue == "kucoin" and "key_version" in line:
            extra["key_version"] = _text(line, "key_version")
        if self.venue == "polymarket" and line.get("address") is not None:
            extra["address"] = _text(line, "address")
        creds = (line.get("api_key"), line.get("secret"), line.get("passphrase"), tuple(sorted(extra.items())))
        return self._cached(creds, lambda: self.signing.hmac_signer(
            self.venue, line.get("api_key"), line.get("secret"), line.get("passphrase"), **extra))

    def _hmac_request(self, line: dict) -> dict:
        signer = self._hmac(line)
        args = [_text(line, f, "" if f in ("query", "body") else None)
                for f in ("method", "path", "query", "body", "timestamp")]
        nonce = line.get("nonce")
        if nonce is not None:
            nonce = str(nonce) if isinstance(nonce, int) and not isinstance(nonce, bool) else _text(line, "nonce")
        kwargs = {"recv_window": _text(line, "recv_window")} if self.venue == "bybit-perp" and "recv_window" in line else {}
        signed = signer.sign(*args, nonce, **kwargs)
        headers = {k: v for k, v in signed.headers.items() if k not in signer.secret_headers}
        return {"signature": signed.signature, "headers": headers}

    def _key(self, line: dict):
        from nexus.exec.signing.eip712 import PrivateKey

        pk = line.get("private_key")
        return self._cached(("pk", pk), lambda: PrivateKey(pk))

    def _hyperliquid(self, line: dict) -> dict:
        from nexus.exec.signing import SigningError
        from nexus.venues.hyperliquid.sign import sign_action

        testnet = line.get("testnet", False)
        if not isinstance(testnet, bool):
            raise SigningError("`testnet` must be true or false")
        if "action" not in line or "nonce" not in line:
            raise SigningError("`action` and `nonce` are required")
        return sign_action(self._key(line), line["action"], line["nonce"], line.get("vault_address"),
                           line.get("expires_after"), testnet)

    def _polymarket_eip712(self, line: dict) -> dict:
        from nexus.exec.signing import SigningError
        from nexus.exec.signing.polymarket import sign_clob_auth, sign_order

        chain_id = line.get("chain_id")
        if isinstance(chain_id, bool) or not isinstance(chain_id, int):
            raise SigningError("`chain_id` must be an integer")
        key = self._key(line)
        if "order" in line:
            if not isinstance(line["order"], dict):
                raise SigningError("`order` must be an object")
            return {"signature": sign_order(key, chain_id, line.get("exchange"), line["order"])}
        auth = line["clob_auth"]
        if not isinstance(auth, dict):
            raise SigningError("`clob_auth` must be an object")
        return {"signature": sign_clob_auth(key, chain_id, auth.get("address"), _text(auth, "timestamp"),
                                            auth.get("nonce"))}

    def _coinbase(self, line: dict) -> dict:
        from nexus.venues.coinbase.sign import CoinbaseSigner

        creds = ("cb", line.get("key_name"), line.get("private_key"))
        signer = self._cached(creds, lambda: CoinbaseSigner(line.get("key_name"), line.get("private_key")))
        return {"jwt": signer.jwt(line.get("claims"), line.get("nonce"))}


def redact(message: str, line) -> str:
    """`message` with any secret value of `line` masked (a second guard: messages are built
    from field names, but a library error could quote its input)."""
    if isinstance(line, dict):
        for field in SECRET_FIELDS:
            value = line.get(field)
            if isinstance(value, str) and len(value) >= 4 and value in message:
                message = message.replace(value, "***")
    return message


def describe(exc: Exception) -> str:
    from nexus.exec.signing import SigningError

    if isinstance(exc, SigningError):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at column {exc.colno})"
    return f"cannot sign ({type(exc).__name__})"  # foreign errors may quote inputs: type only


@click.command(help=HELP)
@click.option("--venue", required=True, help="The venue id (see above).")
def sign(venue: str) -> None:
    from nexus.exec.signing import VENUES

    if venue not in VENUES:
        click.echo(f"nexus: unknown venue {venue!r}; venues: {', '.join(VENUES)}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE)
    signer = LineSigner(venue)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    out = sys.stdout
    rejected = 0
    for lineno, raw in enumerate(sys.stdin.buffer, 1):
        if not raw.strip():
            continue
        line = None
        try:
            line = json.loads(raw, parse_float=Decimal)
            result = signer.sign(line)
        except Exception as e:  # noqa: BLE001 - every failure is reported per line, the rest go on
            rejected += 1
            click.echo(f"nexus: line {lineno}: {redact(describe(e), line)}", err=True)
            continue
        out.write(dumps(result) + "\n")
    out.flush()
    if rejected:
        raise click.exceptions.Exit(EXIT_REJECTED)
