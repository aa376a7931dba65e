"""The risk gate's control plane: settings with their allowed ranges (settings.py), the
reason codes and order record (codes.py), the gate over the compiled checks (gate.py) and the
store that keeps the day's PnL, caps and LIMIT HIT latch across restarts (store.py)."""
