"""FeedClient.stream_tiles against a StreamTiles server written here with grpcio (127.0.0.1, port 0), until
the voxelfeed server serves tiles: every tile once and in order across reconnections, resumed at the next
tile."""

from concurrent import futures

import grpc
import numpy as np
import pytest

from voxelfeed import FeedClient, FeedError, ReconnectPolicy
from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb

TILE = (2, 3, 4)


class TilesServer:
    """Serves series of `tiles` tiles each (grid (1, 1, tiles)) in batches of the request's batch_size; call
    number c fails with `failures[c]` = (status, after how many messages) when listed."""

    def __init__(self, tiles=(5, 3), failures=None, skip_tile=None):
        self.tiles = tiles
        self.failures = failures or {}
        self.skip_tile = skip_tile
        self.requests = []
        handler = grpc.method_handlers_generic_handler(
            "voxelfeed.v1.VoxelFeed",
            {
                "StreamTiles": grpc.unary_stream_rpc_method_handler(
                    self.stream_tiles,
                    request_deserializer=pb.StreamTilesRequest.FromString,
                    response_serializer=pb.TileBatch.SerializeToString,
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def stream_tiles(self, request, context):
        call = len(self.requests)
        self.requests.append((request.start_series, request.start_tile, request.batch_size))
        status, after = self.failures.get(call, (None, None))
        sent = 0
        for series in range(request.start_series, len(self.tiles)):
            count = self.tiles[series]
            first = request.start_tile if series == request.start_series else 0
            while first < count:
                if sent == after:
                    context.abort(status, f"call {call} fails after {sent} messages")
                if self.skip_tile == (series, first):
                    first += 1
                b = min(request.batch_size or 1, count - first)
                yield tile_batch(series, len(self.tiles), first, b, count)
                sent += 1
                first += b

    def stop(self):
        self.server.stop(None)


def tile_value(series, tile):
    return (series * 50 + tile) % 256


def tile_batch(series, series_count, first, b, count):
    image = np.stack([np.full(TILE, tile_value(series, first + i), np.uint8) for i in range(b)])
    origins = [v for i in range(b) for v in (0, 0, 4 * (first + i))]
    return pb.TileBatch(
        series_uid=f"uid.{series}", series_index=series, series_count=series_count, volume_shape=[2, 3, 4 * count],
        grid=[1, 1, count], first_tile=first, tiles_in_series=count, shape=[b, *TILE], dtype=pb.DTYPE_UINT8,
        image=image.tobytes(), origins=origins,
    )


@pytest.fixture
def serve():
    started = []

    def start(**options):
        server = TilesServer(**options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def received_tiles(server, **request):
    events = []
    policy = ReconnectPolicy(initial_backoff_ms=1, max_backoff_ms=2, max_attempts=3)
    with FeedClient(f"127.0.0.1:{server.port}", reconnect=policy) as client:
        tiles = []
        for batch in client.stream_tiles(tile_size=TILE, on_retry=events.append, **request):
            for b, origin in enumerate(batch.origins):
                tiles.append((batch.series_index, origin[2] // 4, int(batch.image[b, 0, 0, 0])))
    return tiles, events


def every_tile(tiles=(5, 3), start=(0, 0)):
    return [(s, t, tile_value(s, t)) for s in range(start[0], len(tiles)) for t in range(tiles[s])
            if (s, t) >= start]


def test_all_tiles_arrive_in_order(serve):
    server = serve()
    tiles, events = received_tiles(server, batch_size=2)
    assert tiles == every_tile() and events == []
    assert server.requests == [(0, 0, 2)]


def test_a_lost_connection_resumes_at_the_next_tile(serve):
    server = serve(failures={0: (grpc.StatusCode.UNAVAILABLE, 2), 1: (grpc.StatusCode.UNAVAILABLE, 0)})
    tiles, events = received_tiles(server, batch_size=2)
    assert tiles == every_tile()
    # Two messages of two tiles, then a call that delivered nothing, then the rest from tile 4 of series 0.
    assert server.requests == [(0, 0, 2), (0, 4, 2), (0, 4, 2)]
    assert [(e.failures, e.resume_at_series, e.resume_at_tile, e.error.code) for e in events] == [
        (1, 0, 4, "UNAVAILABLE"), (2, 0, 4, "UNAVAILABLE")]


def test_a_series_that_ended_resumes_at_the_next_series(serve):
    # Series 0 (5 tiles) ends with its third message of 2, 2 and 1 tiles.
    server = serve(failures={0: (grpc.StatusCode.UNAVAILABLE, 3)})
    tiles, _ = received_tiles(server, batch_size=2, start_series=0)
    assert tiles == every_tile()
    assert server.requests == [(0, 0, 2), (1, 0, 2)]


def test_a_stream_resumed_by_the_caller_starts_where_asked(serve):
    server = serve()
    tiles, _ = received_tiles(server, batch_size=3, start_series=0, start_tile=4)
    assert tiles == every_tile(start=(0, 4))


def test_other_statuses_end_the_stream_after_the_tiles_received(serve):
    server = serve(failures={0: (grpc.StatusCode.INVALID_ARGUMENT, 1)})
    policy = ReconnectPolicy(initial_backoff_ms=1, max_backoff_ms=2)
    with FeedClient(f"127.0.0.1:{server.port}", reconnect=policy) as client:
        stream = client.stream_tiles(tile_size=TILE, batch_size=2)
        assert next(stream).first_tile == 0
        with pytest.raises(FeedError, match=r"StreamTiles on 127.0.0.1:\d+ failed with INVALID_ARGUMENT") as caught:
            next(stream)
    assert caught.value.code == "INVALID_ARGUMENT" and len(server.requests) == 1


def test_a_tile_out_of_order_is_data_loss(serve):
    server = serve(skip_tile=(1, 1))
    policy = ReconnectPolicy(initial_backoff_ms=1, max_backoff_ms=2)
    with FeedClient(f"127.0.0.1:{server.port}", reconnect=policy) as client:
        with pytest.raises(FeedError, match=r"sent tile 2 of series 1 where tile 1 of series 1 was due") as caught:
            list(client.stream_tiles(tile_size=TILE))
    assert caught.value.code == "DATA_LOSS"


def test_giving_up_names_where_it_would_resume(serve):
    server = serve(failures={c: (grpc.StatusCode.UNAVAILABLE, 1 if c == 0 else 0) for c in range(5)})
    policy = ReconnectPolicy(initial_backoff_ms=1, max_backoff_ms=2, max_attempts=3)
    with FeedClient(f"127.0.0.1:{server.port}", reconnect=policy) as client:
        with pytest.raises(FeedError, match=r"StreamTiles gave up .* resuming at tile 2 of series 0") as caught:
            list(client.stream_tiles(tile_size=TILE, batch_size=2))
    assert caught.value.code == "UNAVAILABLE"
