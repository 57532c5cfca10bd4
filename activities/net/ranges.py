"""Address ranges a tool may not reach unless the operator allows them (docs/security.md).

Explicit lists rather than ``ipaddress``'s ``is_private``/``is_global`` alone: those lists change
between Python versions and treat IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64,
6to4) as global. Addresses that embed an IPv4 address are judged by that address.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

DENIED_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), name) for net, name in (
        ("0.0.0.0/8", "unspecified / this network"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    ))

# Ranges whose addresses carry an IPv4 address: judged by it (bits, from the top, of the v4).
EMBEDDING_V6: tuple[tuple[IPv6Network, str, int], ...] = (
    (IPv6Network("::ffff:0:0/96"), "IPv4-mapped", 0),
    (IPv6Network("64:ff9b::/96"), "NAT64", 0),
    (IPv6Network("2002::/16"), "6to4", 80),
)

DENIED_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), name) for net, name in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "NAT64 local use"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    ))


def denied_range(ip: IPAddress) -> str | None:
    """The name and network of the denied range ``ip`` falls in, or None when it is public."""
    if isinstance(ip, IPv4Address):
        for net4, name in DENIED_V4:
            if ip in net4:
                return f"{name} {net4}"
        return None if ip.is_global else "not globally routable"
    ip = IPv6Address(int(ip))  # drop a zone id ("fe80::1%eth0"): ranges ignore it
    for net6, name, shift in EMBEDDING_V6:
        if ip in net6:
            inner = IPv4Address((int(ip) >> shift) & 0xFFFF_FFFF)
            found = denied_range(inner)
            return f"{name} {net6} of {inner}: {found}" if found else None
    for net6, name in DENIED_V6:
        if ip in net6:
            return f"{name} {net6}"
    return None if ip.is_global else "not globally routable"


def in_networks(ip: IPAddress, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """Whether ``ip`` (or the IPv4 address an IPv4-mapped ``ip`` carries) is in one of them."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(c in net for c in candidates for net in networks if c.version == net.version)

