"""The rule that keeps an unprotected service off the network."""

from __future__ import annotations

import ipaddress

from service.auth.auth_errors import UnprotectedExposureError

HOW_TO_CREATE_A_KEY = (
    "create a key with `triage keys create --name NAME --scopes admin` (it is printed once), "
    'or set TRIAGE_API_KEYS=\'[{"name": ..., "key": ..., "scopes": [...]}]\''
)


def is_loopback(host: str) -> bool:
    """``host`` is a loopback address or ``localhost`` (reachable from this machine only)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip_address(host: str) -> bool:
    """``host`` is an IPv4 or IPv6 address (not a name such as ``testserver``)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def refuse_unprotected_exposure(host: str, *, has_keys: bool) -> None:
    """Without any API key the service may only listen on loopback.

    Raises:
        UnprotectedExposureError: saying how to create a key.
    """
    if has_keys or is_loopback(host):
        return
    raise UnprotectedExposureError(
        f"refusing to listen on {host} without an API key: anyone who can reach it could "
        f"read customer messages and change the help centre. Either {HOW_TO_CREATE_A_KEY}, "
        "or listen on 127.0.0.1"
    )
