"""`nexus broker ...`: serve the back office, audit a database, run a standalone test chain."""

from __future__ import annotations

import json
import socket
import sys

import click

from nexus.cli import EXIT_UPSTREAM, EXIT_USAGE
from nexus.commands._ops import ops_options, start_metrics
from nexus.config import config_option, secret_option

LISTEN_BACKLOG = 2048  # uvicorn's default backlog


@click.group()
def broker() -> None:
    """Broker back office: customers, accounts, Buy/Sell/Merchant/Gift, ledger, callbacks."""


@broker.command("serve")
@click.option("--db", "db_url", required=True, help="SQLite path or sqlite:///path, or postgresql://user@host/db")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--chain", "chain_spec", default="sim", show_default=True, help="'sim' (in-process chain) or a web3 HTTP URL")
@secret_option("--api-key", "NEXUS_BROKER_API_KEY", "integrator key")
@secret_option("--operator", "NEXUS_BROKER_OPERATORS", "operator keys (NAME=KEY, space or line separated)", required=False,
               multiple=True, metavar="NAME=KEY", param="operators")
@secret_option("--callback-secret", "NEXUS_BROKER_CALLBACK_SECRET", "HMAC secret for callback signatures")
@click.option("--confirmations", default=3, show_default=True, type=click.IntRange(1, 1000))
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(min=0.001, max=100_000), help="run the broker's clock this many times faster")
@click.option("--xpub", envvar="NEXUS_BROKER_XPUB", default=None, help="BIP44 account xpub (m/44'/60'/0') for deposit addresses; sim: a throwaway one")
@click.option("--usdt-contract", default=None, help="ERC-20 contract address of USDT on a URL chain")
@click.option("--price", "prices", multiple=True, help="CRYPTO=MID in EUR for the configured price source, e.g. ETH=2000")
@click.option("--price-ring", default=None, help="read prices from this shared-memory ring (the engine's consensus) instead")
@click.option("--ring-instrument", "ring_instruments", multiple=True, help="CRYPTO=VENUE:SYMBOL[:FX to EUR], with --price-ring (e.g. ETH=agg:ETHUSDT:0.92); the price exponent comes from the ring")
@click.option("--four-eyes-threshold", default="1000.00", show_default=True, help="payouts at or above this (EUR) need two operators")
@click.option("--poll-interval", default=0.05, show_default=True, type=click.FloatRange(0.001, 10), help="scheduler poll, real seconds")
@ops_options
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="one log line per request (keys masked)")
@click.option("--allow-private-callbacks", is_flag=True, help="let callback URLs reach loopback/private/link-local addresses (refused by default: SSRF)")
@click.option("--min-send", "min_sends", multiple=True, help="CRYPTO=AMOUNT: the smallest Buy/Gift (default ETH=0.001, USDT=1; the network fee is a floor too)")
@click.option("--chain-dir", default=None, help="where --chain sim keeps its chain file (PostgreSQL; SQLite: beside the database)")
@click.option("--send-lost-after", default=30.0, show_default=True, type=click.FloatRange(0.1, 86_400), help="seconds a signed send may stay unknown to the chain before its transaction is Blocked")
@config_option
def serve(db_url, host, port, chain_spec, api_key, operators, callback_secret, confirmations, time_scale, xpub, usdt_contract, prices,
          price_ring, ring_instruments, four_eyes_threshold, poll_interval, log_level, log_format, metrics_port, metrics_host, access_log,
          allow_private_callbacks, min_sends, chain_dir, send_lost_after):
    """Serve the broker API (JSON under /api/v1, OpenAPI at /openapi.json; /health and /ready
    for load balancers; Prometheus metrics on --metrics-port)."""
    import uvicorn

    from nexus.broker import assemble
    from nexus.backoffice import create_app
    from nexus.broker.context import Settings
    from nexus.broker.errors import BrokerError
    from nexus.broker.pricing import FixedPriceSource
    from nexus.broker.workers import Workers
    from nexus.broker.units import EUR, to_units
    from nexus.exceptions import NexusError

    from nexus.ops.logs import setup_logging

    setup_logging(log_level, log_format, access_log=access_log)
    sock = _bind(host, port)  # first: the address printed below is the one bound, or exit 4 with the reason
    ops = [o for item in operators for o in item.split()]
    try:
        # the price options first: a mistake there is reported before the chain is built
        ring_insts = assemble.parse_ring_instruments(list(ring_instruments)) if price_ring else None
        fixed = None if price_ring else assemble.parse_prices(list(prices))
        settings = Settings(confirmations=confirmations, four_eyes_threshold=to_units(four_eyes_threshold, EUR), poll_interval_s=poll_interval,
                            allow_private_callbacks=allow_private_callbacks, send_min=assemble.parse_send_min(list(min_sends)),
                            send_lost_after_s=send_lost_after)
        b = assemble.build(
            db_url=db_url, chain=chain_spec, api_key=api_key, operators=assemble.parse_operators(ops),
            callback_secret=callback_secret, settings=settings, xpub=xpub, usdt_contract=usdt_contract, time_scale=time_scale,
            chain_dir=chain_dir,
        )
        if price_ring:
            from nexus.broker.pricing import RingPriceSource

            b.prices = RingPriceSource(price_ring, ring_insts, b.clock)
        else:
            b.prices = FixedPriceSource(b.clock, fixed)
        rt = Workers(b)
        rt.prepare()
    except BrokerError as e:
        click.echo(f"nexus: {e}", err=True)
        sys.exit(EXIT_UPSTREAM)
    except NexusError as e:  # configuration: a usage error
        click.echo(f"nexus: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as e:  # database unreachable and the like
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(e, SQLAlchemyError):
            from nexus.broker.db import describe_error

            click.echo(f"nexus: {describe_error(e, db_url)}", err=True)
            sys.exit(EXIT_UPSTREAM)
        raise
    app = create_app(b)
    metrics_server = _serve_broker_metrics(app, b, metrics_port, metrics_host)
    rt.start()
    click.echo(json.dumps({"listening": _url(sock), "chain": b.chain.name, "hot_wallet": b.chain.hot_address}), err=True)
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it under the handler that was
    # installed before it ran: make that one a no-op so the workers below stop cleanly (exit 0)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, log_config=None)).run(sockets=[sock])
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        rt.stop()
        b.db.dispose()


def _serve_broker_metrics(app, b, port: int | None, host: str):
    """The access log and request metrics on `app`; with a port, the broker's metrics served
    there (exit 4 when it cannot be bound). Returns the metrics server or None."""
    from nexus.ops import metrics as ops_metrics
    from nexus.ops.http import OpsMiddleware

    if port is None:
        app.add_middleware(OpsMiddleware)
        return None
    registry = ops_metrics.new_registry()
    ops_metrics.BrokerMetrics(b, registry)
    app.add_middleware(OpsMiddleware, metrics=ops_metrics.HttpMetrics(registry))
    return start_metrics(registry, port, host)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one), or exit 4 saying why not."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        click.echo(f"nexus: cannot listen on {host}:{port}: {e.strerror or e} (--host takes an address of this machine)", err=True)
        sys.exit(EXIT_UPSTREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(LISTEN_BACKLOG)  # connections queue from the moment the address is printed
    except OSError as e:
        sock.close()
        click.echo(f"nexus: cannot listen on {host}:{port}: {e.strerror or e} (use another --port, or --port 0 for any free one)", err=True)
        sys.exit(EXIT_UPSTREAM)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


@broker.command("audit")
@click.option("--db", "db_url", required=True, help="the broker database URL or SQLite path")
@click.option("--json", "as_json", is_flag=True, help="print {\"ok\", \"violations\"} as JSON")
def audit_cmd(db_url, as_json):
    """Check the ledger and status histories; exit 0 when every invariant holds, else 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from nexus.broker.audit import audit
    from nexus.broker.db import Database, describe_error
    from nexus.exceptions import ConfigError

    try:
        db = Database(db_url, read_only=True)  # never creates or changes the database it checks
        violations = audit(db)
    except ConfigError as e:
        click.echo(f"nexus broker audit: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except SQLAlchemyError as e:
        click.echo(f"nexus broker audit: cannot read the {describe_error(e, db_url)}", err=True)
        sys.exit(EXIT_UPSTREAM)
    if as_json:
        click.echo(json.dumps({"ok": not violations, "violations": violations}))
    elif violations:
        click.echo(f"{len(violations)} violation(s):")
        for line in violations:
            click.echo(f"  {line}")
    else:
        click.echo("ok: ledger balanced, balances match postings, histories follow the tables, callbacks complete")
    # sys.exit, not ctx.exit: nexus.cli.main runs click with standalone_mode=False, which
    # turns ctx.exit(1) into a return value it does not pass on
    sys.exit(0 if not violations else 1)


@broker.command("chain-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8545, show_default=True, type=click.IntRange(0, 65535))
@click.option("--fund", "fund", multiple=True, help="address to fund with ETH and USDT, repeatable")
def chain_sim(host, port, fund):
    """A standalone in-memory test chain (eth-tester + py-evm) over JSON-RPC HTTP, with the
    simulated USDT token deployed. Prints {"rpc_url", "usdt_contract", "chain_id"} on stdout."""
    from nexus.broker.chainsim import serve_rpc

    server, info = serve_rpc(host, port, list(fund))
    click.echo(json.dumps(info), nl=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
