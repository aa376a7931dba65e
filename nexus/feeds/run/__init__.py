"""The parts of `nexus run`, composed by the thin `nexus.feeds.runtime.Runtime`:

| module | part |
|---|---|
| `config.py` | `RunConfig` and the ring sizes every part agrees on |
| `supervisor.py` | the feed handlers (in this process or one process each) and the simulator |
| `readers.py` | one ring reader per venue, the books rebuilt from it, latencies, the trade tape |
| `aggregation.py` | the Aggregator over the readers' batches, with the flow engine's consensus hooks |
| `publication.py` | the consensus best bid/ask as BBO records on a ring |
| `stats.py` | the per-venue figures of each second's line and of the summary |

The flow engine's part is `nexus.flow.live.LiveFlow`.
"""
