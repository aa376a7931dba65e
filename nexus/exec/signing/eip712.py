"""EIP-712 typed-data hashing and secp256k1 signing, for Polymarket and Hyperliquid.

Follows EIP-712 ("Typed structured data hashing and signing"): digest =
keccak256(0x1901 || domainSeparator || hashStruct(message)), hashStruct(s) =
keccak256(typeHash || encodeData(s)), typeHash = keccak256("Name(type1 name1,...)"). Only
the flat structs these venues sign are needed (atomic fields: string, bytes32, address,
uintN, bool), so nested struct types are not supported and are refused.

Signing uses libsecp256k1 through coincurve (already a dependency for the chain paths):
RFC 6979 deterministic nonces and low-s, the same signatures eth-account produces; the
tests check both against each other and against the venues' published vectors.
"""

from __future__ import annotations

from typing import Sequence

import coincurve
from eth_hash.auto import keccak

from nexus.exec.signing.base import SigningError

PRIVATE_KEY_BYTES = 32
ADDRESS_BYTES = 20
WORD_BYTES = 32
V_OFFSET = 27  # Ethereum's v = recovery id + 27

Field = tuple[str, str]  # (name, type)


class PrivateKey:
    """A secp256k1 private key in memory; repr masks it."""

    __slots__ = ("_key", "address")

    def __init__(self, hex_key: str) -> None:
        if not isinstance(hex_key, str):
            raise SigningError("`private_key` must be a 0x-prefixed hex string")
        text = hex_key[2:] if hex_key.startswith(("0x", "0X")) else hex_key
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise SigningError("`private_key` is not hex") from None
        if len(raw) != PRIVATE_KEY_BYTES:
            raise SigningError(f"`private_key` must be {PRIVATE_KEY_BYTES} bytes")
        try:
            self._key = coincurve.PrivateKey(raw)
        except (ValueError, TypeError):
            raise SigningError("`private_key` is not a valid secp256k1 key") from None
        pub = self._key.public_key.format(compressed=False)[1:]
        self.address = "0x" + keccak(pub)[-ADDRESS_BYTES:].hex()

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """(r, s, v) of a 32-byte digest, v in {27, 28}."""
        sig = self._key.sign_recoverable(digest, hasher=None)
        return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64] + V_OFFSET

    def __repr__(self) -> str:
        return f"<PrivateKey address={self.address} key=***>"

    def __reduce__(self):
        raise TypeError("PrivateKey cannot be pickled")


def type_hash(name: str, fields: Sequence[Field]) -> bytes:
    return keccak(f"{name}({','.join(f'{t} {n}' for n, t in fields)})".encode())


def encode_value(kind: str, value, field: str) -> bytes:
    try:
        if kind == "string":
            return keccak(value.encode())
        if kind == "bytes32":
            raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
            if len(raw) != WORD_BYTES:
                raise ValueError
            return raw
        if kind == "address":
            raw = bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)
            if len(raw) != ADDRESS_BYTES:
                raise ValueError
            return raw.rjust(WORD_BYTES, b"\0")
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return int(value).to_bytes(WORD_BYTES, "big")
        if kind.startswith("uint"):
            bits = int(kind[4:] or 256)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
                raise ValueError
            return value.to_bytes(WORD_BYTES, "big")
    except (ValueError, TypeError, AttributeError):
        raise SigningError(f"`{field}` is not a valid {kind}") from None
    raise SigningError(f"EIP-712 type {kind} of `{field}` is not supported")


def hash_struct(name: str, fields: Sequence[Field], values: dict, prefix: str = "") -> bytes:
    parts = [type_hash(name, fields)]
    for fname, kind in fields:
        if fname not in values:
            raise SigningError(f"`{prefix}{fname}` is required")
        parts.append(encode_value(kind, values[fname], prefix + fname))
    return keccak(b"".join(parts))


def domain_fields(domain: dict) -> list[Field]:
    order = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
             ("verifyingContract", "address"))
    return [f for f in order if f[0] in domain]


def typed_digest(domain: dict, primary: str, fields: Sequence[Field], message: dict,
                 prefix: str = "") -> bytes:
    separator = hash_struct("EIP712Domain", domain_fields(domain), domain)
    return keccak(b"\x19\x01" + separator + hash_struct(primary, fields, message, prefix))
