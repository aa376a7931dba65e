"""A minimal ERC-20 token for the in-process chain (USDT stand-in), assembled here from EVM
opcodes so no Solidity compiler is needed: balanceOf, transfer (with the Transfer event),
decimals, totalSupply, symbol, name, and mint (deployer only). Not for production; in
production the broker points at the real token contract (`--usdt-contract`).

Storage: slot 0 owner, slot 1 total supply, keccak256(address) the balance of address.
"""

from __future__ import annotations

from eth_utils import function_signature_to_4byte_selector, keccak

DECIMALS = 6
SYMBOL = "USDT"
NAME = "Tether USD (simulated)"
TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")

_OPS = {
    "STOP": 0x00, "ADD": 0x01, "SUB": 0x03, "LT": 0x10, "GT": 0x11, "EQ": 0x14, "ISZERO": 0x15,
    "AND": 0x16, "SHR": 0x1C, "SHA3": 0x20, "CALLER": 0x33, "CALLDATALOAD": 0x35, "CODECOPY": 0x39,
    "POP": 0x50, "MSTORE": 0x52, "SLOAD": 0x54, "SSTORE": 0x55, "JUMP": 0x56, "JUMPI": 0x57,
    "JUMPDEST": 0x5B, "DUP1": 0x80, "DUP2": 0x81, "DUP3": 0x82, "SWAP1": 0x90, "LOG3": 0xA3,
    "RETURN": 0xF3, "REVERT": 0xFD,
}
ADDRESS_MASK = (1 << 160) - 1


def _push(value: int | bytes) -> list:
    data = value if isinstance(value, bytes) else value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    assert 1 <= len(data) <= 32
    return [bytes([0x5F + len(data)]) + data]


def assemble(items: list) -> bytes:
    """Items: opcode names, bytes (already encoded), ("label", name), ("ref", name) -> PUSH2."""
    labels: dict[str, int] = {}
    pc = 0
    for it in items:  # pass 1: label offsets
        if isinstance(it, tuple) and it[0] == "label":
            labels[it[1]] = pc
            pc += 1  # JUMPDEST
        elif isinstance(it, tuple) and it[0] == "ref":
            pc += 3
        elif isinstance(it, bytes):
            pc += len(it)
        else:
            pc += 1
    out = bytearray()
    for it in items:
        if isinstance(it, tuple) and it[0] == "label":
            out.append(_OPS["JUMPDEST"])
        elif isinstance(it, tuple) and it[0] == "ref":
            out += b"\x61" + labels[it[1]].to_bytes(2, "big")
        elif isinstance(it, bytes):
            out += it
        else:
            out.append(_OPS[it])
    return bytes(out)


def _key() -> list:  # addr -> keccak256(addr)
    return [*_push(0), "MSTORE", *_push(32), *_push(0), "SHA3"]


def _return_word() -> list:  # value -> return it as one 32-byte word
    return [*_push(0), "MSTORE", *_push(32), *_push(0), "RETURN"]


def _return_string(text: str) -> list:
    raw = text.encode()
    assert len(raw) <= 32
    return [
        *_push(32), *_push(0), "MSTORE",
        *_push(len(raw)), *_push(32), "MSTORE",
        *_push(raw.ljust(32, b"\0")), *_push(64), "MSTORE",
        *_push(96), *_push(0), "RETURN",
    ]


def _sel(sig: str) -> bytes:
    return function_signature_to_4byte_selector(sig)


def _log_transfer(from_: list) -> list:  # stack: amt to -> amt to (logs Transfer(from, to, amt))
    return ["DUP2", *_push(0), "MSTORE", *from_, *_push(TRANSFER_TOPIC), *_push(32), *_push(0), "LOG3"]


def _runtime() -> bytes:
    mask = _push(ADDRESS_MASK)
    dispatch = []
    for sig, label in (
        ("transfer(address,uint256)", "transfer"),
        ("balanceOf(address)", "balanceOf"),
        ("decimals()", "decimals"),
        ("totalSupply()", "totalSupply"),
        ("mint(address,uint256)", "mint"),
        ("symbol()", "symbol"),
        ("name()", "name"),
    ):
        dispatch += ["DUP1", *_push(_sel(sig)), "EQ", ("ref", label), "JUMPI"]
    items = [
        *_push(0), "CALLDATALOAD", *_push(0xE0), "SHR",
        *dispatch,
        ("label", "revert"), *_push(0), "DUP1", "REVERT",
        # balanceOf(owner)
        ("label", "balanceOf"), *_push(4), "CALLDATALOAD", *mask, "AND", *_key(), "SLOAD", *_return_word(),
        # transfer(to, amount)
        ("label", "transfer"),
        *_push(36), "CALLDATALOAD",                      # amt
        "CALLER", *_key(), "SLOAD",                      # amt bal
        "DUP1", "DUP3", "GT", ("ref", "revert"), "JUMPI",  # amt > bal -> revert
        "DUP2", "SWAP1", "SUB",                          # amt bal-amt
        "CALLER", *_key(), "SSTORE",                     # amt
        *_push(4), "CALLDATALOAD", *mask, "AND",         # amt to
        "DUP1", *_key(), "SLOAD", "DUP3", "ADD", "DUP2", *_key(), "SSTORE",
        *_log_transfer(["CALLER"]),
        "POP", "POP", *_push(1), *_return_word(),
        # mint(to, amount), owner only
        ("label", "mint"),
        "CALLER", *_push(0), "SLOAD", "EQ", "ISZERO", ("ref", "revert"), "JUMPI",
        *_push(36), "CALLDATALOAD",
        *_push(4), "CALLDATALOAD", *mask, "AND",         # amt to
        "DUP1", *_key(), "SLOAD", "DUP3", "ADD", "DUP2", *_key(), "SSTORE",
        *_push(1), "SLOAD", "DUP3", "ADD", *_push(1), "SSTORE",
        *_log_transfer(_push(0)),
        "POP", "POP", *_push(1), *_return_word(),
        ("label", "decimals"), *_push(DECIMALS), *_return_word(),
        ("label", "totalSupply"), *_push(1), "SLOAD", *_return_word(),
        ("label", "symbol"), *_return_string(SYMBOL),
        ("label", "name"), *_return_string(NAME),
    ]
    return assemble(items)


RUNTIME = _runtime()


def _deploy() -> bytes:
    def ctor(offset: int) -> bytes:
        return assemble([
            "CALLER", *_push(0), "SSTORE",
            b"\x61" + len(RUNTIME).to_bytes(2, "big"), b"\x61" + offset.to_bytes(2, "big"), *_push(0), "CODECOPY",
            b"\x61" + len(RUNTIME).to_bytes(2, "big"), *_push(0), "RETURN",
        ])

    head = ctor(0)
    return ctor(len(head)) + RUNTIME


DEPLOY_CODE = _deploy()

ABI = [
    {"type": "function", "name": "transfer", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "mint", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "uint8"}]},
    {"type": "function", "name": "totalSupply", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "symbol", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "string"}]},
    {"type": "function", "name": "name", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "string"}]},
    {"type": "event", "name": "Transfer", "anonymous": False,
     "inputs": [{"name": "from", "type": "address", "indexed": True},
                {"name": "to", "type": "address", "indexed": True},
                {"name": "value", "type": "uint256", "indexed": False}]},
]
