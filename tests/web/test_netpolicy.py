"""Issue 15: the pure network policy (address kinds and loose IPv4 spellings)."""

from __future__ import annotations

import ipaddress

import pytest

from briefwatch.errors import NetworkPolicyError
from briefwatch.web import netpolicy


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.2", "127.0.0.2"),
        ("2130706434", "127.0.0.2"),
        ("0x7f000002", "127.0.0.2"),
        ("0X7F.0.0.2", "127.0.0.2"),
        ("0177.0.0.02", "127.0.0.2"),
        ("017700000002", "127.0.0.2"),
        ("127.2", "127.0.0.2"),
        ("127.0.2", "127.0.0.2"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),  # WHATWG and inet_aton read a bare 0x as 0
        ("169.254.169.254.", "169.254.169.254"),
        ("[::ffff:127.0.0.2]", "::ffff:7f00:2"),
        ("[fe80::1%eth0]", "fe80::1"),
        ("::1", "::1"),
    ],
)
def test_parse_host_reads_resolver_spellings(host: str, expected: str) -> None:
    assert str(netpolicy.parse_host(host)) == expected


@pytest.mark.parametrize(
    "host",
    ["example.org", "256.0.0.1", "1.2.3.4.5", "08.0.0.1", "0x1g", "", "[zz::1]", "4294967296"],
)
def test_parse_host_rejects_names_and_out_of_range(host: str) -> None:
    assert netpolicy.parse_host(host) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared"),
        ("100.127.255.255", "shared"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("::ffff:127.0.0.2", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:2", "loopback"),
        ("64:ff9b::a00:1", "private"),
        ("64:ff9b:1::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("::127.0.0.2", "loopback"),
    ],
)
def test_classify_names_non_public_kinds(address: str, kind: str) -> None:
    assert netpolicy.classify(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "100.128.0.1",
        "172.32.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_classify_passes_public_addresses(address: str) -> None:
    assert netpolicy.classify(ipaddress.ip_address(address)) is None


def test_require_public_raises_with_report_reason() -> None:
    address = netpolicy.parse_host("0x7f000002")
    assert address is not None
    with pytest.raises(
        NetworkPolicyError, match=r"^blocked by network policy: 127\.0\.0\.2 is a loopback address$"
    ):
        netpolicy.require_public(address)
    public = ipaddress.ip_address("8.8.8.8")
    assert netpolicy.require_public(public) == public
