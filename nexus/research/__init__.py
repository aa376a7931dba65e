"""Offline research helpers over recorded arrays (numba-compiled loops): a day of OFI and
VPIN from saved book tops and trades, delta z-score series, and parameter sweeps for the
detectors. Not on the live path: the live engine is engine/flow.pyx.

numba is an optional dependency (`pip install nexus[research]`, and the dev extra)."""
