"""The signing library against each venue's published vectors, and against an independent
computation of the documented formula (hmac/hashlib/eth-account written here) where a venue
publishes none. Also: keys never show in repr or errors."""
import base64
import hashlib
import hmac
import pickle

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from nexus.exec import signing
from nexus.exec.signing import SigningError, hmac_signer
from nexus.venues.hyperliquid import sign as hl
from nexus.exec.signing import polymarket as pm
from nexus.exec.signing.eip712 import PrivateKey
from tests.exec.conftest import fixture_rows

PUBLISHED = ["binance-spot", "binance-perp", "kraken", "mexc"]
UNPUBLISHED = ["bybit-perp", "okx-swap", "kucoin", "bitget", "gate", "bitfinex"]


def sign_line(venue, line):
    extra = {k: line[k] for k in ("key_version", "address") if k in line}
    s = hmac_signer(venue, line["api_key"], line["secret"], line.get("passphrase"), **extra)
    kwargs = {"recv_window": line["recv_window"]} if "recv_window" in line else {}
    return s, s.sign(line["method"], line["path"], line["query"], line["body"], line["timestamp"],
                     line.get("nonce"), **kwargs)


@pytest.mark.parametrize("venue", PUBLISHED)
def test_hmac_published_vectors(venue):
    rows = fixture_rows(venue)
    assert rows
    for row in rows:
        line, exp = row["input"], row["expected"]
        if "params" in line:
            s = hmac_signer(venue, line["api_key"], line["secret"])
            assert s.sign_ws(line["params"]) == exp["signature"], row["source"]
            continue
        _, signed = sign_line(venue, line)
        assert signed.signature == exp["signature"], row["source"]
        assert signed.headers == exp["headers"]


def test_binance_ws_values_are_json_text():
    row = fixture_rows("binance-spot")[4]
    params = dict(row["input"]["params"], newOrderRespType="ACK", flag=True)
    s = hmac_signer("binance-spot", row["input"]["api_key"], row["input"]["secret"])
    payload = "&".join(f"{k}={'true' if v is True else v}" for k, v in sorted(params.items()))
    expected = hmac.new(row["input"]["secret"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert s.sign_ws(params) == expected
    with pytest.raises(SigningError):
        s.sign_ws(dict(params, signature="x"))


def b64(raw):
    return base64.b64encode(raw).decode()


def independent(venue, l):
    """The documented formula, written out here: (signature, headers)."""
    key, sec = l["api_key"], l["secret"].encode()
    target = l["path"] + ("?" + l["query"] if l["query"] else "")
    if venue == "bybit-perp":
        rw = l.get("recv_window", "5000")
        sig = hmac.new(sec, (l["timestamp"] + key + rw + l["query"] + l["body"]).encode(), hashlib.sha256).hexdigest()
        return sig, {"X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": l["timestamp"], "X-BAPI-SIGN": sig,
                     "X-BAPI-RECV-WINDOW": rw}
    if venue == "okx-swap":
        sig = b64(hmac.new(sec, (l["timestamp"] + l["method"] + target + l["body"]).encode(), hashlib.sha256).digest())
        return sig, {"OK-ACCESS-KEY": key, "OK-ACCESS-SIGN": sig, "OK-ACCESS-TIMESTAMP": l["timestamp"],
                     "OK-ACCESS-PASSPHRASE": l["passphrase"]}
    if venue == "kucoin":
        sig = b64(hmac.new(sec, (l["timestamp"] + l["method"] + target + l["body"]).encode(), hashlib.sha256).digest())
        pp = b64(hmac.new(sec, l["passphrase"].encode(), hashlib.sha256).digest())
        return sig, {"KC-API-KEY": key, "KC-API-SIGN": sig, "KC-API-TIMESTAMP": l["timestamp"],
                     "KC-API-PASSPHRASE": pp, "KC-API-KEY-VERSION": l.get("key_version", "2")}
    if venue == "bitget":
        sig = b64(hmac.new(sec, (l["timestamp"] + l["method"] + target + l["body"]).encode(), hashlib.sha256).digest())
        return sig, {"ACCESS-KEY": key, "ACCESS-SIGN": sig, "ACCESS-TIMESTAMP": l["timestamp"],
                     "ACCESS-PASSPHRASE": l["passphrase"]}
    if venue == "gate":
        body_hash = hashlib.sha512(l["body"].encode()).hexdigest()
        msg = "\n".join([l["method"], l["path"], l["query"], body_hash, l["timestamp"]])
        sig = hmac.new(sec, msg.encode(), hashlib.sha512).hexdigest()
        return sig, {"KEY": key, "SIGN": sig, "Timestamp": l["timestamp"]}
    if venue == "bitfinex":
        sig = hmac.new(sec, ("/api" + l["path"] + l["nonce"] + l["body"]).encode(), hashlib.sha384).hexdigest()
        return sig, {"bfx-nonce": l["nonce"], "bfx-apikey": key, "bfx-signature": sig}
    raise AssertionError(venue)


@pytest.mark.parametrize("venue", UNPUBLISHED)
def test_hmac_venues_without_published_vector(venue):
    rows = fixture_rows(venue)
    assert rows
    for row in rows:
        assert row["published_vector"] is None and "no published vector" in row["note"]
        signer, signed = sign_line(venue, row["input"])
        assert (signed.signature, signed.headers) == independent(venue, row["input"])


def test_polymarket_l2_published_and_address_header():
    row = fixture_rows("polymarket")[0]
    s, signed = sign_line("polymarket", dict(row["input"], address="0xabc"))
    assert signed.signature == row["expected"]["signature"]
    assert signed.headers["POLY_ADDRESS"] == "0xabc"
    assert s.secret_headers == ("POLY_PASSPHRASE",)


def test_polymarket_eip712_published_vectors():
    rows = fixture_rows("polymarket")[1:]
    assert len(rows) == 3
    for row in rows:
        line = row["input"]
        key = PrivateKey(line["private_key"])
        if "order" in line:
            got = pm.sign_order(key, line["chain_id"], line["exchange"], line["order"])
        else:
            a = line["clob_auth"]
            got = pm.sign_clob_auth(key, line["chain_id"], a["address"], a["timestamp"], a["nonce"])
        assert got == row["expected"]["signature"], row["source"]


def test_polymarket_order_matches_eth_account():
    """The hand-rolled EIP-712 digest against eth-account's, on a SELL order on Polygon."""
    row = fixture_rows("polymarket")[2]
    order = dict(row["input"]["order"], side=pm.SIDE_SELL, salt=2**200 + 7, expiration=1900000000)
    pk = row["input"]["private_key"]
    data = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "chainId", "type": "uint256"},
                                       {"name": "verifyingContract", "type": "address"}],
                      "Order": [{"name": n, "type": t} for n, t in pm.ORDER_FIELDS]},
            "primaryType": "Order",
            "domain": {"name": "Polymarket CTF Exchange", "version": "1", "chainId": 137,
                       "verifyingContract": row["input"]["exchange"]},
            "message": order}
    expected = Account.sign_message(encode_typed_data(full_message=data), pk).signature.hex()
    assert pm.sign_order(PrivateKey(pk), 137, row["input"]["exchange"], order) == "0x" + expected.removeprefix("0x")


def test_hyperliquid_published_vectors():
    rows = fixture_rows("hyperliquid")
    assert len(rows) == 20
    for row in rows:
        l = row["input"]
        got = hl.sign_action(PrivateKey(l["private_key"]), l["action"], l["nonce"], l["vault_address"],
                             l["expires_after"], l["testnet"])
        assert got == row["expected"], row["source"]


def test_hyperliquid_action_hash_published():
    row = fixture_rows("hyperliquid-action-hash")[0]
    got = hl.action_hash(row["action"], row["nonce"], row["vault_address"], row["expires_after"])
    assert "0x" + got.hex() == row["connection_id"]


def test_hyperliquid_expires_after_changes_the_hash_as_documented():
    import msgpack
    from eth_hash.auto import keccak

    action = {"type": "scheduleCancel"}
    got = hl.action_hash(action, 5, None, 99)
    assert got == keccak(msgpack.packb(action) + (5).to_bytes(8, "big") + b"\x00" + b"\x00" + (99).to_bytes(8, "big"))


def test_secrets_never_in_repr_or_errors():
    secret, pp = "S3CRET-VALUE-xyz", "PASS-PHRASE-abc"
    for venue in signing.HMAC_SIGNERS:
        if venue in ("kraken", "polymarket"):
            sec = base64.b64encode(secret.encode()).decode()
        else:
            sec = secret
        s = hmac_signer(venue, "APIKEY123456", sec, pp)
        text = repr(s)
        assert secret not in text and sec not in text and pp not in text and "APIKEY123456" not in text
        with pytest.raises(TypeError):
            pickle.dumps(s)
    key = PrivateKey("0x" + "11" * 32)
    assert "11" * 32 not in repr(key)
    with pytest.raises(SigningError) as e:
        PrivateKey("0x" + "zz" * 32)
    assert "zz" * 8 not in str(e.value)
    with pytest.raises(SigningError) as e:
        hmac_signer("okx-swap", "k", secret, None)
    assert "passphrase" in str(e.value) and secret not in str(e.value)


def test_missing_passphrase_refused_where_the_venue_needs_one():
    for venue in ("okx-swap", "bitget", "kucoin"):
        with pytest.raises(SigningError, match="passphrase"):
            hmac_signer(venue, "k", "s")


def test_registry_lists_every_venue():
    assert set(signing.VENUES) == {"binance-spot", "binance-perp", "bybit-perp", "okx-swap", "kucoin", "bitget",
                                   "gate", "kraken", "bitfinex", "mexc", "polymarket", "hyperliquid", "coinbase"}
    for venue in signing.VENUES:
        assert signing.module(venue).__doc__
    with pytest.raises(SigningError, match="binance-spot"):
        signing.module("nope")


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
@pytest.mark.parametrize("key_len", [1, 32, 64, 127, 128, 129, 300])
def test_signer_hmac_from_primed_pads_is_hmac(digest, key_len):
    """HmacSigner keeps RFC 2104's primed inner/outer hash states (hmac_pads): its MACs equal
    the standard library's HMAC for keys shorter, equal to and longer than the block."""
    from nexus.exec.signing.base import HmacSigner

    class S(HmacSigner):
        __slots__ = ()

    S.digest = digest
    secret = ("k3y-" * 100)[:key_len]
    s = S("key", secret)
    for msg in (b"", b"m", b"POST\n/api/v4/spot/orders\n\n" * 9):
        want = hmac.new(secret.encode(), msg, digest)
        assert s._mac(msg) == want.digest()
        assert s._hex(msg) == want.hexdigest()
        assert s._b64(msg) == base64.b64encode(want.digest()).decode()
        assert s._hex(msg) == want.hexdigest()       # the primed states are copied, not consumed
