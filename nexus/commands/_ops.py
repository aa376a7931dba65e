"""Options the long-running servers share: --log-level, --log-format, --metrics-port and
--metrics-host, and starting the metrics endpoint (its real address printed on stderr as
`{"metrics": URL}`, exit 4 when it cannot be bound)."""

from __future__ import annotations

import json
import sys

import click

from nexus.cli import EXIT_UPSTREAM
from nexus.ops.logs import LOG_FORMATS, LOG_LEVELS


def ops_options(f):
    for opt in reversed((
        click.option("--log-level", default="warning", show_default=True, type=click.Choice(LOG_LEVELS), help="Log threshold (stderr)."),
        click.option("--log-format", default="text", show_default=True, type=click.Choice(LOG_FORMATS),
                     help="Logs as text, or as JSON lines {ts, level, logger, msg, ...}."),
        click.option("--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
                     help="Serve Prometheus metrics at http://HOST:PORT/metrics (0: a free port, printed on stderr)."),
        click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address the metrics endpoint binds."),
    )):
        f = opt(f)
    return f


def start_metrics(registry, port: int, host: str):
    """Serve `registry`; print where on stderr. Exit 4 with the reason when the port cannot be bound."""
    from nexus.ops.metrics import serve

    try:
        server, bound = serve(registry, port, host)
    except OSError as e:
        click.echo(f"nexus: --metrics-port {port} on {host}: {e.strerror or e}", err=True)
        sys.exit(EXIT_UPSTREAM)
    click.echo(json.dumps({"metrics": f"http://{host}:{bound}/metrics"}), err=True)
    return server
