"""Benchmarks (pytest-benchmark files) and, in `baselines/`, the pure-Python twins the
`nexus bench` commands compare the compiled code against."""
