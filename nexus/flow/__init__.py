"""Order-flow metrics and signal detectors: the Python side of the compiled flow engine
(engine/flow.pyx). Parameters (params.py), output dtypes (dtypes.py), signal types and facts
(signals.py), exact decimal formatting (format.py), the runtime glue that drives the engine
over record batches (runtime.py). A pure-Python implementation of the same logic, the
benchmark baseline and a second implementation for the tests, is in the source tree's
bench/baselines/flow_engine.py."""
