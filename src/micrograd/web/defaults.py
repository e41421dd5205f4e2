"""Where the playground listens by default: light constants the command line reads without
importing the web server."""

from __future__ import annotations

import ipaddress

__all__ = ["ANY_ADDRESSES", "DEFAULT_HOST", "DEFAULT_PORT", "is_loopback"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# What a host that means "every interface" is written as (the empty host binds them all too).
ANY_ADDRESSES = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False
