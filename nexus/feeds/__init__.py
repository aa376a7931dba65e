"""Live feeds: venue connection specs, picows connections with heartbeats, resync and
reconnect with backoff, the per-venue runtime that publishes records into rings, and the
raw-frame recorder."""
