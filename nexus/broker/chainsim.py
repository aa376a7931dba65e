"""The in-process Ethereum chain (eth-tester + py-evm) with a deployed ERC-20 standing in for
USDT, a hot wallet funded with ETH and USDT, and a "customer wallet" that simulated deposits
come from. Also a small JSON-RPC-over-HTTP front (`nexus broker chain-sim`) so a chain can
outlive a broker process (crash tests) and the broker's web3 HTTP path is exercised for real.

The chain can be persisted in a journal file (`nexus.broker.chainfile`) and replayed at the
next start. So that the file holds no private key, every wallet of this chain is one of
eth-tester's own well-known test accounts (keys 1, 2, 3, ... as eth-tester generates them):
the faucet its first, the customer its second, the hot wallet its third. Their coins are
worthless; never use these keys on a real chain.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from eth_account import Account
from web3 import EthereumTesterProvider, Web3

from nexus.broker import erc20
from nexus.broker.chain import Chain
from nexus.broker.chainfile import ChainFile
from nexus.exceptions import ConfigError

ETHER = 10**18
USDT_UNIT = 10**erc20.DECIMALS
HOT_WALLET_ETH = 1_000 * ETHER
HOT_WALLET_USDT = 1_000_000 * USDT_UNIT
CUSTOMER_USDT = 1_000_000_000 * USDT_UNIT
MINE_BLOCKS_MAX = 10_000
SIM_HOT_WALLET_ACCOUNT = 2  # eth-tester's third default account (0: faucet, 1: customer)
JOURNALED = ("eth_sendTransaction", "eth_sendRawTransaction")  # the requests that change the chain


class JournalingProvider(EthereumTesterProvider):
    """eth-tester's provider, recording each successful state-changing request in a chain file."""

    def __init__(self, tester, journal: ChainFile | None) -> None:
        super().__init__(tester)
        self.journal = journal

    def make_request(self, method, params):
        response = super().make_request(method, params)
        if self.journal is not None and method in JOURNALED and "error" not in response:
            self.journal.append({"m": method, "p": params})
        return response


class SimControl:
    """Test-chain controls: simulated customer deposits and mining."""

    def __init__(self, w3: Web3, tester, token, faucet: str, customer: str, lock: threading.RLock) -> None:
        self.w3, self.tester, self.token = w3, tester, token
        self.faucet, self.customer = faucet, customer
        self._lock = lock
        self.journal: ChainFile | None = None
        self.fresh = True  # False when the chain was restored from its file

    def deposit(self, address: str, crypto: str, amount: int) -> str:
        address = Web3.to_checksum_address(address)
        with self._lock:
            if crypto == "ETH":
                h = self.w3.eth.send_transaction({"from": self.customer, "to": address, "value": amount})
            elif crypto == "USDT":
                h = self.token.functions.transfer(address, amount).transact({"from": self.customer})
            else:
                raise ValueError(f"unknown crypto {crypto}")
        return "0x" + bytes(h).hex()

    def mine(self, blocks: int) -> int:
        with self._lock:
            self.tester.mine_blocks(blocks)
            if self.journal is not None:
                self.journal.append({"m": "mine", "n": blocks})
            return self.w3.eth.block_number

    def fund(self, address: str, eth: int, usdt: int) -> None:
        """Give `address` exactly `eth` wei and `usdt` units. An eth-tester default account
        (the simulated hot wallet is one) starts with its own large balance: that is first sent
        back to the faucet, so the wallet holds what the simulation says and nothing more."""
        address = Web3.to_checksum_address(address)
        with self._lock:
            held = self.w3.eth.get_balance(address)
            if held and address in self.w3.eth.accounts:
                price = 2 * self.w3.eth.get_block("latest")["baseFeePerGas"]   # legacy: pays exactly gas * price
                gas = 21_000
                self.w3.eth.send_transaction({"from": address, "to": self.faucet, "value": held - gas * price,
                                              "gas": gas, "gasPrice": price})
            if eth:
                self.w3.eth.send_transaction({"from": self.faucet, "to": address, "value": eth})
            if usdt:
                self.token.functions.mint(address, usdt).transact({"from": self.faucet})


def _replay(w3: Web3, tester, entries: list[dict], path: str) -> str:
    """Apply recorded entries to a fresh chain; returns the token address."""
    token = None
    for n, e in enumerate(entries, start=2):
        if e["m"] == "token":
            token = e["address"]
        elif e["m"] == "mine":
            tester.mine_blocks(int(e["n"]))
        else:
            resp = w3.provider.make_request(e["m"], e["p"])
            if "error" in resp:
                raise ConfigError(f"the chain file {path} does not replay (line {n}: {resp['error']}); restore it or start on a fresh database")
    if token is None:
        raise ConfigError(f"the chain file {path} has no token deployment; restore it or start on a fresh database")
    return token


def build(fund: list[str] = (), journal: ChainFile | None = None) -> tuple[Web3, SimControl, str]:
    """A chain: (web3, controls, token address), restored from `journal` when it holds one,
    else fresh (its genesis recorded in `journal`). `fund` addresses get ETH and USDT once."""
    from eth_tester import EthereumTester, PyEVMBackend

    tester = EthereumTester(PyEVMBackend())
    provider = JournalingProvider(tester, None)
    w3 = Web3(provider)
    faucet, customer = w3.eth.accounts[0], w3.eth.accounts[1]
    entries = journal.load() if journal is not None else []
    if entries:
        token_address = _replay(w3, tester, entries, journal.path)
        provider.journal = journal
    else:
        provider.journal = journal
        rcpt = w3.eth.wait_for_transaction_receipt(
            w3.eth.contract(abi=erc20.ABI, bytecode=erc20.DEPLOY_CODE).constructor().transact({"from": faucet})
        )
        token_address = rcpt["contractAddress"]
        if journal is not None:
            journal.append({"m": "token", "address": token_address})
    token = w3.eth.contract(address=token_address, abi=erc20.ABI)
    sim = SimControl(w3, tester, token, faucet, customer, threading.RLock())
    sim.journal, sim.fresh = journal, not entries
    if not entries:
        token.functions.mint(customer, CUSTOMER_USDT).transact({"from": faucet})
        for addr in fund:
            sim.fund(addr, HOT_WALLET_ETH, HOT_WALLET_USDT)
    return w3, sim, token.address


def sim_chain(path: str | None = None) -> Chain:
    """The in-process chain (persisted in the chain file `path` when given) with its hot
    wallet. Every transaction is mined at once in its own block (eth-tester validates a
    nonce against the mined state, so a pool of several pending transactions from one sender
    is not possible)."""
    from eth_tester.backends.pyevm.main import get_default_account_keys

    hot = Account.from_key(get_default_account_keys()[SIM_HOT_WALLET_ACCOUNT].to_bytes())
    w3, sim, token_address = build([hot.address], ChainFile(path) if path else None)
    chain = Chain(w3, hot, token_address, name="sim")
    chain._lock = sim._lock  # one lock for the one in-process EVM
    chain.sim = sim
    return chain


# -- JSON-RPC over HTTP ---------------------------------------------------------------------


def _to_rpc(value):
    """web3's Python-side values -> JSON-RPC wire values (quantities as hex, bytes as hex)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value
    if hasattr(value, "items"):
        return {k: _to_rpc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_rpc(v) for v in value]
    return str(value)


REQUEST_BYTES_MAX = 1 << 20


def serve_rpc(host: str, port: int, fund: list[str]) -> tuple[ThreadingHTTPServer, dict]:
    """Start a JSON-RPC server over a fresh chain. Returns (server, info) with the token address."""
    w3, sim, token_address = build(fund)
    lock = sim._lock

    def handle(req: dict) -> dict:
        rid = req.get("id")
        method, params = req.get("method"), req.get("params") or []
        try:
            with lock:
                if method == "evm_mine":
                    n = int(params[0], 16) if params and isinstance(params[0], str) else int(params[0]) if params else 1
                    result = sim.mine(max(1, min(n, MINE_BLOCKS_MAX)))
                else:
                    result = w3.manager.request_blocking(method, params)
            return {"jsonrpc": "2.0", "id": rid, "result": _to_rpc(result)}
        except Exception as e:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": f"{type(e).__name__}: {e}"}}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            if n > REQUEST_BYTES_MAX:
                self.send_error(413)
                return
            try:
                req = json.loads(self.rfile.read(n))
            except ValueError:
                self.send_error(400)
                return
            resp = [handle(r) for r in req] if isinstance(req, list) else handle(req)
            body = json.dumps(resp).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    info = {"rpc_url": f"http://{host}:{server.server_address[1]}", "usdt_contract": token_address, "chain_id": w3.eth.chain_id}
    return server, info
