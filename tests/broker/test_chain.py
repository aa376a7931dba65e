"""The in-process chain, the hand-assembled ERC-20, and the broker's web3 HTTP path against
the JSON-RPC chain-sim server."""

from __future__ import annotations

import threading

import pytest
from eth_account import Account

from nexus.broker import erc20
from nexus.broker.chain import connect
from nexus.broker.chainsim import HOT_WALLET_USDT, serve_rpc, sim_chain
from nexus.broker.errors import ChainError


@pytest.fixture(scope="module")
def chain():
    return sim_chain()


def test_erc20_token(chain):
    token = chain.w3.eth.contract(address=chain.token_address, abi=erc20.ABI)
    assert token.functions.symbol().call() == "USDT"
    assert token.functions.decimals().call() == 6
    assert chain.balance("USDT", chain.hot_address) == HOT_WALLET_USDT
    dest = Account.create().address
    raw, h = chain.sign_send("USDT", dest, 1_234_567, chain.pending_nonce())
    chain.broadcast(raw)
    chain.broadcast(raw)  # a duplicate is not an error
    r = chain.receipt(h)
    assert r is not None and r.ok and r.gas_cost_wei > 0
    assert chain.balance("USDT", dest) == 1_234_567
    raw, h = chain.sign_send("USDT", dest, 10**30, chain.pending_nonce())  # more than the wallet holds
    chain.broadcast(raw)
    r = chain.receipt(h)
    assert r is not None and not r.ok  # reverted


def test_transfers_to_watched_addresses(chain):
    a, b = Account.create().address, Account.create().address
    start = chain.head() + 1
    chain.sim.deposit(a, "ETH", 5)
    chain.sim.deposit(b, "USDT", 7)
    chain.sim.deposit(Account.create().address, "ETH", 9)  # not watched
    got = chain.transfers_to({a, b}, start, chain.head())
    assert sorted((t.crypto, t.to, t.amount, t.log_index) for t in got) == sorted([("ETH", a, 5, -1), ("USDT", b, 7, 0)])


def test_web3_http_path_against_chain_sim():
    hot = Account.create()
    server, info = serve_rpc("127.0.0.1", 0, [hot.address])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ch = connect(info["rpc_url"], hot.key.hex(), info["usdt_contract"])
        assert ch.balance("ETH", hot.address) > 0 and ch.balance("USDT", hot.address) == HOT_WALLET_USDT
        dest = Account.create().address
        raw, h = ch.sign_send("ETH", dest, 10**15, ch.pending_nonce())
        ch.broadcast(raw)
        assert ch.receipt(h).ok and ch.balance("ETH", dest) == 10**15
        assert "key" not in repr(ch).lower().replace("hot_wallet", "")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ChainError):
        connect("http://127.0.0.1:9", hot.key.hex(), None, timeout_s=1)


def test_hot_wallet_key_from_an_owner_only_file(tmp_path, monkeypatch):
    import click

    from nexus.exceptions import ConfigError

    from nexus.broker.assemble import HOT_KEY_ENV, hot_wallet_key

    monkeypatch.delenv(HOT_KEY_ENV, raising=False)
    monkeypatch.delenv(HOT_KEY_ENV + "_FILE", raising=False)
    with pytest.raises(ConfigError, match=HOT_KEY_ENV + "_FILE"):
        hot_wallet_key()
    f = tmp_path / "hot"
    f.write_text("placeholder-not-a-key\n")  # the function reads a string; no key is written
    f.chmod(0o644)
    monkeypatch.setenv(HOT_KEY_ENV + "_FILE", str(f))
    with pytest.raises(click.UsageError, match="chmod 600"):
        hot_wallet_key()
    f.chmod(0o600)
    assert hot_wallet_key() == "placeholder-not-a-key"
    monkeypatch.setenv(HOT_KEY_ENV, "from-the-environment")
    assert hot_wallet_key() == "from-the-environment"
