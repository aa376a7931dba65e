"""The Tradebot: keeps the hot-wallet and exchange reserves of each crypto on target.

- `snapshot`  — the decision's input and output types, and their JSON schema (parsing is strict).
- `decision`  — the pure decision: guards, then the seed's four rules, `Decimal` throughout.
- `settings`  — per-crypto settings, validated when set (the seed's bad-parameter cases refused).
- `store`     — SQL tables (`tradebot_*`) for settings and the audit log (SQLAlchemy Core).
- `ports`     — the small interfaces the scheduler reads balances from and executes actions on.
- `paper`     — a runnable in-memory hot wallet + exchange implementing those ports.
- `scheduler` — runs the decision per active crypto on a clock, never overlapping per crypto.
- `cli`       — `nexus tradebot decide | settings | log | run`.
"""
