"""Where a webhook may be sent: not to the service's own machine, the cloud's metadata address or
the private network, unless the administrator allowed that network (server-side request forgery).

An administrator's webhook URL makes the service send requests, and ``/test`` says what answered:
without a rule, it is a port scanner of everything the service can reach (the database, the
cameras' network, ``169.254.169.254``). A public address is allowed; loopback, link-local,
private (RFC 1918, CGNAT, IPv6 unique-local) and reserved addresses only inside a network of
``VIGIE_WEBHOOK_ALLOWED_NETWORKS`` (the centre's systems, e.g. ``10.20.0.0/16``); unspecified,
multicast and broadcast addresses never. The host is resolved when the subscription is made
and again before every request, and the request goes to the very address that was checked
(the name kept for ``Host`` and TLS), so a name that resolves elsewhere later (DNS rebinding)
gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from vigie.errors import VigieError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NEVER = (
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("::/128"),
    ipaddress.ip_network("ff00::/8"),
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class TargetError(VigieError):
    """The webhook's address is not one the service may send to: read the message."""


class UnresolvedError(TargetError):
    """The webhook's host does not resolve (now): nothing can be sent, nor checked."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.20.0.0/16, 192.168.5.7"`` as networks; a clear ValueError for a bad entry."""
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as err:
            raise ValueError(f"{item!r} is not a network (e.g. 10.20.0.0/16): {err}") from err
    return tuple(networks)


_GUARDED: tuple[tuple[Callable[[Address], bool], str], ...] = (
    (lambda a: a.is_loopback, "this machine (loopback)"),
    (lambda a: a.is_link_local, "link-local (the cloud's metadata service lives there)"),
    (lambda a: a.is_private or (a.version == 4 and a in _CGNAT), "a private address"),
    (lambda a: a.is_reserved or not a.is_global, "a reserved address"),
)
"""Addresses refused unless inside an allowed network, and how to say why."""


def refusal(address: Address, allowed: Iterable[Network]) -> str | None:
    """Why ``address`` may not be a webhook's target, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in network for network in _NEVER):
        return f"{address} is an unspecified, multicast or broadcast address"
    if any(address.version == n.version and address in n for n in allowed):
        return None
    for guarded, what in _GUARDED:
        if guarded(address):
            return f"{address} is {what}"
    return None


@dataclass(frozen=True)
class Pinned:
    """A request to the checked address: ``url`` names it by IP; ``host`` goes in the ``Host``
    header and ``sni`` names the server for TLS (its certificate is checked against it)."""

    url: str
    host: str
    sni: str

    def request(self, headers: dict[str, str]) -> dict[str, Any]:
        """Keyword arguments of httpx's ``post`` sending ``headers`` to the checked address."""
        return {
            "url": self.url,
            "headers": {**headers, "Host": self.host},
            "extensions": {"sni_hostname": self.sni},
        }


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UnresolvedError(f"webhook host {host!r} does not resolve: {err}") from err
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def pin(url: str, allowed: Iterable[Network]) -> Pinned:
    """Resolve ``url``'s host, check every address, and aim the request at the first one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = tuple(allowed)
    addresses = resolve(host, port)
    for address in addresses:
        why = refusal(address, allowed)
        if why is not None:
            raise TargetError(
                f"webhook host {host!r}: {why}; allow its network with "
                "VIGIE_WEBHOOK_ALLOWED_NETWORKS if the centre's system is there"
            )
    target = addresses[0]
    literal = f"[{target}]" if target.version == 6 else str(target)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    named = f"[{host}]" if ":" in host else host
    host_header = f"{named}:{parts.port}" if parts.port else named
    return Pinned(urlunsplit(parts._replace(netloc=netloc)), host_header, host)
