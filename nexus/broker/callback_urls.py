"""Callback URLs and server-side request forgery: the broker POSTs to URLs its integrator
gives, so a URL must not reach the broker's own host or network (loopback, private,
link-local, carrier-grade NAT, multicast, reserved; IPv6 forms that carry such an IPv4
address included) unless the operator allows it (`--allow-private-callbacks`, for tests
and single-host setups).

A URL is checked twice: when it is given (a clear 422 for the integrator) and at every
delivery, when its host name is resolved again and the POST goes to the address that was
checked, so a name that later resolves elsewhere (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from nexus.broker.errors import Invalid

SCHEMES = ("http", "https")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Invalid):
    code = "callback_url_refused"


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: the URL with its host replaced by the checked address, the
    Host header and the TLS server name of the original."""

    url: str
    host_header: str
    server_name: str | None


def _embedded_v4(ip: _Address) -> _Address:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo), else the address."""
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if inner is not None:
                return inner
    return ip


def is_public(ip: _Address) -> bool:
    inner = _embedded_v4(ip)
    return inner.is_global if inner is not ip else ip.is_global


def _split(url: str, field: str):
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise Refused(f"{field}: {url!r} is not a valid URL", code="invalid_callback_url") from None
    if parts.scheme not in SCHEMES or not host:
        raise Refused(f"{field}: an http:// or https:// URL with a host is expected", code="invalid_callback_url")
    if parts.username is not None or parts.password is not None:
        raise Refused(f"{field}: credentials in the URL are not accepted (sign requests with the callback secret instead)",
                      code="invalid_callback_url")
    return parts, host, port


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _addresses(host: str, port: int | None, field: str) -> list[_Address]:
    if _literal(host):
        return [ipaddress.ip_address(host)]
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise Refused(f"{field}: the host {host} does not resolve ({e})") from None
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def resolve(url: str, allow_private: bool, field: str = "callback_url") -> tuple[str, int | None, _Address]:
    """(host, port, the address to connect to). Raises Refused when any address the host
    resolves to is not public (one private answer is enough to refuse: the client could
    pick it) and private targets are not allowed."""
    _, host, port = _split(url, field)
    addresses = _addresses(host, port, field)
    if not allow_private:
        private = [a for a in addresses if not is_public(a)]
        if private:
            what = host if _literal(host) else f"{host} resolves to {private[0]}, which"
            raise Refused(
                f"{field}: {what} is a loopback, private or otherwise non-public address; the broker does not call "
                "those (an operator allows them with --allow-private-callbacks)"
            )
    return host, port, addresses[0]


def check(url: str | None, allow_private: bool, field: str = "callback_url") -> None:
    """For the API: refuse a URL now rather than fail every delivery later."""
    if url is not None:
        resolve(url, allow_private, field)


def target(url: str, allow_private: bool) -> Target:
    """For one delivery: resolve and check again, and pin the connection to that address."""
    parts = urlsplit(url)
    host, port, ip = resolve(url, allow_private)
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    if port is not None:
        netloc += f":{port}"
    host_header = f"[{host}]" if ":" in host else host
    if port is not None:
        host_header += f":{port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(pinned, host_header, host if parts.scheme == "https" and not _literal(host) else None)
