"""The Host allow-list: DNS rebinding gives a web page a name that points at the station, so
the station answers only to its own names and addresses.

Allowed: this machine's host name, ``<hostname>.local`` (mDNS), its fully qualified name,
``localhost``, every address of its network interfaces (re-read when an unknown address shows
up, at most every :data:`REFRESH_S`, so a new DHCP lease works without a restart), and the
configured ``web.allowed_hosts``: exact names, ``.example.lan`` for a domain and its
subdomains, or ``*`` to switch the check off (behind a reverse proxy that checks it).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable

import psutil

REFRESH_S = 10.0


def split_host(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` or ``[v6]:port`` -> (lower-case host, port); None if malformed."""
    value = value.strip().lower()
    if not value:
        return None
    port: str | None = None
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] or None if rest else None
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif ":" in value:  # a bare IPv6 address
        host = value
    else:
        host = value
    host = host.rstrip(".")
    if not host or any(c in host for c in "/\\@ ?#"):
        return None
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            return None
        return host, int(port)
    return host, None


def _machine_names() -> set[str]:
    names = {"localhost"}
    try:
        hostname = socket.gethostname().lower().rstrip(".")
    except OSError:
        hostname = ""
    if hostname:
        short = hostname.split(".")[0]
        names |= {hostname, short, f"{short}.local"}
    try:
        fqdn = socket.getfqdn().lower().rstrip(".")
        if fqdn:
            names.add(fqdn)
    except OSError:
        pass
    return names


def _machine_addresses() -> set[str]:
    out = {"127.0.0.1", "::1"}
    try:
        for addrs in psutil.net_if_addrs().values():
            for a in addrs:
                if a.family in (socket.AF_INET, socket.AF_INET6):
                    ip = _as_ip(a.address.split("%")[0])  # fe80::1%eth0 -> fe80::1
                    if ip is not None:
                        out.add(ip)
    except (OSError, RuntimeError):
        pass
    return out


def _as_ip(host: str) -> str | None:
    """The canonical text of an IP address (``::1``, ``192.168.1.5``), None for a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class HostAllowList:
    def __init__(self, configured: Iterable[str] = (), bind_host: str | None = None) -> None:
        extra = [h.strip().lower().rstrip(".") for h in configured if h.strip()]
        self.any = "*" in extra
        self._suffixes = tuple(h for h in extra if h.startswith("."))
        self._names = _machine_names() | {h for h in extra if not h.startswith(".")}
        if bind_host and bind_host not in ("0.0.0.0", "::", ""):
            self._names.add(bind_host.lower())
        self._addresses = _machine_addresses()
        self._refreshed = time.monotonic()
        self._lock = threading.Lock()

    def allows(self, host: str) -> bool:
        """Is ``host`` (a Host header's host part, lower case) one of the station's?"""
        if self.any or host in self._names:
            return True
        if any(host.endswith(s) or host == s[1:] for s in self._suffixes):
            return True
        ip = _as_ip(host)
        if ip is None:
            return False
        if ip in self._addresses or ip in self._names:
            return True
        with self._lock:  # an address we have not seen: perhaps a new lease
            if time.monotonic() - self._refreshed >= REFRESH_S:
                self._addresses = _machine_addresses()
                self._refreshed = time.monotonic()
            return ip in self._addresses
