"""The broker's HTTP API (FastAPI): JSON under /api/v1, integrator key in X-API-Key, operator
key in X-Operator-Key, errors as {"error": {"code", "message"}}, OpenAPI at /openapi.json.
Handlers are thin: each runs one service call in one database transaction."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Annotated, Callable, Literal, Optional

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException

from nexus.broker import api_models as M
from nexus.broker import callback_urls, customers, health, idempotency, orders, pricing, treasury
from nexus.broker.bodylimit import BodyLimit
from nexus.broker import schema as S
from nexus.broker.clock import iso
from nexus.broker.context import Broker
from nexus.broker.errors import BrokerError, Invalid, Unauthorized
from nexus.broker.units import CRYPTOS, CURRENCIES, EUR, to_str, to_units

log = logging.getLogger("nexus.broker.api")
PREFIX = "/api/v1"
VALIDATION_ERRORS_SHOWN = 3  # problems named in one 422 message
BODY_BYTES_MAX = 64 * 1024  # a request body larger than this is refused (413) before it is read whole

_api_key = APIKeyHeader(name="X-API-Key", scheme_name="IntegratorKey", auto_error=False, description="integrator key")
_operator_key = APIKeyHeader(name="X-Operator-Key", scheme_name="OperatorKey", auto_error=False, description="operator key")


def error_responses(*codes: int) -> dict:
    return {c: {"model": M.ErrorBody, "description": "error"} for c in codes}


ACTION_ERRORS = error_responses(401, 403, 404, 409, 422)
QUOTE_ERRORS = error_responses(400, 401, 404, 409, 422, 503)


def _error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


IdemKey = Annotated[Optional[str], Header(alias="Idempotency-Key", max_length=200, description="replays the first response for the same body")]
Code = Annotated[str, Path(pattern=M.CODE_PATTERN)]


class Ctx:
    """What the route groups share: the broker, the two key checks (FastAPI dependencies), and
    the two ways a handler writes: one transaction, or one idempotent creating transaction."""

    def __init__(self, broker: Broker) -> None:
        self.b = broker

    def integrator(self, key: Annotated[Optional[str], Depends(_api_key)]) -> str:
        if not self.b.secrets.check_api_key(key):
            raise Unauthorized("missing or wrong X-API-Key", code="unauthorized")
        return "integrator"

    def operator(self, key: Annotated[Optional[str], Depends(_operator_key)]) -> str:
        name = self.b.secrets.operator_for(key)
        if name is None:
            raise Unauthorized("missing or wrong X-Operator-Key", code="unauthorized")
        return name

    def run(self, fn):
        out = self.b.db.run(fn)
        self.b.wake()
        return out

    def idempotent(self, request: Request, key: Optional[str], body: M.BaseModel, fn, status: int = 201) -> JSONResponse:
        h = idempotency.request_hash(request.method, request.url.path, body.model_dump(mode="json"))
        code, content, replayed = idempotency.run(self.b, key, h, lambda conn: (status, fn(conn)))
        self.b.wake()
        resp = JSONResponse(content, status_code=code)
        if replayed:
            resp.headers["Idempotent-Replayed"] = "true"
        return resp


def price_view(b: Broker, crypto: str) -> dict:
    mid, at = b.prices.mid(crypto)
    return {"crypto": crypto, "fiat": EUR.code, "buy_price": str(pricing.buy_price(mid)), "sell_price": str(pricing.sell_price(mid)), "at": iso(at)}


def _install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as {"error": {"code", "message"}}."""

    @app.exception_handler(BrokerError)
    async def _broker_error(_req: Request, e: BrokerError):
        return _error_response(e.http_status, e.code, e.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_req: Request, e: RequestValidationError):
        errs = e.errors()
        if any(err.get("type") == "json_invalid" for err in errs):
            return _error_response(400, "malformed_json", "the request body is not valid JSON")
        return _error_response(422, "invalid_request", "; ".join(dict.fromkeys(M.explain(err) for err in errs[:VALIDATION_ERRORS_SHOWN])))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_req: Request, e: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        resp = _error_response(e.status_code, code, str(e.detail))
        for k, v in (e.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(sa.exc.DataError)
    async def _data_error(_req: Request, e: sa.exc.DataError):  # defence in depth: the models refuse this first
        return _error_response(422, "invalid_request", "a value cannot be stored (invalid characters or out of range)")

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, e: Exception):
        log.exception("unexpected error")
        return _error_response(500, "internal", "internal error; see the server log")


def _query_guard(app: FastAPI):
    """A dependency refusing query parameters the operation does not declare."""
    declared: dict[tuple[str, str], set[str]] = {}

    def no_unknown_query_parameters(request: Request) -> None:
        """A query parameter the operation does not declare is refused, not silently ignored."""
        if not request.query_params:
            return
        if not declared:  # built once from the app's own OpenAPI document
            for path, ops in app.openapi()["paths"].items():
                for method, op in ops.items():
                    declared[(method, path)] = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        route = request.scope.get("route")
        allowed = declared.get((request.method.lower(), getattr(route, "path", "")), set())
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise Invalid(f"unknown query parameter(s): {', '.join(unknown)}", code="invalid_request")

    return no_unknown_query_parameters


def _customer_routes(r: APIRouter, c: "Ctx") -> None:
    """Customers and accounts."""
    b = c.b
    integrator = c.integrator
    idempotent = c.idempotent


    @r.post("/customers", status_code=201, response_model=M.CustomerOut, responses=error_responses(400, 401, 409, 422), tags=["customers"])
    def create_customer(body: M.CustomerIn, request: Request, idem: IdemKey = None, _: str = Depends(integrator)):
        return idempotent(request, idem, body, lambda conn: customers.create_customer(conn, b, body.code, body.name, body.email, body.merchant))

    @r.get("/customers/{code}", response_model=M.CustomerOut, responses=error_responses(401, 404, 422), tags=["customers"])
    def get_customer(code: Code, _: str = Depends(integrator)):
        with b.db.read() as conn:
            return customers.customer_view(customers.get_customer_row(conn, code))

    @r.post("/customers/{code}/accounts", status_code=201, response_model=M.AccountOut, responses=error_responses(400, 401, 404, 409, 422), tags=["customers"])
    def create_account(code: Code, body: M.AccountIn, request: Request, idem: IdemKey = None, _: str = Depends(integrator)):
        return idempotent(request, idem, body, lambda conn: customers.create_account(conn, b, code, body.crypto, body.withdraw_address, body.callback_url))

    @r.get("/accounts/{code}", response_model=M.AccountOut, responses=error_responses(401, 404, 422), tags=["customers"])
    def get_account(code: Code, _: str = Depends(integrator)):
        with b.db.read() as conn:
            acc = customers.get_account_row(conn, code)
            return customers.account_view(acc, acc["customer_code"])


def _quote_routes(r: APIRouter, c: "Ctx") -> None:
    """Prices, quotes and the creating POSTs of transactions."""
    b = c.b
    integrator = c.integrator
    operator = c.operator
    idempotent = c.idempotent


    @r.get("/prices/{crypto}", response_model=M.PriceOut, responses=error_responses(401, 422, 503), tags=["prices"])
    def get_price(crypto: M.Crypto, _: str = Depends(integrator)):
        return price_view(b, crypto)

    @r.post("/buy", status_code=201, response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["transactions"])
    def create_buy(body: M.BuyIn, request: Request, idem: IdemKey = None, _: str = Depends(integrator)):
        return idempotent(request, idem, body, lambda conn: orders.buy(conn, b, body.model_dump(), simulate=False))

    @r.post("/buy/simulate", response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["transactions"])
    def simulate_buy(body: M.BuyIn, _: str = Depends(integrator)):
        with b.db.read() as conn:
            return orders.buy(conn, b, body.model_dump(), simulate=True)

    @r.post("/sell", status_code=201, response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["transactions"])
    def create_sell(body: M.SellIn, request: Request, idem: IdemKey = None, _: str = Depends(integrator)):
        return idempotent(request, idem, body, lambda conn: orders.sell(conn, b, body.model_dump(), simulate=False))

    @r.post("/sell/simulate", response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["transactions"])
    def simulate_sell(body: M.SellIn, _: str = Depends(integrator)):
        with b.db.read() as conn:
            return orders.sell(conn, b, body.model_dump(), simulate=True)

    @r.post("/merchant", status_code=201, response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["transactions"])
    def create_merchant(body: M.BuyIn, request: Request, idem: IdemKey = None, _: str = Depends(integrator)):
        return idempotent(request, idem, body, lambda conn: orders.merchant(conn, b, body.model_dump()))

    @r.post("/gift", status_code=201, response_model=M.QuoteOut, responses=QUOTE_ERRORS, tags=["operator"])
    def create_gift(body: M.GiftIn, request: Request, idem: IdemKey = None, op: str = Depends(operator)):
        return idempotent(request, idem, body, lambda conn: orders.gift(conn, b, body.model_dump(), op))


def _transaction_routes(r: APIRouter, c: "Ctx") -> None:
    """The integrator's signals and the transaction views."""
    b = c.b
    integrator = c.integrator
    run = c.run


    @r.post("/transactions/{code}/payment", response_model=M.TransactionOut, responses=ACTION_ERRORS, tags=["transactions"])
    def payment(code: Code, _: str = Depends(integrator)):
        return run(lambda conn: orders.act(conn, b, code, "payment", "integrator", "integrator"))

    @r.post("/transactions/{code}/cancel", response_model=M.TransactionOut, responses=ACTION_ERRORS, tags=["transactions"])
    def cancel(code: Code, _: str = Depends(integrator)):
        return run(lambda conn: orders.act(conn, b, code, "cancel", "integrator", "integrator"))

    @r.post("/transactions/{code}/payout", response_model=M.TransactionOut, responses=ACTION_ERRORS, tags=["transactions"])
    def payout(code: Code, _: str = Depends(integrator)):
        return run(lambda conn: orders.act(conn, b, code, "payout", "integrator", "integrator"))

    @r.get("/transactions/{code}", response_model=M.TransactionOut, responses=error_responses(401, 404, 422), tags=["transactions"])
    def get_transaction(code: Code, _: str = Depends(integrator)):
        with b.db.read() as conn:
            return orders.get(conn, b, code)

    @r.get("/transactions", response_model=M.TransactionList, responses=error_responses(401, 422), tags=["transactions"])
    def list_transactions(
        customer: Annotated[Optional[str], Query(pattern=M.CODE_PATTERN)] = None,
        status: Optional[M.Status] = None,
        limit: Annotated[int, Query(ge=1, le=orders.LIST_MAX)] = 100,
        _: str = Depends(integrator),
    ):
        with b.db.read() as conn:
            return {"transactions": orders.listing(conn, customer, status, limit)}

    @r.get("/transactions/{code}/callbacks", response_model=M.CallbackLog, responses=error_responses(401, 404, 422), tags=["transactions"])
    def transaction_callbacks(code: Code, _: str = Depends(integrator)):
        with b.db.read() as conn:
            return orders.callbacks_of(conn, b, code)


def _operator_routes(r: APIRouter, c: "Ctx") -> None:
    """Operator actions and settings."""
    b = c.b
    operator = c.operator
    run = c.run


    @r.post("/operator/transactions/{code}/{action}", response_model=M.TransactionOut, responses=ACTION_ERRORS, tags=["operator"])
    def operator_action(code: Code, action: M.Action, op: str = Depends(operator)):
        return run(lambda conn: orders.operator_action(conn, b, code, action, op))

    @r.post("/operator/accounts/{code}/deactivate", response_model=M.AccountOut, responses=error_responses(401, 404, 422), tags=["operator"])
    def deactivate(code: Code, op: str = Depends(operator)):
        return run(lambda conn: customers.deactivate_account(conn, b, code, op))

    @r.put("/operator/payment-methods/{code}", response_model=M.PaymentMethodOut, responses=error_responses(400, 401, 422), tags=["operator"])
    def put_payment_method(code: Annotated[str, Path(pattern=M.METHOD_PATTERN)], body: M.PaymentMethodIn, _: str = Depends(operator)):
        callback_urls.check(body.callback_url, b.settings.allow_private_callbacks)
        fee_fixed = to_units(body.fee_fixed, CURRENCIES[body.fiat], field="fee_fixed")
        if Decimal(body.fee_rate) >= 1:
            raise Invalid("fee_rate must be below 1", code="invalid_fee")
        row = {"code": code, "fiat": body.fiat, "quote_window_s": body.quote_window_s, "fee_rate": body.fee_rate, "fee_fixed": fee_fixed, "callback_url": body.callback_url}

        def work(conn):
            pm = S.payment_methods
            if conn.execute(sa.select(pm.c.code).where(pm.c.code == code)).first():
                conn.execute(pm.update().where(pm.c.code == code).values(**row))
            else:
                conn.execute(pm.insert().values(**row))

        run(work)
        return {**row, "fee_fixed": body.fee_fixed}

    @r.put("/operator/cryptos/{crypto}", response_model=M.CryptoSettingsOut, responses=error_responses(400, 401, 422), tags=["operator"])
    def put_crypto(crypto: M.Crypto, body: M.CryptoSettingsIn, _: str = Depends(operator)):
        run(lambda conn: conn.execute(S.crypto_settings.update().where(S.crypto_settings.c.crypto == crypto).values(send_delay_s=body.send_delay_s)))
        return {"crypto": crypto, "send_delay_s": body.send_delay_s}


def _treasury_routes(r: APIRouter, c: "Ctx") -> None:
    """Balances beside the measured reserve, reserve transfers, deposits."""
    b = c.b
    operator = c.operator
    idempotent = c.idempotent

    @r.get("/operator/balances/{crypto}", response_model=M.BalancesOut, responses=error_responses(401, 422, 502), tags=["operator"])
    def balances(crypto: M.Crypto, _: str = Depends(operator)):
        return treasury.balances(b, crypto)

    @r.post("/operator/ledger/transfers", status_code=201, response_model=M.BalancesOut, responses=error_responses(400, 401, 409, 422, 502), tags=["operator"])
    def ledger_transfer(body: M.TransferIn, request: Request, idem: IdemKey = None, op: str = Depends(operator)):
        def work(conn):
            treasury.transfer(conn, b, body.crypto, body.from_account, body.to_account, body.amount, op, body.memo)
            return {"crypto": body.crypto}

        first = idempotent(request, idem, body, work)
        out = JSONResponse(treasury.balances(b, body.crypto), status_code=first.status_code)
        if first.headers.get("Idempotent-Replayed"):
            out.headers["Idempotent-Replayed"] = "true"
        return out

    @r.get("/operator/deposits", response_model=M.DepositList, responses=error_responses(401, 422), tags=["operator"])
    def list_deposits(state: Optional[Literal["assigned", "unassigned"]] = None, _: str = Depends(operator)):
        d, t = S.deposits.c, S.transactions.c
        q = sa.select(S.deposits, t.code.label("transaction_code")).select_from(S.deposits.outerjoin(S.transactions, t.id == d.transaction_id))
        if state:
            q = q.where(d.state == state)
        with b.db.read() as conn:
            rows = conn.execute(q.order_by(d.id.desc()).limit(500)).mappings().all()
        return {"deposits": [
            {"tx_hash": x["tx_hash"], "log_index": x["log_index"], "crypto": x["crypto"], "address": x["address"],
             "amount": to_str(x["amount"], CRYPTOS[x["crypto"]]), "block_number": x["block_number"], "state": x["state"],
             "transaction_code": x["transaction_code"], "note": x["note"], "detected_at": iso(x["detected_at_us"])}
            for x in rows
        ]}


def _sim_routes(r: APIRouter, c: "Ctx") -> None:
    """The in-process chain's controls (`--chain sim` only)."""
    b = c.b
    integrator = c.integrator


    sim = b.chain.sim

    @r.post("/sim/deposit", response_model=M.SimDepositOut, responses=error_responses(400, 401, 422, 502), tags=["sim"])
    def sim_deposit(body: M.SimDepositIn, _: str = Depends(integrator)):
        amount = to_units(body.amount, CRYPTOS[body.crypto])
        if amount <= 0:
            raise Invalid("amount must be greater than zero", code="invalid_amount")
        try:
            h = sim.deposit(body.address, body.crypto, amount)
        except Exception as e:
            raise Invalid(f"the simulated customer wallet refused: {type(e).__name__}", code="sim_refused") from None
        rcpt = b.chain.receipt(h)
        b.wake()
        return {"tx_hash": h, "block_number": rcpt.block if rcpt else b.chain.head()}

    @r.post("/sim/mine", response_model=M.SimMineOut, responses=error_responses(400, 401, 422), tags=["sim"])
    def sim_mine(body: M.SimMineIn, _: str = Depends(integrator)):
        n = sim.mine(body.blocks)
        b.wake()
        return {"block_number": n}

    if isinstance(b.prices, pricing.FixedPriceSource):

        @r.put("/sim/prices/{crypto}", response_model=M.PriceOut, responses=error_responses(400, 401, 422), tags=["sim"])
        def sim_price(crypto: M.Crypto, body: M.SimPriceIn, _: str = Depends(integrator)):
            if not Decimal(body.mid) > 0:
                raise Invalid("mid must be greater than zero", code="invalid_price")
            b.prices.set(crypto, Decimal(body.mid))
            return price_view(b, crypto)


def create_app(broker: Broker, *route_groups: Callable[[APIRouter, Ctx], None]) -> FastAPI:
    """The broker's app; each of `route_groups` adds its routes to the same /api/v1 router,
    behind the same key checks and error format (the back office adds the Tradebot's there:
    nexus/backoffice.py)."""
    app = FastAPI(
        title="Nexus broker back office",
        version="1",
        description="Customers, accounts, Buy/Sell/Merchant/Gift transactions, ledger and signed callbacks.",
        openapi_url="/openapi.json",
        docs_url="/docs",  # FastAPI's Swagger UI page over /openapi.json (its scripts come from a CDN)
        redoc_url=None,
    )
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=BODY_BYTES_MAX)
    c = Ctx(broker)
    guard = Depends(_query_guard(app))
    r = APIRouter(prefix=PREFIX, dependencies=[guard])
    for add in (_customer_routes, _quote_routes, _transaction_routes, _operator_routes, _treasury_routes):
        add(r, c)
    if broker.chain.sim is not None:
        _sim_routes(r, c)
    for add in route_groups:
        add(r, c)
    app.include_router(r)
    health.add_routes(app, broker, [guard])
    return app
