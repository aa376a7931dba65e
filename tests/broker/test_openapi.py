"""The API checked against its own OpenAPI document with schemathesis, over real HTTP, with a
bounded number of generated examples per operation (positive and negative data)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broker_helpers import API_KEY, OPERATORS, ApiServer, make_broker

EXAMPLES_MAX = 12  # per operation, positive and negative data (fuzzing phase)
COVERAGE_PHASE = True  # boundary and negative cases derived from each schema
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]
HEADERS = {"X-API-Key": API_KEY, "X-Operator-Key": OPERATORS["alice"]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("openapi") / "broker.db")
    else:
        url = request.getfixturevalue("pg").create_database("openapi")
    b, rt = make_broker(url)
    server = ApiServer(b, rt).start()
    yield server
    server.stop()


def _document() -> dict:
    """The OpenAPI document of a broker on the in-process chain, read once at collection.
    (schemathesis' lazy fixture loader does not work with pytest 9.2, hence a static one; the
    served app below is built the same way, and the test checks the two documents agree.)"""
    import tempfile

    from nexus.backoffice import create_app

    with tempfile.TemporaryDirectory() as d:
        b, rt = make_broker(f"{d}/doc.db")
        try:
            return create_app(b).openapi()
        finally:
            rt.deliverer.close()
            b.db.dispose()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.phases.coverage.enabled = COVERAGE_PHASE


def _headers(case):
    """The keys every call needs -- except on a case whose headers are the negative part
    (e.g. X-API-Key removed or malformed): sent as generated, since adding valid keys back
    would turn it into a valid request that the negative-data check then calls accepted."""
    from schemathesis.generation.meta import GenerationMode, ParameterLocation

    info = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    return None if info is not None and info.mode == GenerationMode.NEGATIVE else HEADERS


@schema.parametrize()
@settings(max_examples=EXAMPLES_MAX, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case, served):
    case.call_and_validate(base_url=served.base, headers=_headers(case), checks=CHECKS)


def test_openapi_document_describes_the_contract(served):
    import httpx

    doc = httpx.get(served.base + "/openapi.json").json()
    assert doc == DOCUMENT
    paths = doc["paths"]
    for p in ("/api/v1/customers", "/api/v1/customers/{code}/accounts", "/api/v1/prices/{crypto}", "/api/v1/buy", "/api/v1/buy/simulate",
              "/api/v1/sell", "/api/v1/sell/simulate", "/api/v1/merchant", "/api/v1/gift", "/api/v1/transactions/{code}/payment",
              "/api/v1/transactions/{code}/cancel", "/api/v1/transactions/{code}/payout", "/api/v1/operator/transactions/{code}/{action}",
              "/api/v1/transactions/{code}", "/api/v1/transactions", "/api/v1/transactions/{code}/callbacks", "/api/v1/sim/deposit", "/api/v1/sim/mine"):
        assert p in paths, p
    err = doc["components"]["schemas"]["ErrorBody"]
    assert err["properties"]["error"]
    for op in paths["/api/v1/buy"].values():
        assert {"201", "400", "401", "404", "409", "422"} <= set(op["responses"])
