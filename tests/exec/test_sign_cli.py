"""`nexus sign --venue V` as a real subprocess: every published vector through the CLI, the
Coinbase JWTs, the per-line error contract, and no secret in stdout or stderr."""
import base64
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.exec.conftest import FIXTURES, fixture_rows

VENUES_WITH_EXPECTED = ["binance-spot", "binance-perp", "kraken", "mexc", "polymarket", "hyperliquid"]


def run(venue, lines, raw=None):
    data = raw if raw is not None else "".join(json.dumps(l) + "\n" for l in lines)
    return subprocess.run([sys.executable, "-m", "nexus.cli", "sign", "--venue", venue], input=data.encode(),
                          capture_output=True, timeout=60)


@pytest.mark.parametrize("venue", VENUES_WITH_EXPECTED)
def test_published_vectors_through_the_cli(venue):
    rows = fixture_rows(venue)
    p = run(venue, [r["input"] for r in rows])
    assert p.returncode == 0, p.stderr.decode()
    out = [json.loads(l) for l in p.stdout.decode().splitlines()]
    assert len(out) == len(rows)
    for row, got in zip(rows, out):
        exp = row["expected"]
        for k, v in exp.items():
            assert got[k] == v, row["source"]


@pytest.mark.parametrize("venue", ["okx-swap", "bitget"])
def test_clear_passphrase_header_left_out(venue):
    rows = fixture_rows(venue)
    p = run(venue, [r["input"] for r in rows])
    assert p.returncode == 0
    for row, line in zip(rows, p.stdout.decode().splitlines()):
        got = json.loads(line)
        assert row["input"]["passphrase"] not in line
        assert not any("PASSPHRASE" in h for h in got["headers"])
        assert got["signature"] in got["headers"].values()


def test_kucoin_signed_passphrase_included():
    rows = fixture_rows("kucoin")
    p = run("kucoin", [r["input"] for r in rows])
    got = json.loads(p.stdout.decode().splitlines()[0])
    assert got["headers"]["KC-API-PASSPHRASE"] and rows[0]["input"]["passphrase"] not in p.stdout.decode()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_coinbase_eddsa_deterministic_and_es256_verified():
    row = fixture_rows("coinbase")[0]
    assert row["published_vector"] is None
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    seed = ed.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    cdp_form = base64.b64encode(seed + pub).decode()
    eck = ec.generate_private_key(ec.SECP256R1())
    ec_pem = eck.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.NoEncryption()).decode()
    base = row["input"]
    p = run("coinbase", [dict(base, private_key=ed_pem), dict(base, private_key=cdp_form),
                         dict(base, private_key=ec_pem)])
    assert p.returncode == 0, p.stderr.decode()
    jwt_pem, jwt_cdp, jwt_es = [json.loads(l)["jwt"] for l in p.stdout.decode().splitlines()]
    header = {"alg": "EdDSA", "kid": base["key_name"], "nonce": base["nonce"], "typ": "JWT"}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(base["claims"], separators=(",", ":")).encode()))
    expected = signing_input + "." + b64url(ed.sign(signing_input.encode()))
    assert jwt_pem == expected and jwt_cdp == expected
    h, c, s = jwt_es.split(".")
    assert json.loads(unb64url(h)) == dict(header, alg="ES256")
    assert json.loads(unb64url(c)) == base["claims"]
    raw = unb64url(s)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    eck.public_key().verify(der, f"{h}.{c}".encode(), ec.ECDSA(hashes.SHA256()))
    for secret in (ed_pem.split("\n")[1], ec_pem.split("\n")[1], cdp_form):
        assert secret not in p.stdout.decode() + p.stderr.decode()


def test_bad_lines_are_reported_by_number_and_the_rest_go_on():
    good = fixture_rows("binance-spot")[0]["input"]
    secret = good["secret"]
    lines = [json.dumps(good), "{not json " + secret, json.dumps(dict(good, method=5)),
             json.dumps(dict(good, secret=None)), json.dumps([secret]), "", json.dumps(good)]
    p = run("binance-spot", None, raw="\n".join(lines) + "\n")
    assert p.returncode == 3
    out = p.stdout.decode().splitlines()
    assert len(out) == 2 and all(json.loads(l)["signature"].startswith("c8db5682") for l in out)
    err = p.stderr.decode()
    for n in (2, 3, 4, 5):
        assert f"line {n}:" in err
    assert "line 1:" not in err and "line 7:" not in err
    assert secret not in err and secret not in p.stdout.decode()


@pytest.mark.parametrize("venue,line", [
    ("okx-swap", {"api_key": "k", "secret": "S3CRET-okx-0001", "method": "GET", "path": "/", "query": "",
                  "body": "", "timestamp": "t"}),
    ("kraken", {"api_key": "k", "secret": "S3CRET*not*base64", "method": "POST", "path": "/0/private/X",
                "query": "", "body": "", "timestamp": "", "nonce": "1"}),
    ("hyperliquid", {"private_key": "0xS3CRETS3CRETS3CRET", "action": {"type": "noop"}, "nonce": 1,
                     "vault_address": None, "expires_after": None, "testnet": False}),
    ("polymarket", {"private_key": "0x" + "ab" * 32, "chain_id": 137, "exchange": "0x12",
                    "order": {"salt": 1}}),
    ("coinbase", {"key_name": "k", "private_key": "-----BEGIN EC PRIVATE KEY-----\nS3CRETPEMBODY\n-----END EC PRIVATE KEY-----\n",
                  "claims": {}, "nonce": "n"}),
])
def test_secret_absent_from_output_of_a_rejected_line(venue, line):
    p = run(venue, [line])
    assert p.returncode == 3
    text = p.stdout.decode() + p.stderr.decode()
    assert "line 1:" in text
    for field in ("secret", "private_key", "passphrase"):
        if field in line:
            for part in line[field].split("\n"):
                if len(part) > 8 and "-----" not in part:
                    assert part not in text


def test_unknown_venue_is_a_usage_error_listing_venues():
    p = run("nope", [])
    assert p.returncode == 2
    err = p.stderr.decode()
    assert "binance-spot" in err and "hyperliquid" in err and "coinbase" in err


def test_help_explains_the_fields():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "sign", "--help"], capture_output=True, timeout=60)
    text = p.stdout.decode()
    assert p.returncode == 0
    for word in ("api_key", "passphrase", "vault_address", "clob_auth", "key_name", "recv_window"):
        assert word in text


def test_every_fixture_file_names_its_source():
    for path in FIXTURES.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            assert row["source"]
            assert "expected" in row or "connection_id" in row or row.get("published_vector", 0) is None
