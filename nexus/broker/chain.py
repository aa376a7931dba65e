"""Ethereum access for the broker: deposits to watched addresses (native transfers and ERC-20
Transfer logs), confirmations, and hot-wallet sends, over web3.

One `Chain` class serves both the in-process chain (eth-tester + py-evm, `--chain sim`) and
any node over a web3 HTTP URL. The hot-wallet private key is held by an eth-account
LocalAccount in memory; it is never logged, printed or stored. Signed raw transactions are
public data once broadcast and are stored so a restarted broker re-broadcasts what it signed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from nexus.broker import erc20
from nexus.broker.errors import ChainError

GWEI = 10**9
NATIVE_GAS = 21_000
TOKEN_GAS = 100_000
PRIORITY_FEE_WEI = 1 * GWEI
FEE_CACHE_S = 5.0  # a fee estimate for quotes is re-read from the chain at most this often
SCAN_BLOCKS_MAX = 500  # blocks read per scan step (bounded work per tick)
_TRANSFER_SELECTOR = function_signature_to_4byte_selector("transfer(address,uint256)")


@dataclass(frozen=True)
class Transfer:
    tx_hash: str
    log_index: int  # -1 for a native transfer
    crypto: str
    to: str
    amount: int
    block: int


@dataclass(frozen=True)
class Receipt:
    block: int
    ok: bool
    gas_cost_wei: int


def _hex(b) -> str:
    if isinstance(b, str):
        return b.lower() if b.startswith("0x") else "0x" + b.lower()
    return "0x" + bytes(b).hex()


class Chain:
    def __init__(self, w3: Web3, hot_wallet: LocalAccount, token_address: str | None, *, name: str) -> None:
        self.w3 = w3
        self._hot = hot_wallet
        self.hot_address = hot_wallet.address
        self.token_address = to_checksum_address(token_address) if token_address else None
        self.name = name  # "sim" or the redacted URL
        self._lock = threading.RLock()
        self._chain_id: int | None = None
        self.sim = None  # set by the in-process chain: a nexus.broker.chainsim.SimControl
        self._scrub: list[str] = []  # parts of the node URL (tokens) kept out of messages
        self._fee_cache: tuple[float, int] | None = None  # (monotonic time, max fee per gas)

    def __repr__(self) -> str:
        return f"Chain({self.name}, hot_wallet={self.hot_address})"

    def scrub(self, text: str) -> str:
        for part in self._scrub:
            text = text.replace(part, "…")
        return text

    def supports(self, crypto: str) -> bool:
        return crypto == "ETH" or (crypto == "USDT" and self.token_address is not None)

    def _call(self, fn, *args, **kw):
        with self._lock:
            try:
                return fn(*args, **kw)
            except ChainError:
                raise
            except Exception as e:  # node or transport failure: one error type upward
                raise ChainError(f"chain {self.name}: {type(e).__name__}: {self.scrub(str(e))}") from None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._call(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def head(self) -> int:
        return self._call(lambda: self.w3.eth.block_number)

    def balance(self, crypto: str, address: str) -> int:
        address = to_checksum_address(address)
        if crypto == "ETH":
            return self._call(self.w3.eth.get_balance, address)
        if self.token_address is None:
            raise ChainError(f"no {crypto} token contract configured")
        token = self.w3.eth.contract(address=self.token_address, abi=erc20.ABI)
        return self._call(lambda: token.functions.balanceOf(address).call())

    # -- deposits ---------------------------------------------------------------------------

    def transfers_to(self, addresses: set[str], from_block: int, to_block: int) -> list[Transfer]:
        """Successful native transfers and token Transfer logs to any of `addresses`."""
        if to_block < from_block or not addresses:
            return []
        watch = {a.lower() for a in addresses}
        out: list[Transfer] = []
        with self._lock:
            for n in range(from_block, to_block + 1):
                block = self._call(self.w3.eth.get_block, n, full_transactions=True)
                for tx in block["transactions"]:
                    to = tx.get("to")
                    if to and to.lower() in watch and int(tx["value"]) > 0:
                        rcpt = self._call(self.w3.eth.get_transaction_receipt, tx["hash"])
                        if rcpt["status"] == 1:
                            out.append(Transfer(_hex(tx["hash"]), -1, "ETH", to_checksum_address(to), int(tx["value"]), n))
            if self.token_address is not None:
                logs = self._call(
                    self.w3.eth.get_logs,
                    {"address": self.token_address, "fromBlock": from_block, "toBlock": to_block, "topics": [_hex(erc20.TRANSFER_TOPIC)]},
                )
                for lg in logs:
                    topics = lg["topics"]
                    if len(topics) < 3:
                        continue
                    to = "0x" + bytes(topics[2])[-20:].hex()
                    if to in watch:
                        out.append(
                            Transfer(_hex(lg["transactionHash"]), int(lg["logIndex"]), "USDT", to_checksum_address(to), int.from_bytes(bytes(lg["data"]), "big"), int(lg["blockNumber"]))
                        )
        return out

    # -- sending ----------------------------------------------------------------------------

    def pending_nonce(self) -> int:
        return self._call(self.w3.eth.get_transaction_count, self.hot_address, "pending")

    def _max_fee_per_gas(self) -> int:
        base = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas") or GWEI
        fee = 2 * int(base) + PRIORITY_FEE_WEI
        self._fee_cache = (time.monotonic(), fee)
        return fee

    def send_fee_wei(self, crypto: str) -> int:
        """The most a send of `crypto` from the hot wallet costs in gas (wei), as signed now;
        re-read from the chain at most every FEE_CACHE_S."""
        cached = self._fee_cache
        fee = cached[1] if cached and time.monotonic() - cached[0] < FEE_CACHE_S else self._max_fee_per_gas()
        return fee * (NATIVE_GAS if crypto == "ETH" else TOKEN_GAS)

    def sign_send(self, crypto: str, to: str, amount: int, nonce: int) -> tuple[str, str]:
        """Build and sign a transfer from the hot wallet. Returns (raw tx hex, tx hash hex)."""
        to = to_checksum_address(to)
        with self._lock:
            tx = {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "maxPriorityFeePerGas": PRIORITY_FEE_WEI,
                "maxFeePerGas": self._max_fee_per_gas(),
            }
            if crypto == "ETH":
                tx.update(to=to, value=amount, gas=NATIVE_GAS, data=b"")
            else:
                if self.token_address is None:
                    raise ChainError(f"no {crypto} token contract configured")
                data = _TRANSFER_SELECTOR + bytes(12) + bytes.fromhex(to[2:]) + amount.to_bytes(32, "big")
                tx.update(to=self.token_address, value=0, gas=TOKEN_GAS, data=data)
            signed = self._hot.sign_transaction(tx)
        return _hex(signed.raw_transaction), _hex(signed.hash)

    def broadcast(self, raw_tx: str) -> None:
        """Send a signed transaction. Re-sending one the node already has is not an error."""
        with self._lock:
            try:
                self.w3.eth.send_raw_transaction(raw_tx)
            except Exception as e:
                text = str(e).lower()
                if "already known" in text or "nonce" in text or "known transaction" in text:
                    return  # already in the pool or mined; the receipt decides
                raise ChainError(f"chain {self.name}: broadcast failed: {type(e).__name__}: {self.scrub(str(e))}") from None

    def knows(self, tx_hash: str) -> bool:
        """Whether the node has the transaction, pending or mined."""
        with self._lock:
            try:
                return self.w3.eth.get_transaction(tx_hash) is not None
            except Exception as e:
                if type(e).__name__ == "TransactionNotFound":
                    return False
                raise ChainError(f"chain {self.name}: {type(e).__name__}: {self.scrub(str(e))}") from None

    def receipt(self, tx_hash: str) -> Receipt | None:
        with self._lock:
            try:
                r = self.w3.eth.get_transaction_receipt(tx_hash)
            except Exception as e:
                if type(e).__name__ == "TransactionNotFound":
                    return None
                raise ChainError(f"chain {self.name}: {type(e).__name__}: {self.scrub(str(e))}") from None
        if r is None or r.get("blockNumber") is None:
            return None
        gas = int(r["gasUsed"]) * int(r.get("effectiveGasPrice") or 0)
        return Receipt(int(r["blockNumber"]), r["status"] == 1, gas)


def redact_url(url: str) -> str:
    """The URL without user info or query (node URLs often embed API tokens)."""
    from urllib.parse import urlsplit

    try:
        p = urlsplit(url)
        host = p.hostname or ""
        port = f":{p.port}" if p.port else ""
        return f"{p.scheme}://{host}{port}{p.path if len(p.path) < 2 else '/…'}"
    except ValueError:
        return "<node URL>"


def connect(url: str, hot_key_hex: str, token_address: str | None, *, timeout_s: float = 10.0) -> Chain:
    """A chain over a web3 HTTP URL. `hot_key_hex` comes from the environment, never a file."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout_s}))
    try:
        acct = Account.from_key(hot_key_hex)
    except Exception:
        raise ChainError("the hot wallet key is not a valid private key") from None
    chain = Chain(w3, acct, token_address, name=redact_url(url))
    from urllib.parse import urlsplit

    p = urlsplit(url)
    chain._scrub = [x for x in (p.username, p.password, p.path if len(p.path) > 1 else "", p.query) if x]
    chain.head()  # fail fast when the node is unreachable
    return chain
