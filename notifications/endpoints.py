"""Push endpoints must not turn the server into a proxy into its own network (SSRF).

A subscription's endpoint is a URL the client chooses and the server later POSTs to. So:

- at subscription time (:func:`validate_endpoint`): ``https`` only, no user info, a host name
  that resolves, and every address it resolves to public (not private, loopback, link-local,
  multicast, reserved, unspecified or shared);
- at delivery time (:class:`GuardedSession`): the host is resolved again and the connection goes
  to an address that passed the same check (so a name re-pointed at 10.0.0.1 after subscribing,
  DNS rebinding, is refused before any packet is sent); redirects are never followed; no proxy
  from the environment is used.

``WEBPUSH_ALLOW_PRIVATE_ENDPOINTS=1`` (tests only) lifts the address check and allows ``http``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

MAX_ENDPOINT_LENGTH = 2048


class EndpointRefused(ValueError):
    """The endpoint is not a URL the server may send to; the message says why (for the client)."""


class ConnectionRefusedByGuard(NewConnectionError):
    """At delivery time the host resolved to an address the server may not connect to."""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise EndpointRefused("The endpoint's host name does not resolve.") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses of ``host`` the server may connect to; refuses if any of them is not public
    (a name that resolves to one public and one private address is refused, not filtered)."""
    addresses = resolve(host, port)
    if not addresses:
        raise EndpointRefused("The endpoint's host name does not resolve.")
    if not settings.WEBPUSH_ALLOW_PRIVATE_ENDPOINTS and not all(address_is_public(a) for a in addresses):
        raise EndpointRefused("The endpoint must be on a public host (not a private, loopback or local address).")
    return addresses


def validate_endpoint(url: str) -> None:
    """Raise :class:`EndpointRefused` unless the server may POST push messages to ``url``."""
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused(f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EndpointRefused("The endpoint is not a valid URL.") from None
    schemes = ("https", "http") if settings.WEBPUSH_ALLOW_PRIVATE_ENDPOINTS else ("https",)
    if parts.scheme not in schemes:
        raise EndpointRefused("The endpoint must be an https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("The endpoint must not carry a user name or password.")
    if not parts.hostname:
        raise EndpointRefused("The endpoint has no host.")
    checked_addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80))


# --- Delivery-time guard ---------------------------------------------------------------------------


class _GuardedConnectionMixin:
    """Resolve, check and connect to a checked address; TLS still verifies the host name."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = checked_addresses(self._dns_host, self.port)
        except EndpointRefused as exc:
            raise ConnectionRefusedByGuard(self, str(exc)) from exc
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                last_error = exc
                continue
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedSession(requests.Session):
    """A requests session that only reaches checked addresses and never follows a redirect."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no HTTP(S)_PROXY: a proxy would connect wherever it is told
        adapter = _GuardedAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        validate_endpoint(url)
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)
