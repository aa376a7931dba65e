"""Order-flow metrics and signal detectors: the Python side of the compiled flow engine
(engine/flow.pyx). Parameters (params.py), output dtypes (dtypes.py), signal types and facts
(signals.py), exact decimal formatting (format.py), the runtime glue that drives the engine
over record batches (runtime.py) and a pure-Python implementation of the same logic
(pyengine.py) used as the benchmark baseline and as a second implementation in the tests."""
