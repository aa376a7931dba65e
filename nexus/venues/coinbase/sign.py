"""Coinbase Advanced Trade API-key JWTs (ES256 and EdDSA keys).

Coinbase Developer Platform docs, "API Key Authentication" / "JWT Authentication": each
request carries `Authorization: Bearer <JWT>`; the JWT header is {alg, kid = the key name,
nonce (random hex), typ "JWT"}, the claims {iss "cdp", sub = the key name, nbf, exp =
nbf + 120, uri = "METHOD host path"}; the WebSocket `user` channel's JWT carries no uri. An ECDSA key (PEM "EC PRIVATE KEY", P-256) signs
with ES256: the JWS signature is the raw r||s, 32 bytes each (RFC 7518 section 3.4), not
DER. An Ed25519 key signs with EdDSA (RFC 8037); CDP hands it out as Base64 of 64 bytes
(seed || public key), and a PKCS#8 PEM works too.

The JWT is built here (base64url without padding of the compact JSON header and claims,
joined by "."): no JWT library. The claims are signed in the order given.
"""

from __future__ import annotations

import base64
import json

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from nexus.exec.signing.base import SigningError, mask, require_text

P256_COORD_BYTES = 32
ED25519_SEED_BYTES = 32
CDP_ED25519_SECRET_BYTES = 64  # seed || public key, as CDP issues Ed25519 secrets
CLAIMS_REQUIRED = ("iss", "sub", "nbf", "exp")   # uri too for REST; a WebSocket JWT has none

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict, dict]:
    """The header and claims of a compact JWT, unverified (SigningError: not a JWT)."""
    parts = token.split(".")
    try:
        header, claims = json.loads(_unb64url(parts[0])), json.loads(_unb64url(parts[1]))
    except (ValueError, IndexError):
        raise SigningError("not a JWT") from None
    if len(parts) != 3 or not isinstance(header, dict) or not isinstance(claims, dict):
        raise SigningError("not a JWT")
    return header, claims


def verify_jwt(token: str, public_key_pem: str) -> tuple[dict, dict]:
    """The header and claims of a JWT whose ES256 / EdDSA signature `public_key_pem` verifies
    (how Coinbase checks a request; the simulator and the benchmark use it). SigningError otherwise."""
    header, claims = jwt_parts(token)
    head, body, sig_text = token.split(".")
    try:
        sig, key = _unb64url(sig_text), serialization.load_pem_public_key(public_key_pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError("unreadable signature or public key") from None
    signed = f"{head}.{body}".encode("ascii")
    try:
        if header.get("alg") == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(sig) == 2 * P256_COORD_BYTES:
            key.verify(encode_dss_signature(int.from_bytes(sig[:P256_COORD_BYTES], "big"),
                                            int.from_bytes(sig[P256_COORD_BYTES:], "big")), signed,
                       ec.ECDSA(hashes.SHA256()))
        elif header.get("alg") == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, signed)
        else:
            raise SigningError("the JWT's alg does not match the key")
    except InvalidSignature:
        raise SigningError("bad signature") from None
    return header, claims


def load_key(private_key: str):
    """An EC P-256 or Ed25519 private key from PEM, or an Ed25519 key in CDP's Base64 form."""
    text = require_text(private_key, "private_key")
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise SigningError("`private_key` is not a readable unencrypted PEM private key") from None
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError:
            raw = b""
        if len(raw) != CDP_ED25519_SECRET_BYTES:
            raise SigningError("`private_key` must be a PEM key or a Base64 Ed25519 secret of 64 bytes")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:ED25519_SEED_BYTES])
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise SigningError("`private_key` must be an EC P-256 (ES256) or Ed25519 (EdDSA) key")


def new_es256_key() -> tuple[str, str]:
    """A fresh EC P-256 key pair in memory, as PEM (private, public): what `--sim` trades
    with (the simulated account holds the public half only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return private, public_pem(private)


def public_pem(private_key: str) -> str:
    """The public half of a private key (PEM or CDP Ed25519 form), as SubjectPublicKeyInfo PEM."""
    return load_key(private_key).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class CoinbaseSigner:
    """Builds the JWT for one key. `alg` is ES256 or EdDSA, from the key."""

    venue = "coinbase"
    __slots__ = ("key_name", "_key", "alg")

    def __init__(self, key_name: str, private_key: str) -> None:
        self.key_name = require_text(key_name, "key_name")
        self._key = load_key(private_key)
        self.alg = "EdDSA" if isinstance(self._key, ed25519.Ed25519PrivateKey) else "ES256"

    def jwt(self, claims: dict, nonce: str) -> str:
        if not isinstance(claims, dict):
            raise SigningError("`claims` must be an object")
        for name in CLAIMS_REQUIRED:
            if name not in claims:
                raise SigningError(f"`claims.{name}` is required")
        header = {"alg": self.alg, "kid": self.key_name, "nonce": require_text(nonce, "nonce"), "typ": "JWT"}
        signing_input = (b64url(_dumps(header).encode()) + "." + b64url(_dumps(claims).encode())).encode("ascii")
        if self.alg == "EdDSA":
            sig = self._key.sign(signing_input)
        else:
            r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(P256_COORD_BYTES, "big") + s.to_bytes(P256_COORD_BYTES, "big")
        return signing_input.decode("ascii") + "." + b64url(sig)

    def __repr__(self) -> str:
        return f"<CoinbaseSigner key_name={mask(self.key_name)} alg={self.alg} private_key=***>"

    def __reduce__(self):
        raise TypeError("CoinbaseSigner holds a key and cannot be pickled")
