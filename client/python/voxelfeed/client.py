"""FeedClient: the calls of a voxelfeed server (or of several replicas), with the defaults a trainer needs."""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .batch import Batch, MalformedBatch, decode_batch
from .channels import FeedChannels, Tls, address_problem
from .errors import FeedError, is_retryable, to_feed_error
from .reconnect import ReconnectPolicy, backoff_delay_s, give_up_error
from .requests import sample_request, stream_request, trainer_stats
from .stream import BatchStream, RetryEvent

SERVICE = "/voxelfeed.v1.VoxelFeed/"
DEFAULT_PREFETCH = 4
MAX_PREFETCH = 64


class FeedClient:
    """A client of a voxelfeed server. Nothing connects until the first call; options are checked here and a
    bad one raises FeedError INVALID_ARGUMENT naming it.

    `address` is `host:port`, `[v6]:port` or `dns:///name:port` (every address the name resolves to, round
    robin); `addresses` lists replicas. `token` is sent as `authorization: Bearer <token>`; `tls` is True for
    the system's CAs or a dict / Tls of PEM bytes (`ca`, and `cert` with `key` for mutual TLS). `prefetch`
    (1..64) batches are read ahead per stream. `channel_options` are gRPC channel arguments set over ours.
    Use it as a context manager, or call close().
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        addresses: Sequence[str] | None = None,
        token: str | None = None,
        tls: bool | Mapping[str, bytes] | Tls | None = None,
        prefetch: int = DEFAULT_PREFETCH,
        reconnect: ReconnectPolicy | None = None,
        channel_options: Mapping[str, Any] | None = None,
    ):
        problems: list[str] = []
        resolved_addresses = _addresses(address, addresses, problems)
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or not 1 <= prefetch <= MAX_PREFETCH:
            problems.append(f"prefetch is {prefetch!r}; use an integer from 1 to {MAX_PREFETCH} batches")
        policy = reconnect if reconnect is not None else ReconnectPolicy()
        problems.extend(policy.problems())
        resolved_tls = _tls(tls, problems)
        if token is not None and (not isinstance(token, str) or token == "" or "\n" in token or "\r" in token):
            problems.append("token is empty or holds a line break; pass the bare token, without 'Bearer '")
        if problems:
            details = "; ".join(problems)
            raise FeedError("INVALID_ARGUMENT", details, f"invalid feed client options: {details}")
        self._policy = policy
        self._prefetch = prefetch
        self._channels = FeedChannels(resolved_addresses, resolved_tls, token, policy, channel_options or {})
        self._closed = threading.Event()
        self._streams: weakref.WeakSet[BatchStream] = weakref.WeakSet()

    def dataset_info(self, dataset: str = "") -> pb.DatasetInfo:
        """The served data set (empty: the server's default): series, nodules, fingerprint. Retried on connection
        failures."""
        request = pb.GetDatasetInfoRequest(dataset=dataset)
        return self._unary("GetDatasetInfo", request, pb.DatasetInfo.FromString, retry=True)

    def get_sample(self, **request: Any) -> Batch:
        """One sample as a batch of one, byte-identical to that plan index in any stream. Keyword arguments as
        `sample_request` (crop_size, index, seed, epoch, dtype, include_mask, sampling, split, dataset)."""
        wire = sample_request(**request)
        return self._unary("GetSample", wire, _decode_or_data_loss, retry=True)

    def stream_batches(self, *, on_retry: Callable[[RetryEvent], None] | None = None, **request: Any) -> BatchStream:
        """One rank's batches of one epoch (an iterator of Batch), prefetched and resumed at the next step after a
        connection failure. Keyword arguments as `stream_request`: crop_size and batch_size, and seed, epoch,
        rank, world_size, rank_groups, dtype, include_mask, sampling, split, start_step, max_steps, step_stride,
        dataset. Raises FeedError for a refused request, a lost volume (DATA_LOSS), or UNAVAILABLE once
        reconnecting has failed `reconnect.max_attempts` times in a row."""
        self._check_open()
        wire = stream_request(**request)
        stream = BatchStream(self._channels, wire, self._prefetch, self._policy, on_retry)
        self._streams.add(stream)
        return stream

    def report_trainer_stats(self, **stats: Any) -> None:
        """One attempt, no retry: a lost report is harmless, the next one carries the running totals. Keyword
        arguments as `trainer_stats` (job, rank, step, world_size, gpu_idle_seconds, step_seconds,
        data_wait_seconds, samples, epoch, loss, backend)."""
        wire = trainer_stats(**stats)
        self._unary("ReportTrainerStats", wire, pb.ReportTrainerStatsResponse.FromString, retry=False)

    def close(self) -> None:
        """Closes the channels; open streams and later calls raise FeedError CANCELLED."""
        if self._closed.is_set():
            return
        self._closed.set()
        error = FeedError("CANCELLED", "the client was closed", "the feed client was closed")
        for stream in list(self._streams):
            stream.close(error)
        self._channels.close()

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise FeedError("CANCELLED", "the client was closed", "the feed client was closed")

    def _unary(self, method: str, request, deserialize, retry: bool):
        """One unary call, retried like a stream when the connection fails until `max_attempts` calls in a row
        have failed (`retry` False: one attempt)."""
        started = time.monotonic()
        attempt = 0
        while True:
            self._check_open()
            attempt += 1
            channel, address = self._channels.next()
            call = channel.unary_unary(
                SERVICE + method,
                request_serializer=type(request).SerializeToString,
                response_deserializer=deserialize,
            )
            try:
                return call(request, metadata=self._channels.metadata)
            except FeedError:
                raise
            except grpc.RpcError as rpc_error:
                error = to_feed_error(rpc_error, method, address)
            if self._closed.is_set():
                self._check_open()
            if not retry or not is_retryable(error):
                raise error
            if attempt >= self._policy.max_attempts:
                raise give_up_error(method, self._channels.description, attempt, started, error)
            if self._closed.wait(backoff_delay_s(attempt, self._policy, random.random())):
                self._check_open()


def _decode_or_data_loss(raw: bytes) -> Batch:
    try:
        return decode_batch(raw)
    except MalformedBatch as malformed:
        details = f"a batch could not be read: {malformed}"
        raise FeedError("DATA_LOSS", details, f"GetSample: {details}") from None


def _addresses(address, addresses, problems: list[str]) -> list[str]:
    if address is not None and addresses is not None:
        problems.append("both address and addresses are set; give one server as address or replicas as addresses")
        return []
    if addresses is not None and (isinstance(addresses, str) or not isinstance(addresses, Sequence)):
        problems.append(f"addresses is {addresses!r}; give a list of host:port, e.g. ['10.0.0.1:50051']")
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
