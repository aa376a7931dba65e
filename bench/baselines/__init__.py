"""Pure-Python twins of compiled parts, used as benchmark baselines and as second
implementations the tests compare the compiled code with, output for output:
flow_engine.py (engine/flow.pyx), consensus.py (the native consensus book) and
risk_gate.py (engine/risk.pyx).
`nexus bench` loads them through nexus.bench.baselines."""
