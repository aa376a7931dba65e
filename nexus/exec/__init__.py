"""Execution: the order model and lifecycle (orders.py), positions and PnL from fills
(positions.py), request signing's shared machinery (signing/: the HMAC base, EIP-712,
Polymarket). Each venue's own signer lives in its package (nexus/venues/<venue>/sign.py)."""
