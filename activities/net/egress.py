"""The egress policy: may a tool connect to this URL, and to which checked addresses.

A URL passes when its scheme is http(s), it has no userinfo, its port is valid, and every
address its host resolves to is public (``ranges.denied_range``) or inside a network the
operator allowed. A host name the operator allowed passes whatever it resolves to. The caller
connects only to the addresses returned in ``Target`` (no second lookup, so a DNS answer that
changes between the check and the connection cannot redirect it).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from urllib.parse import unquote

import httpx

from activities.errors import EgressRefused, ToolError, ToolInputError
from activities.net.ranges import IPAddress, denied_range, in_networks

ALLOW_SETTING = "JARVIS_EGRESS_ALLOW"
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, no IPv6 brackets, zone id unquoted ("%25eth0")."""
    return unquote(host).strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class Allowance:
    """The operator's exceptions (``ToolContext.egress_allow``): host names and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowance:
        hosts: set[str] = set()
        networks: list[IPv4Network | IPv6Network] = []
        for entry in entries:
            text = normalise_host(entry)
            try:
                networks.append(ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if not _HOST_NAME.match(text):
                raise EgressRefused(
                    f"{ALLOW_SETTING} entry {entry!r} is neither a host name nor an address or "
                    "CIDR (no scheme, port or path: e.g. \"ollama.local\", \"10.0.0.0/8\")")
            hosts.add(text)
        return cls(frozenset(hosts), tuple(networks))


@dataclass(frozen=True)
class Target:
    """A URL that passed the policy, and the only addresses it may be reached at."""

    url: httpx.URL
    host: str
    port: int
    addresses: tuple[IPAddress, ...]

    @property
    def host_is_name(self) -> bool:
        return _literal(self.host) is None


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, off the event loop).
    A seam: tests replace it to play a DNS answer that changes between lookups."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


def _hint(host: str, ip: IPAddress) -> str:
    cidr = f"{str(ip).split('%')[0]}/{ip.max_prefixlen}"  # no zone id in a CIDR
    example = f"'[\"{cidr}\"]'" if _literal(host) is not None else \
        f"'[\"{host}\"]' or '[\"{cidr}\"]'"
    return (f"to allow it, list the host name or a CIDR in {ALLOW_SETTING} "
            f"(e.g. {ALLOW_SETTING}={example})")


def _refuse(url: httpx.URL, why: str, via: str | None) -> EgressRefused:
    prefix = f"redirect from {via} to " if via else ""
    return EgressRefused(f"egress refused: {prefix}{url}: {why}")


def _port(url: httpx.URL, via: str | None) -> int:
    port = url.port if url.port is not None else DEFAULT_PORTS[url.scheme]
    if not 0 < port < 65536:
        raise _refuse(url, f"port {port} is out of range", via)
    return port


async def check(url: httpx.URL, allow: Allowance, *, via: str | None = None) -> Target:
    """The checked target for ``url``, or EgressRefused (non-retryable) naming the reason.
    ``via``: the URL that redirected here, for the message."""
    if url.scheme not in DEFAULT_PORTS:
        raise _refuse(url, "only http:// and https:// URLs may be fetched "
                           f"(got scheme {url.scheme!r})", via)
    if url.userinfo:
        raise _refuse(url, "URLs with user information (user@ or user:password@) are refused",
                      via)
    host = normalise_host(url.host)
    if not host:
        raise ToolInputError(f"invalid url {str(url)!r}: it has no host")
    port = _port(url, via)
    named = host in allow.hosts
    if not named and (host == "localhost" or host.endswith(".localhost")):
        raise _refuse(url, f"{host} is a loopback name (RFC 6761); to allow it, list it in "
                           f"{ALLOW_SETTING} (e.g. {ALLOW_SETTING}='[\"{host}\"]')", via)
    literal = _literal(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        try:
            found = await resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise ToolError(f"could not resolve {host} ({url}): {exc}") from exc
        addresses = tuple(ip_address(a) for a in found)
        if not addresses:
            raise ToolError(f"{host} resolves to no address ({url})")
    if not named:
        for ip in addresses:
            if in_networks(ip, allow.networks):
                continue
            reason = denied_range(ip)
            if reason is not None:
                shown = "is" if literal is not None else f"resolves to {ip}, which is"
                raise _refuse(url, f"{host} {shown} in a denied range ({reason}); "
                                   + _hint(host, ip), via)
    return Target(url=url, host=host, port=port, addresses=addresses)
