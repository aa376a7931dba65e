"""Fixtures for the broker tests: a real PostgreSQL server (started once per session in a
temporary directory; the tests fail, never skip, when it cannot start), a database per test
on SQLite and on PostgreSQL, brokers on the in-process chain with a manual clock, the API
served by uvicorn on 127.0.0.1, and callback receivers that verify signatures."""

from __future__ import annotations

import itertools
import os

import pytest

from nexus.broker.pgtemp import PgServer, PostgresUnavailable
from broker_helpers import ApiServer, Receiver, make_broker

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg():
    try:
        server = PgServer().start()
    except PostgresUnavailable as e:
        pytest.fail(f"PostgreSQL could not be started for the broker tests: {e}", pytrace=False)
    yield server
    server.stop()


def _db_url(kind: str, request, tmp_path) -> str:
    if kind == "sqlite":
        return str(tmp_path / "broker.db")
    pg = request.getfixturevalue("pg")
    return pg.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    return _db_url(request.param, request, tmp_path)


@pytest.fixture
def broker(db_url):
    b, rt = make_broker(db_url)
    yield b, rt
    rt.deliverer.close()
    b.db.dispose()


@pytest.fixture
def api(db_url):
    """A broker served over HTTP with its background workers running (manual clock)."""
    b, rt = make_broker(db_url)
    server = ApiServer(b, rt).start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    r = Receiver(b"test-callback-secret").start()
    yield r
    r.stop()


@pytest.fixture
def api_manual(db_url):
    """Like `api`, but no background workers: the test drives the scheduler itself."""
    b, rt = make_broker(db_url)
    server = ApiServer(b, rt, background=False).start()
    yield server
    server.stop()
