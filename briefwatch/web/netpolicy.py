"""Network policy for web fetching (issue 15): which addresses a fetch may connect to.

Pure functions over `ipaddress`; no sockets. `parse_host` reads a URL host the way
inet_aton-style resolvers do (decimal, octal, hex and 1-3 part IPv4 spellings), and
`classify` names the kind of a non-public address, or returns None for a public one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from briefwatch.errors import NetworkPolicyError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_V4_KINDS: tuple[tuple[str, ipaddress.IPv4Network], ...] = (
    ("unspecified", ipaddress.IPv4Network("0.0.0.0/8")),
    ("loopback", ipaddress.IPv4Network("127.0.0.0/8")),
    ("private", ipaddress.IPv4Network("10.0.0.0/8")),
    ("private", ipaddress.IPv4Network("172.16.0.0/12")),
    ("private", ipaddress.IPv4Network("192.168.0.0/16")),
    ("shared", _SHARED),
    ("link-local", ipaddress.IPv4Network("169.254.0.0/16")),
    ("multicast", ipaddress.IPv4Network("224.0.0.0/4")),
    ("reserved", ipaddress.IPv4Network("240.0.0.0/4")),
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one address: `kind` is None when the address is public."""

    address: IPAddress
    kind: str | None

    @property
    def allowed(self) -> bool:
        return self.kind is None

    @property
    def reason(self) -> str:
        return f"blocked by network policy: {self.address} is a {self.kind} address"


def _parse_v4_part(part: str) -> int:
    text = part.lower()
    if text.startswith("0x"):
        return int(text[2:] or "0", 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text[1:], 8)
    return int(text, 10)


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address written in any inet_aton spelling, or None if `host` is not one."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    try:
        values = [_parse_v4_part(p) for p in parts]
    except ValueError:
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (5 - len(values)) + last
    return ipaddress.IPv4Address(number)


def parse_host(host: str) -> IPAddress | None:
    """The address a literal URL host names (brackets and zone ids allowed), or None for a name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4_loose(text)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))  # deprecated IPv4-compatible ::a.b.c.d
    return None


def _classify_v4(address: ipaddress.IPv4Address) -> str | None:
    for kind, net in _V4_KINDS:
        if address in net:
            return kind
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _classify_v6(address: ipaddress.IPv6Address) -> str | None:
    embedded = _embedded_v4(address)
    if embedded is not None:
        return _classify_v4(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("site-local", address in _SITE_LOCAL),
        ("unique-local", address in ipaddress.IPv6Network("fc00::/7")),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved or not address.is_global),
    )
    for kind, hit in checks:
        if hit:
            return kind
    return None


def classify(address: IPAddress) -> str | None:
    """The kind of a non-public address ("loopback", "private", ...), None if public."""
    if isinstance(address, ipaddress.IPv4Address):
        return _classify_v4(address)
    return _classify_v6(address)


def check(address: IPAddress) -> Verdict:
    """The verdict for one address."""
    return Verdict(address, classify(address))


def require_public(address: IPAddress) -> IPAddress:
    """`address` if public; NetworkPolicyError with the report reason otherwise."""
    verdict = check(address)
    if not verdict.allowed:
        raise NetworkPolicyError(verdict.reason)
    return address
