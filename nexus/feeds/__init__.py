"""Live feeds: venue connection specs, picows connections with heartbeats, resync and
reconnect with backoff, the per-venue handler that publishes records into rings, `nexus run`'s
Runtime and its parts (run/), the raw-line reader of venue messages (lines.py), and the
raw-frame recorder."""
