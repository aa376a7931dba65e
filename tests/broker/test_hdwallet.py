"""BIP32/BIP44 against the published vectors (tests/fixtures/bip32_vectors.json); the server
derives deposit addresses from the xpub alone."""

from __future__ import annotations

import json
import pathlib

import pytest

from nexus.broker import hdwallet as hd

VECTORS = json.loads((pathlib.Path(__file__).parents[1] / "fixtures" / "bip32_vectors.json").read_text())


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=["vector1", "vector2"])
def test_bip32_published_vectors(vec):
    master = hd.ExtendedPrivateKey.from_seed(bytes.fromhex(vec["seed"]))
    for path, xpub, xprv in vec["chains"]:
        node = master.derive(path)
        assert node.serialize() == xprv, path
        assert node.public().serialize() == xpub, path
        assert hd.ExtendedPublicKey.parse(xpub).serialize() == xpub


def test_public_derivation_matches_private_for_non_hardened_children():
    chains = VECTORS["vectors"][0]["chains"]
    parent = hd.ExtendedPublicKey.parse(chains[1][1])  # m/0H
    assert parent.child(1).serialize() == chains[2][1]  # m/0H/1, from the xpub alone
    with pytest.raises(ValueError, match="hardened"):
        parent.child(hd.HARDENED)


def test_bip44_ethereum_address_vector_and_xpub_only_server():
    v = VECTORS["bip44_eth"]
    seed = hd.mnemonic_to_seed(v["mnemonic"])
    key = hd.ExtendedPrivateKey.from_seed(seed).derive(v["path"])
    assert hd.eth_address(hd.point_mul(key.key)) == v["address"]
    deriver = hd.DepositAddressDeriver(hd.account_xpub_from_seed(seed))  # what the server holds
    assert deriver.address(0) == v["address"]
    master = hd.ExtendedPrivateKey.from_seed(seed)
    for i in (1, 7, 1000):
        k = master.derive(f"m/44'/60'/0'/0/{i}")
        assert deriver.address(i) == hd.eth_address(hd.point_mul(k.key))
    assert len({deriver.address(i) for i in range(50)}) == 50


def test_bad_extended_keys_are_refused():
    xpub = VECTORS["vectors"][0]["chains"][0][1]
    with pytest.raises(ValueError, match="checksum"):
        hd.ExtendedPublicKey.parse(xpub[:-1] + ("9" if xpub[-1] != "9" else "8"))
    with pytest.raises(ValueError):
        hd.ExtendedPublicKey.parse(VECTORS["vectors"][0]["chains"][0][2])  # an xprv is not an xpub
    with pytest.raises(ValueError):
        hd.parse_path("44'/60'")
    assert "key" not in repr(hd.ExtendedPrivateKey.from_seed(b"\1" * 32)).lower().replace("extendedprivatekey", "")
