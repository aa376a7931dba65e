"""The Tradebot's settings routes in the broker API (operator key), over `SettingsStore` on
the broker's own database (SQLite WAL and busy timeout, or PostgreSQL).

    GET /api/v1/operator/tradebot/settings              -> {"settings": [..]}
    GET /api/v1/operator/tradebot/settings/{crypto}     -> the crypto's settings
    PUT /api/v1/operator/tradebot/settings/{crypto}     {field: "decimal string" | bool, ...}
        a new crypto needs every field; an existing one takes a partial update. The seed's bad
        parameters are refused (422 `settings_refused`) and nothing is stored.

Amounts are decimal strings, as everywhere in the broker API (JSON numbers are refused).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from nexus.broker.api import Ctx, error_responses
from nexus.broker.errors import Invalid, NotFound
from nexus.broker.units import CRYPTOS
from nexus.tradebot.errors import SettingsRefused
from nexus.tradebot.settings import AMOUNT_FIELDS, NAME_CHARS_MAX, settings_from_obj
from nexus.tradebot.store import SettingsStore, metadata

CRYPTO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,%d}$" % (NAME_CHARS_MAX - 1)
Crypto = Annotated[str, Path(pattern=CRYPTO_PATTERN)]


def tradebot_routes(r: APIRouter, c: Ctx) -> None:
    b = c.b
    metadata.create_all(b.db.pool)  # only the tradebot_* tables
    store = SettingsStore(b.db.pool)
    operator = c.operator

    @r.get("/operator/tradebot/settings", responses=error_responses(401), tags=["tradebot"])
    def list_settings(_: str = Depends(operator)) -> dict[str, Any]:
        return {"settings": [s.to_obj() for s in store.all()]}

    @r.get("/operator/tradebot/settings/{crypto}", responses=error_responses(401, 404, 422), tags=["tradebot"])
    def get_settings(crypto: Crypto, _: str = Depends(operator)) -> dict[str, Any]:
        s = store.get(crypto)
        if s is None:
            raise NotFound(f"no Tradebot settings for {crypto}", code="not_found")
        return s.to_obj()

    @r.put("/operator/tradebot/settings/{crypto}", responses=error_responses(400, 401, 422), tags=["tradebot"])
    def put_settings(crypto: Crypto, body: Annotated[dict[str, Any], Body()], _: str = Depends(operator)) -> dict[str, Any]:
        for name in AMOUNT_FIELDS:
            if name in body and not isinstance(body[name], str):
                raise Invalid(f"{name}: amounts are decimal strings like \"100.00\"", code="invalid_amount")
        if body.get("crypto", crypto) != crypto:
            raise Invalid("the body's crypto differs from the path's", code="invalid_request")
        if crypto not in CRYPTOS:
            raise Invalid(f"the broker carries {' and '.join(CRYPTOS)} only, not {crypto}", code="settings_refused")
        base = store.get(crypto)
        changes = {k: v for k, v in body.items() if k != "crypto"}
        if base is None:
            changes["crypto"] = crypto
        try:
            s = store.put(settings_from_obj(changes, base), b.now_us() * 1000)
        except SettingsRefused as e:
            raise Invalid(str(e), code="settings_refused") from None
        return s.to_obj()
