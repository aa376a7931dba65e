"""Logging for long-running commands: `--log-format text|json` and `--log-level`.

JSON lines carry `ts` (UTC, ISO 8601 with microseconds), `level`, `logger`, `msg`, and the
fields a caller passes in `extra={"request": {...}}` (the access log). The formatter never
walks a record's arbitrary attributes: only the names in `EXTRA_FIELDS` leave the process, so
a secret handed to a logger by mistake as an extra is not written either."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXTRA_FIELDS = ("request",)  # structured fields a log call may carry (extra={...})
ACCESS_LOGGER = "nexus.access"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg (+ exc, + the EXTRA_FIELDS present)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="microseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if name in record.__dict__:
                out[name] = record.__dict__[name]
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(level: str = "warning", fmt: str = "text", *, access_log: bool = False, stream=None) -> None:
    """Configure the root logger once for this process: one handler on stderr (or `stream`)
    in the chosen format; the access log at INFO when asked, whatever `level` is."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    access = logging.getLogger(ACCESS_LOGGER)
    access.setLevel(logging.INFO if access_log else logging.WARNING)
    access.disabled = not access_log
