"""Benchmarks (pytest-benchmark micro benchmarks, `pytest bench`) and, in `baselines/`, the
pure-Python twins `nexus bench` compares the compiled code with. Not part of the shipped
`nexus` package."""
