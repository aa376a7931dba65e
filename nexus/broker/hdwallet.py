"""HD wallet (BIP32 / BIP44) deposit addresses.

The server holds only an extended public key (xpub) for the BIP44 account
m/44'/60'/0' and derives deposit address i as m/44'/60'/0'/0/i with public (non-hardened)
derivation. Private derivation exists for tests and the in-process chain only; private keys
and seeds stay in memory.

Written from the BIP32 / BIP44 specifications: secp256k1 arithmetic in Jacobian coordinates,
Base58Check, HMAC-SHA512 child derivation. Checked against the BIP32 published vectors.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address

# secp256k1 domain parameters
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8

HARDENED = 0x80000000
XPUB_VERSION = bytes.fromhex("0488B21E")
XPRV_VERSION = bytes.fromhex("0488ADE4")
BIP44_ETH_ACCOUNT = (44 | HARDENED, 60 | HARDENED, 0 | HARDENED)
EXTERNAL_CHAIN = 0

# -- curve arithmetic (Jacobian coordinates; None is the point at infinity) ---------------

Point = tuple[int, int] | None


def _jac_double(p):
    x, y, z = p
    if y == 0:
        return (0, 0, 0)
    ysq = y * y % P
    s = 4 * x * ysq % P
    m = 3 * x * x % P
    nx = (m * m - 2 * s) % P
    ny = (m * (s - nx) - 8 * ysq * ysq) % P
    nz = 2 * y * z % P
    return (nx, ny, nz)


def _jac_add(p, q):
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    z1z1 = p[2] * p[2] % P
    z2z2 = q[2] * q[2] % P
    u1 = p[0] * z2z2 % P
    u2 = q[0] * z1z1 % P
    s1 = p[1] * q[2] * z2z2 % P
    s2 = q[1] * p[2] * z1z1 % P
    if u1 == u2:
        return _jac_double(p) if s1 == s2 else (0, 0, 0)
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    h2 = h * h % P
    h3 = h * h2 % P
    u1h2 = u1 * h2 % P
    nx = (r * r - h3 - 2 * u1h2) % P
    ny = (r * (u1h2 - nx) - s1 * h3) % P
    nz = h * p[2] * q[2] % P
    return (nx, ny, nz)


def _to_affine(p) -> Point:
    if p[2] == 0:
        return None
    zinv = pow(p[2], -1, P)
    z2 = zinv * zinv % P
    return (p[0] * z2 % P, p[1] * z2 * zinv % P)


def point_mul(k: int, pt: Point = (GX, GY)) -> Point:
    if pt is None or k % N == 0:
        return None
    acc = (0, 0, 0)
    base = (pt[0], pt[1], 1)
    for bit in bin(k % N)[2:]:
        acc = _jac_double(acc)
        if bit == "1":
            acc = _jac_add(acc, base)
    return _to_affine(acc)


def point_add(a: Point, b: Point) -> Point:
    if a is None:
        return b
    if b is None:
        return a
    return _to_affine(_jac_add((a[0], a[1], 1), (b[0], b[1], 1)))


def serialize_point(pt: Point) -> bytes:
    assert pt is not None
    return bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, "big")


def parse_point(data: bytes) -> Point:
    if len(data) != 33 or data[0] not in (2, 3):
        raise ValueError("not a compressed secp256k1 public key")
    x = int.from_bytes(data[1:], "big")
    if x >= P:
        raise ValueError("public key x out of range")
    y = pow((x * x * x + 7) % P, (P + 1) // 4, P)
    if (y * y - (x * x * x + 7)) % P != 0:
        raise ValueError("public key is not on the curve")
    if (y & 1) != (data[0] & 1):
        y = P - y
    return (x, y)


# -- Base58Check ---------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check_encode(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58check_decode(text: str) -> bytes:
    n = 0
    for ch in text:
        i = _B58.find(ch)
        if i < 0:
            raise ValueError(f"invalid Base58 character {ch!r}")
        n = n * 58 + i
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * pad + body
    if len(data) < 5:
        raise ValueError("Base58Check string too short")
    payload, check = data[:-4], data[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        raise ValueError("Base58Check checksum mismatch")
    return payload


# -- extended keys -------------------------------------------------------------------------


def _hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()


def _fingerprint(pub: bytes) -> bytes:
    try:
        return _hash160(pub)[:4]
    except ValueError:  # an OpenSSL build without ripemd160: pycryptodome (via eth-account) has it
        from Crypto.Hash import RIPEMD160

        return RIPEMD160.new(hashlib.sha256(pub).digest()).digest()[:4]


@dataclass(frozen=True)
class ExtendedPublicKey:
    point: tuple[int, int]
    chain_code: bytes
    depth: int = 0
    parent_fingerprint: bytes = b"\0\0\0\0"
    child_number: int = 0

    @property
    def public_key(self) -> bytes:
        return serialize_point(self.point)

    def child(self, index: int) -> "ExtendedPublicKey":
        """CKDpub: non-hardened children only."""
        if index >= HARDENED or index < 0:
            raise ValueError("an extended public key cannot derive hardened children")
        i = hmac.new(self.chain_code, self.public_key + index.to_bytes(4, "big"), hashlib.sha512).digest()
        il = int.from_bytes(i[:32], "big")
        if il >= N:
            raise ValueError("invalid child (IL >= n); use the next index")
        pt = point_add(point_mul(il), self.point)
        if pt is None:
            raise ValueError("invalid child (point at infinity); use the next index")
        return ExtendedPublicKey(pt, i[32:], self.depth + 1, _fingerprint(self.public_key), index)

    def serialize(self) -> str:
        return b58check_encode(
            XPUB_VERSION + bytes([self.depth]) + self.parent_fingerprint + self.child_number.to_bytes(4, "big")
            + self.chain_code + self.public_key
        )

    @classmethod
    def parse(cls, text: str) -> "ExtendedPublicKey":
        data = b58check_decode(text.strip())
        if len(data) != 78 or data[:4] != XPUB_VERSION:
            raise ValueError("not a mainnet BIP32 extended public key (xpub...)")
        return cls(parse_point(data[45:78]), data[13:45], data[4], data[5:9], int.from_bytes(data[9:13], "big"))

    def address(self) -> str:
        return eth_address(self.point)


@dataclass(frozen=True)
class ExtendedPrivateKey:
    """Kept in memory only (tests and the in-process chain); never serialized to disk."""

    key: int
    chain_code: bytes
    depth: int = 0
    parent_fingerprint: bytes = b"\0\0\0\0"
    child_number: int = 0

    def __repr__(self) -> str:  # never print key material
        return f"ExtendedPrivateKey(depth={self.depth}, child={self.child_number})"

    @classmethod
    def from_seed(cls, seed: bytes) -> "ExtendedPrivateKey":
        i = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
        k = int.from_bytes(i[:32], "big")
        if not 0 < k < N:
            raise ValueError("invalid master key from seed")
        return cls(k, i[32:])

    def public(self) -> ExtendedPublicKey:
        pt = point_mul(self.key)
        assert pt is not None
        return ExtendedPublicKey(pt, self.chain_code, self.depth, self.parent_fingerprint, self.child_number)

    def child(self, index: int) -> "ExtendedPrivateKey":
        pub = serialize_point(point_mul(self.key))
        if index >= HARDENED:
            data = b"\0" + self.key.to_bytes(32, "big") + index.to_bytes(4, "big")
        else:
            data = pub + index.to_bytes(4, "big")
        i = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        il = int.from_bytes(i[:32], "big")
        k = (il + self.key) % N
        if il >= N or k == 0:
            raise ValueError("invalid child; use the next index")
        return ExtendedPrivateKey(k, i[32:], self.depth + 1, _fingerprint(pub), index)

    def derive(self, path: str | tuple[int, ...]) -> "ExtendedPrivateKey":
        node = self
        for index in parse_path(path) if isinstance(path, str) else path:
            node = node.child(index)
        return node

    def serialize(self) -> str:
        return b58check_encode(
            XPRV_VERSION + bytes([self.depth]) + self.parent_fingerprint + self.child_number.to_bytes(4, "big")
            + self.chain_code + b"\0" + self.key.to_bytes(32, "big")
        )


def parse_path(path: str) -> tuple[int, ...]:
    parts = path.strip().split("/")
    if not parts or parts[0] != "m":
        raise ValueError("a derivation path starts with m")
    out = []
    for p in parts[1:]:
        hard = p.endswith(("'", "H", "h"))
        n = int(p[:-1] if hard else p)
        if not 0 <= n < HARDENED:
            raise ValueError(f"index out of range in {path}")
        out.append(n | HARDENED if hard else n)
    return tuple(out)


def eth_address(point: tuple[int, int]) -> str:
    raw = point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
    return to_checksum_address(keccak(raw)[-20:])


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds). Word-list validation is not done here."""
    m = unicodedata.normalize("NFKD", " ".join(mnemonic.split()))
    salt = unicodedata.normalize("NFKD", "mnemonic" + passphrase)
    return hashlib.pbkdf2_hmac("sha512", m.encode(), salt.encode(), 2048)


class DepositAddressDeriver:
    """Deposit address i = account xpub / 0 / i. Caches the external-chain node."""

    def __init__(self, account_xpub: str) -> None:
        self.account = ExtendedPublicKey.parse(account_xpub)
        self._external = self.account.child(EXTERNAL_CHAIN)

    def address(self, index: int) -> str:
        return self._external.child(index).address()


def account_xpub_from_seed(seed: bytes) -> str:
    return ExtendedPrivateKey.from_seed(seed).derive(BIP44_ETH_ACCOUNT).public().serialize()
