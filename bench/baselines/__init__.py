"""Pure-Python twins of compiled kernels: benchmark baselines and test references only, not
shipped in the `nexus` package (`nexus bench` says so when the source tree is absent)."""
