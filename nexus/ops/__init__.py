"""Operations for headless servers: Prometheus metrics (metrics.py), logging as text or JSON
lines with an access log (logs.py, http.py). Shared by `nexus run`, `nexus broker serve` and
the bridges (bridges/ call `nexus.ops.metrics.bridge_metrics`)."""
