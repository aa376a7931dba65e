"""Execution: the order model and lifecycle (orders.py), positions and PnL from fills
(positions.py). Venue signing and order entry live in each venue's package."""
