"""The options of a feed client, checked without opening anything (so a dataset can check them up front)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .channels import Tls, address_problem
from .errors import FeedError
from .reconnect import ReconnectPolicy

DEFAULT_PREFETCH = 4
MAX_PREFETCH = 64


@dataclass(frozen=True)
class ClientOptions:
    addresses: list[str]
    token: str | None
    tls: Tls | None
    prefetch: int
    reconnect: ReconnectPolicy
    channel_options: Mapping[str, Any]


def check_client_options(
    *,
    address: str | None = None,
    addresses: Sequence[str] | None = None,
    token: str | None = None,
    tls: bool | Mapping[str, bytes] | Tls | None = None,
    prefetch: int = DEFAULT_PREFETCH,
    reconnect: ReconnectPolicy | None = None,
    channel_options: Mapping[str, Any] | None = None,
    what: str = "feed client options",
    problems: list[str] | None = None,
) -> ClientOptions:
    """The options with defaults filled; every problem (and those in `problems`) in one FeedError
    INVALID_ARGUMENT naming `what`."""
    problems = [] if problems is None else problems
    resolved_addresses = _addresses(address, addresses, problems)
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or not 1 <= prefetch <= MAX_PREFETCH:
        problems.append(f"prefetch is {prefetch!r}; use an integer from 1 to {MAX_PREFETCH} batches")
    policy = reconnect if reconnect is not None else ReconnectPolicy()
    if isinstance(policy, ReconnectPolicy):
        problems.extend(policy.problems())
    else:
        problems.append(f"reconnect is {policy!r}; pass a ReconnectPolicy(initial_backoff_ms, max_backoff_ms, max_attempts)")
    resolved_tls = _tls(tls, problems)
    if token is not None and (not isinstance(token, str) or token == "" or "\n" in token or "\r" in token):
        problems.append("token is empty or holds a line break; pass the bare token, without 'Bearer '")
    if channel_options is not None and not isinstance(channel_options, Mapping):
        problems.append(f"channel_options is {channel_options!r}; give a dict of gRPC channel arguments")
    if problems:
        details = "; ".join(problems)
        raise FeedError("INVALID_ARGUMENT", details, f"invalid {what}: {details}")
    return ClientOptions(resolved_addresses, token, resolved_tls, prefetch, policy, dict(channel_options or {}))


def _addresses(address, addresses, problems: list[str]) -> list[str]:
    if address is not None and addresses is not None:
        problems.append("both address and addresses are set; give one server as address or replicas as addresses")
        return []
    if addresses is not None and (isinstance(addresses, str) or not isinstance(addresses, Sequence)):
        problems.append(f"addresses is {addresses!r}; give a list of host:port, e.g. ['10.0.0.1:50051'] (one server: address=)")
        return []
    listed = list(addresses) if addresses is not None else ([] if address is None else [address])
    if not listed:
        problems.append("no server address; pass address='host:port' (e.g. 127.0.0.1:50051)")
    for entry in listed:
        problem = address_problem(entry)
        if problem is not None:
            problems.append(problem)
    return listed


def _tls(tls, problems: list[str]) -> Tls | None:
    if tls is None or tls is False:
        return None
    if tls is True:
        return Tls()
    if isinstance(tls, Tls):
        resolved = tls
    elif isinstance(tls, Mapping):
        unknown = sorted(set(tls) - {"ca", "cert", "key"})
        if unknown:
            problems.append(f"tls has unknown keys {unknown}; use ca, cert and key (PEM bytes)")
            return None
        resolved = Tls(ca=tls.get("ca"), cert=tls.get("cert"), key=tls.get("key"))
    else:
        problems.append(f"tls is {tls!r}; use True (system CAs) or {{'ca': ..., 'cert': ..., 'key': ...}} of PEM bytes")
        return None
    for name in ("ca", "cert", "key"):
        value = getattr(resolved, name)
        if value is not None and not isinstance(value, bytes):
            problems.append(f"tls {name} is a {type(value).__name__}; pass the PEM file's bytes (open(path, 'rb').read())")
    if (resolved.cert is None) != (resolved.key is None):
        problems.append("tls has a cert without a key or a key without a cert; give both for mutual TLS, or neither")
    return resolved
