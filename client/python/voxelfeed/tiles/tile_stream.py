"""The tiles of whole series as an iterator: prefetched by a thread, resumed at the next tile after
connection failures (FeedClient.stream_tiles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from ..channels import FeedChannels
from ..errors import FeedError
from ..reconnect import ReconnectPolicy
from ..stream import OutOfOrder, PrefetchStream
from .tile_batch import TileBatch, decode_tile_batch


@dataclass(frozen=True)
class TileRetryEvent:
    """Passed to `on_retry` before each new call after a connection failure."""

    failures: int  # failed calls in a row, counting from the last call that delivered tiles
    delay_s: float  # the wait before the next call
    resume_at_series: int  # the start_series of the next call
    resume_at_tile: int  # its start_tile
    error: FeedError  # why the last call failed


class TileStream(PrefetchStream):
    """The TileBatches of one StreamTiles request, series after series, tiles in the server's order.

    As a BatchStream: `prefetch` messages are read ahead; after a connection failure the stream calls again
    from the tile after the last one received (start_series, start_tile), so the consumer sees every tile once
    and in order; it gives up with UNAVAILABLE after `policy.max_attempts` failed calls in a row, and any other
    status ends it with a FeedError after the tiles received. `close()` or leaving a `with` block cancels it.
    """

    def __init__(
        self,
        channels: FeedChannels,
        request: pb.StreamTilesRequest,
        prefetch: int,
        policy: ReconnectPolicy,
        on_retry: Callable[[TileRetryEvent], None] | None = None,
    ):
        super().__init__(channels, TileCursor(request), prefetch, policy, on_retry)

    def __next__(self) -> TileBatch:
        return super().__next__()


class TileCursor:
    """Where a StreamTiles stream stands: the series and tile due next, and the request that resumes there."""

    method = "StreamTiles"
    noun = "tile batch"

    def __init__(self, request: pb.StreamTilesRequest):
        self.request = request
        self.series = request.start_series
        self.tile = request.start_tile
        self.series_count: int | None = None

    def next_request(self) -> pb.StreamTilesRequest:
        wire = pb.StreamTilesRequest()
        wire.CopyFrom(self.request)
        wire.start_series = self.series
        wire.start_tile = self.tile
        return wire

    def take(self, raw: bytes) -> TileBatch:
        batch = decode_tile_batch(raw)
        if (batch.series_index, batch.first_tile) != (self.series, self.tile):
            raise OutOfOrder(
                f"the server sent tile {batch.first_tile} of series {batch.series_index} where tile {self.tile} of "
                f"series {self.series} was due"
            )
        self.series_count = batch.series_count
        if batch.ends_series:
            self.series, self.tile = self.series + 1, 0
        else:
            self.tile = batch.first_tile + batch.image.shape[0]
        return batch

    def position(self) -> tuple[int, int]:
        return self.series, self.tile

    def complete(self) -> bool:
        return self.series_count is not None and self.series >= self.series_count

    def retry_event(self, failures: int, delay: float, error: FeedError) -> TileRetryEvent:
        return TileRetryEvent(failures, delay, self.series, self.tile, error)

    def resume_context(self) -> str:
        return f"resuming at tile {self.tile} of series {self.series}"
