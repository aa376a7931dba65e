"""Hyperliquid exchange-action signing (L1 actions and user-signed actions).

Hyperliquid API docs, "Exchange endpoint" and "Signing" (and the behaviour pinned by the
official hyperliquid-python-sdk `utils/signing.py` tests):

- L1 actions (orders, cancels, leverage, ...): hash = keccak256(msgpack(action) ||
  nonce as 8 bytes big-endian || 0x00 when there is no vault, else 0x01 || vault address
  (20 bytes) || [0x00 || expiresAfter as 8 bytes big-endian, when given]). The signed
  struct is the "phantom agent" `Agent(string source,bytes32 connectionId)` with source "a"
  on mainnet and "b" on testnet, connectionId the hash, under the EIP-712 domain {name
  "Exchange", version "1", chainId 1337, verifyingContract 0x0}.
- User-signed actions (transfers, withdrawals, approvals), recognised by carrying
  `signatureChainId` and `hyperliquidChain`: EIP-712 struct
  `HyperliquidTransaction:<Name>` over the action's own fields (USER_SIGNED below), domain
  {name "HyperliquidSignTransaction", version "1", chainId = int(signatureChainId),
  verifyingContract 0x0}.

The action is msgpack-encoded exactly as given (key order kept), so it must be the object
that is sent. Output r and s are 0x-hex of the integers (no zero padding), as the venue
and its SDK send them.
"""

from __future__ import annotations

import msgpack
from eth_hash.auto import keccak

from nexus.exec.signing.base import SigningError
from nexus.exec.signing.eip712 import ADDRESS_BYTES, PrivateKey, typed_digest

ZERO_ADDRESS = "0x" + "00" * ADDRESS_BYTES
L1_DOMAIN = {"name": "Exchange", "version": "1", "chainId": 1337, "verifyingContract": ZERO_ADDRESS}
AGENT_FIELDS = (("source", "string"), ("connectionId", "bytes32"))
USER_DOMAIN_NAME = "HyperliquidSignTransaction"
NONCE_BYTES = 8

_CHAIN = ("hyperliquidChain", "string")
# action type -> (EIP-712 primary type suffix, fields signed), from the Hyperliquid docs'
# user-signed actions.
USER_SIGNED: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "usdSend": ("UsdSend", (_CHAIN, ("destination", "string"), ("amount", "string"), ("time", "uint64"))),
    "spotSend": ("SpotSend", (_CHAIN, ("destination", "string"), ("token", "string"), ("amount", "string"),
                              ("time", "uint64"))),
    "withdraw3": ("Withdraw", (_CHAIN, ("destination", "string"), ("amount", "string"), ("time", "uint64"))),
    "usdClassTransfer": ("UsdClassTransfer", (_CHAIN, ("amount", "string"), ("toPerp", "bool"),
                                              ("nonce", "uint64"))),
    "sendAsset": ("SendAsset", (_CHAIN, ("destination", "string"), ("sourceDex", "string"),
                                ("destinationDex", "string"), ("token", "string"), ("amount", "string"),
                                ("fromSubAccount", "string"), ("nonce", "uint64"))),
    "approveAgent": ("ApproveAgent", (_CHAIN, ("agentAddress", "address"), ("agentName", "string"),
                                      ("nonce", "uint64"))),
    "approveBuilderFee": ("ApproveBuilderFee", (_CHAIN, ("maxFeeRate", "string"), ("builder", "address"),
                                                ("nonce", "uint64"))),
    "tokenDelegate": ("TokenDelegate", (_CHAIN, ("validator", "address"), ("wei", "uint64"),
                                        ("isUndelegate", "bool"), ("nonce", "uint64"))),
    "convertToMultiSigUser": ("ConvertToMultiSigUser", (_CHAIN, ("signers", "string"), ("nonce", "uint64"))),
    "userDexAbstraction": ("UserDexAbstraction", (_CHAIN, ("user", "address"), ("enabled", "bool"),
                                                  ("nonce", "uint64"))),
    "userSetAbstraction": ("UserSetAbstraction", (_CHAIN, ("user", "address"), ("abstraction", "string"),
                                                  ("nonce", "uint64"))),
}


def _u64(value, field: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << (8 * NONCE_BYTES):
        raise SigningError(f"`{field}` must be an unsigned 64-bit integer")
    return value.to_bytes(NONCE_BYTES, "big")


def action_hash(action, nonce: int, vault_address: str | None, expires_after: int | None) -> bytes:
    """The L1 action hash (the phantom agent's connectionId)."""
    try:
        data = msgpack.packb(action)
    except (TypeError, ValueError, OverflowError):
        raise SigningError("`action` cannot be msgpack-encoded") from None
    data += _u64(nonce, "nonce")
    if vault_address is None:
        data += b"\x00"
    else:
        try:
            raw = bytes.fromhex(vault_address[2:] if vault_address.startswith("0x") else vault_address)
        except (ValueError, AttributeError):
            raw = b""
        if len(raw) != ADDRESS_BYTES:
            raise SigningError("`vault_address` must be a 20-byte 0x-hex address or null")
        data += b"\x01" + raw
    if expires_after is not None:
        data += b"\x00" + _u64(expires_after, "expires_after")
    return keccak(data)


def is_user_signed(action) -> bool:
    return isinstance(action, dict) and "signatureChainId" in action and "hyperliquidChain" in action


def sign_action(key: PrivateKey, action: dict, nonce: int, vault_address: str | None = None,
                expires_after: int | None = None, testnet: bool = False) -> dict:
    """{"r", "s", "v"} for an L1 action (phantom agent) or a user-signed action."""
    if not isinstance(action, dict):
        raise SigningError("`action` must be an object")
    if is_user_signed(action):
        digest = user_signed_digest(action)
    else:
        agent = {"source": "b" if testnet else "a",
                 "connectionId": action_hash(action, nonce, vault_address, expires_after)}
        digest = typed_digest(L1_DOMAIN, "Agent", AGENT_FIELDS, agent)
    r, s, v = key.sign_digest(digest)
    return {"r": hex(r), "s": hex(s), "v": v}


def user_signed_digest(action: dict) -> bytes:
    kind = action.get("type")
    if kind not in USER_SIGNED:
        raise SigningError(f"user-signed action type must be one of {', '.join(sorted(USER_SIGNED))}")
    name, fields = USER_SIGNED[kind]
    try:
        chain_id = int(action["signatureChainId"], 16)
    except (TypeError, ValueError):
        raise SigningError("`action.signatureChainId` must be a 0x-hex chain id") from None
    domain = {"name": USER_DOMAIN_NAME, "version": "1", "chainId": chain_id, "verifyingContract": ZERO_ADDRESS}
    return typed_digest(domain, "HyperliquidTransaction:" + name, fields, action, "action.")
