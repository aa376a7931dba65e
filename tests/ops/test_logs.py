"""JSON log lines: ts, level, logger, msg and the access log's request fields, nothing else."""

from __future__ import annotations

import io
import json
import logging

from nexus.ops.logs import ACCESS_LOGGER, setup_logging


def test_json_lines_carry_the_contract_fields_only():
    buf = io.StringIO()
    setup_logging("info", "json", access_log=True, stream=buf)
    try:
        logging.getLogger("nexus.test").warning("venue %s down", "okx-swap", extra={"api_key": "s3cr3t-key"})
        logging.getLogger(ACCESS_LOGGER).info("GET /x 200", extra={"request": {"method": "GET", "status": 200}})
    finally:
        setup_logging("warning", "text")
    first, second = (json.loads(line) for line in buf.getvalue().splitlines())
    assert set(first) == {"ts", "level", "logger", "msg"}
    assert first["level"] == "warning" and first["logger"] == "nexus.test" and first["msg"] == "venue okx-swap down"
    assert first["ts"].endswith("+00:00")
    assert second["request"] == {"method": "GET", "status": 200} and second["logger"] == ACCESS_LOGGER
    assert "s3cr3t-key" not in buf.getvalue()


def test_access_log_off_unless_asked():
    buf = io.StringIO()
    setup_logging("debug", "text", access_log=False, stream=buf)
    try:
        logging.getLogger(ACCESS_LOGGER).info("GET /x 200")
    finally:
        setup_logging("warning", "text")
    assert buf.getvalue() == ""
