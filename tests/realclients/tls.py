"""A local TLS front for the simulator, for clients that sign the https URL they call.

ccxt's Coinbase JWT carries `uri` = "METHOD host/path" made by removing "https://" from the
URL, so over plain http its uri would keep "http://" and the simulator (as Coinbase) would
refuse it. This terminates TLS on 127.0.0.1 and forwards the bytes to the simulator's port
unchanged (the Host header stays the one the client sent, so the signed uri matches; the first
request of each connection gains X-Forwarded-Proto: https, see `_forwarded`). The
certificate is self-signed, made at test time in memory, written to a temporary directory only
because `ssl` loads chains from files, and deleted afterwards; the client trusts exactly it.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import secrets
import ssl
import tempfile
from contextlib import asynccontextmanager

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _certificate(tmp: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    # a distinct subject per certificate: a trust store that already holds an earlier test's
    # certificate looks issuers up by subject name
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"nexus-sim-test-{secrets.token_hex(8)}")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def _forwarded(head: bytes) -> bytes:
    """The first request on a connection gets X-Forwarded-Proto: https after its request line, as
    a TLS-terminating proxy adds it: a simulator answer that names the simulator's own address
    (KuCoin's bullet endpoint) then names it wss://. Other bytes pass unchanged."""
    line, sep, rest = head.partition(b"\r\n")
    if sep and line.endswith(b" HTTP/1.1") and line.split(b" ", 1)[0].isalpha():
        return line + sep + b"X-Forwarded-Proto: https\r\n" + rest
    return head


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first=None) -> None:
    try:
        if first is not None and (data := await reader.read(65536)):
            writer.write(first(data))
            await writer.drain()
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def tls_front(port: int, host: str = "127.0.0.1"):
    """Yields (https base 'https://127.0.0.1:P', CA file the client should trust)."""
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = _certificate(tmp)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert_path, key_path)
        os.unlink(key_path)
        tasks: set[asyncio.Task] = set()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            ur, uw = await asyncio.open_connection(host, port)
            for t in (asyncio.ensure_future(_pipe(r, uw, _forwarded)), asyncio.ensure_future(_pipe(ur, w))):
                tasks.add(t)
                t.add_done_callback(tasks.discard)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
        try:
            yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", cert_path
        finally:
            server.close()
            for t in list(tasks):
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
