"""FeedClient: the calls of a voxelfeed server (or of several replicas), with the defaults a trainer needs."""

from __future__ import annotations

import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from .batch import Batch, MalformedBatch, decode_batch
from .channels import FeedChannels, Tls
from .client_options import DEFAULT_PREFETCH, check_client_options
from .errors import FeedError, is_retryable, to_feed_error
from .fork_guard import FORK_ADVICE, forked_after_grpc, note_grpc_used
from .reconnect import ReconnectPolicy, backoff_delay_s, give_up_error
from .requests import sample_request, stream_request, tiles_request, trainer_stats
from .shm import DEFAULT_SHARED_MEMORY_DIRECTORY, SharedBatchStream, SharedMemoryAnswer
from .stream import BatchStream, PrefetchStream, RetryEvent
from .tiles.tile_stream import TileRetryEvent, TileStream

SERVICE = "/voxelfeed.v1.VoxelFeed/"


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
        options = check_client_options(
            address=address, addresses=addresses, token=token, tls=tls, prefetch=prefetch, reconnect=reconnect,
            channel_options=channel_options,
        )
        if forked_after_grpc():
            raise FeedError("FAILED_PRECONDITION", FORK_ADVICE, f"cannot open a feed client: {FORK_ADVICE}")
        note_grpc_used()
        self._pid = os.getpid()
        self._policy = options.reconnect
        self._prefetch = options.prefetch
        self._channels = FeedChannels(
            options.addresses, options.tls, options.token, options.reconnect, options.channel_options
        )
        self._closed = threading.Event()
        self._streams: weakref.WeakSet[PrefetchStream] = weakref.WeakSet()

    def dataset_info(self, dataset: str = "") -> pb.DatasetInfo:
        """The served data set (empty: the server's default): series, nodules, fingerprint. Retried on connection
        failures."""
        request = pb.GetDatasetInfoRequest(dataset=dataset)
        return self._unary("GetDatasetInfo", request, pb.DatasetInfo.FromString, retry=True)

    def get_sample(self, **request: Any) -> Batch:
        """One sample as a batch of one, byte-identical to that plan index in any stream. Keyword arguments as
        `sample_request` (crop_size, index, seed, epoch, dtype, include_mask, sampling, split, dataset)."""
        wire = sample_request(**request)
        # Decoded after the call: gRPC would turn a deserializer's error into a bare INTERNAL.
        raw = self._unary("GetSample", wire, None, retry=True)
        try:
            return decode_batch(raw)
        except MalformedBatch as malformed:
            details = f"a batch could not be read: {malformed}"
            raise FeedError("DATA_LOSS", details, f"GetSample on {self._channels.description}: {details}") from None

    def stream_batches(
        self,
        *,
        on_retry: Callable[[RetryEvent], None] | None = None,
        shared_memory: bool | str = False,
        on_shared_memory: Callable[[SharedMemoryAnswer], None] | None = None,
        **request: Any,
    ) -> BatchStream:
        """One rank's batches of one epoch (an iterator of Batch), prefetched and resumed at the next step after a
        connection failure. Keyword arguments as `stream_request`: crop_size and batch_size, and seed, epoch,
        rank, world_size, rank_groups, dtype, include_mask, sampling, split, start_step, max_steps, step_stride,
        dataset. Raises FeedError for a refused request, a lost volume (DATA_LOSS), or UNAVAILABLE once
        reconnecting has failed `reconnect.max_attempts` times in a row.

        `shared_memory` (True: /dev/shm, or a directory both see): the same-host path (voxelfeed.shm); a batch's
        arrays are then views of shared memory, valid until the next `next()`. `on_shared_memory` gets the
        server's answer for each call (used, or why not: the stream is then the normal one)."""
        self._check_open()
        wire = stream_request(**request)
        if shared_memory:
            directory = DEFAULT_SHARED_MEMORY_DIRECTORY if shared_memory is True else str(shared_memory)
            stream: BatchStream = SharedBatchStream(
                self._channels, wire, self._prefetch, self._policy, on_retry,
                directory=directory, on_answer=on_shared_memory,
            )
        else:
            stream = BatchStream(self._channels, wire, self._prefetch, self._policy, on_retry)
        self._streams.add(stream)
        return stream

    def stream_tiles(
        self, *, on_retry: Callable[[TileRetryEvent], None] | None = None, **request: Any
    ) -> TileStream:
        """The tiles of whole series (an iterator of voxelfeed.tiles.TileBatch: image and mask as numpy views,
        origins, volume shape, grid, spacing), series after series, axis 0 slowest, prefetched and resumed at
        the next tile after a connection failure. Keyword arguments as `tiles_request`: tile_size, and
        series_uids or split, overlap, batch_size, dtype, include_mask, pad_value, start_series, start_tile,
        dataset. Errors as stream_batches."""
        self._check_open()
        wire = tiles_request(**request)
        stream = TileStream(self._channels, wire, self._prefetch, self._policy, on_retry)
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
        if os.getpid() != self._pid:
            raise FeedError("FAILED_PRECONDITION", FORK_ADVICE, f"this feed client was opened in another process: {FORK_ADVICE}")
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
