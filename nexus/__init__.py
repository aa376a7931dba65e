"""Nexus: a low-latency market-data and execution engine with a crypto broker back office.

Importing the package is cheap; the native core (`nexus._native`) and the Cython engine
(`engine`) are loaded by the modules that need them (`nexus.record`, `nexus.ring`, ...).
"""

__version__ = "0.1.0"
