import pytest

from risk_helpers import seed_store


@pytest.fixture
def db(tmp_path):
    url = str(tmp_path / "risk.sqlite3")
    seed_store(url)
    return url


@pytest.fixture(scope="module")
def pg_url():
    """A database on a real PostgreSQL server in a temporary directory (fails, never skips)."""
    from nexus.broker.pgtemp import PgServer, PostgresUnavailable

    try:
        server = PgServer().start()
    except PostgresUnavailable as e:
        pytest.fail(f"PostgreSQL could not be started: {e}", pytrace=False)
    yield server.create_database("risk")
    server.stop()
