"""The gRPC channel(s) of one client: addresses, channel options, credentials, call metadata."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from .reconnect import ReconnectPolicy

MiB = 1024 * 1024

# - max_receive_message_length 256 MiB: gRPC refuses messages over 4 MiB by default, and a batch of 8 float32
#   crops of 16x96x96 with masks is already about 6 MiB; the server refuses batches over --max-batch-bytes
#   (64 MiB by default).
# - http2.lookahead_bytes 16 MiB: the HTTP/2 window per stream, as the TypeScript client sets it; with a small
#   window the server waits for a window update every few crops.
# - keepalive: a ping after 5 minutes without traffic (the shortest interval gRPC servers and proxies accept
#   by default), the connection dropped and the stream resumed elsewhere when no answer comes within 20 s.
FEED_CHANNEL_OPTIONS: dict[str, Any] = {
    "grpc.max_receive_message_length": 256 * MiB,
    "grpc.http2.lookahead_bytes": 16 * MiB,
    "grpc.keepalive_time_ms": 5 * 60 * 1000,
    "grpc.keepalive_timeout_ms": 20 * 1000,
    "grpc.keepalive_permit_without_calls": 0,
}

ROUND_ROBIN_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})

_ADDRESS_FORMS = "expected HOST:PORT or dns:///NAME:PORT ([IPv6]:PORT for an IPv6 address)"
_DNS = re.compile(r"^dns:(?://[^/\s]*/)?(.*)$")
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d+)$")


def address_problem(address: object) -> str | None:
    """What is wrong with a server address, or None: host:port, [v6]:port or dns:///name:port, port 1..65535."""
    if not isinstance(address, str):
        return f"address {address!r} is not a string; {_ADDRESS_FORMS}"
    if "," in address:
        return f'address "{address}" is not a host:port; list each replica separately in addresses'
    dns = _DNS.match(address)
    rest = dns.group(1) if dns else address
    match = _HOST_PORT.match(rest)
    if match is None:
        if re.match(r"^[0-9a-fA-F]*:[0-9a-fA-F:.]*:\d+$", rest):
            return f'address "{address}": {_ADDRESS_FORMS}: put an IPv6 address in brackets, e.g. [::1]:50051'
        return f'address "{address}": {_ADDRESS_FORMS}'
    port = int(match.group(2))
    if not 1 <= port <= 65535:
        return f'address "{address}": port {match.group(2)} is out of range: a port is 1 to 65535'
    return None


@dataclass(frozen=True)
class Tls:
    """TLS settings: PEM bytes; `ca` None for the system's CAs, `cert` with `key` for mutual TLS."""

    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None


def channel_targets(addresses: Sequence[str]) -> list[tuple[str, str]]:
    """(target, description) per channel: IP literals share one channel with a static list (`ipv4:a:p,b:q`),
    so gRPC balances calls over them and skips one that is down; host names get a channel each."""
    if len(addresses) > 1:
        for family in ("ipv4", "ipv6"):
            if all(_ip_family(address) == family for address in addresses):
                return [(f"{family}:{','.join(addresses)}", ", ".join(addresses))]
    return [(address, address) for address in addresses]


def _ip_family(address: str) -> str | None:
    match = _HOST_PORT.match(address)
    if match is None:
        return None
    host = match.group(1).strip("[]")
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        return None
    return "ipv4" if version == 4 else "ipv6"


class FeedChannels:
    """One channel per target, handed out in turn, and the metadata every call carries."""

    def __init__(
        self,
        addresses: Sequence[str],
        tls: Tls | None,
        token: str | None,
        reconnect: ReconnectPolicy,
        overrides: Mapping[str, Any],
    ):
        options = {
            **FEED_CHANNEL_OPTIONS,
            "grpc.initial_reconnect_backoff_ms": reconnect.initial_backoff_ms,
            "grpc.min_reconnect_backoff_ms": reconnect.initial_backoff_ms,
            "grpc.max_reconnect_backoff_ms": reconnect.max_backoff_ms,
            "grpc.service_config": ROUND_ROBIN_SERVICE_CONFIG,
            **overrides,
        }
        self.description = ", ".join(addresses)
        self._metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
        credentials = None if tls is None else grpc.ssl_channel_credentials(tls.ca, tls.key, tls.cert)
        self._channels = []
        for target, description in channel_targets(addresses):
            channel = (
                grpc.insecure_channel(target, options=list(options.items()))
                if credentials is None
                else grpc.secure_channel(target, credentials, options=list(options.items()))
            )
            self._channels.append((channel, description))
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> tuple[grpc.Channel, str]:
        """The channel for the next call, and the address(es) it reaches."""
        with self._lock:
            turn = next(self._turn)
        return self._channels[turn % len(self._channels)]

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def close(self) -> None:
        for channel, _ in self._channels:
            channel.close()
