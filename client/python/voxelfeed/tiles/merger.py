"""Merging overlapping tile predictions into one volume: streaming with bounded memory, or in memory.

Each voxel gets the weighted average of the predictions of the tiles that cover it, sum(w * p) / sum(w), with
w the tile's importance map (see importance_map). Parts of a tile past the volume's edge are dropped.

The server sends a series' tiles with axis 0 slowest, so once a tile with axis-0 origin z arrives no later
tile touches a voxel with axis-0 index below z. TileMerger uses that: it keeps only the rows [z, z + t0) of
the latest tiles in a ring of t0 rows, and hands every row that is final to a sink and forgets it. Its memory
depends on the tile and on the volume's axes 1 and 2, never on the length of axis 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .importance_map import check_tile_size, importance_map

Sink = Callable[[int, np.ndarray], None]
Origin = Sequence[int]


class TileMerger:
    """Streaming merge of the tiles of one volume, given in the server's order (axis-0 origins never
    decreasing).

    `sink(first_row, rows)` receives the merged float32 rows [first_row, first_row + k) along axis 0, shape
    [k, v1, v2], in order and each row once, as soon as they are final (an NrrdWriter's write_rows, or any
    callable). `add(origin, prediction)` takes one tile's prediction [t0, t1, t2] (any real numpy array, or
    anything np.asarray takes, e.g. a CPU tensor); `finish()` hands over the last rows. `peak_bytes` is the
    most memory the merger's own buffers held at once: the two ring buffers, one tile's scratch and weights,
    and the rows being handed over.
    """

    def __init__(self, volume_shape: Sequence[int], tile_size: Sequence[int], sink: Sink, weighting: str = "gaussian"):
        self.volume_shape = check_volume_shape(volume_shape)
        self.tile_size = check_tile_size(tile_size)
        if not callable(sink):
            raise ValueError(f"sink is {sink!r}; give a callable sink(first_row, rows), e.g. NrrdWriter.write_rows")
        self._sink = sink
        self._weights = importance_map(self.tile_size, weighting)
        v0, v1, v2 = self.volume_shape
        # Rows [z, z + t0) of the latest tiles, row r at ring index r % ring_rows.
        self._ring_rows = min(self.tile_size[0], v0)
        self._sum = np.zeros((self._ring_rows, v1, v2), dtype=np.float32)
        self._weight_sum = np.zeros((self._ring_rows, v1, v2), dtype=np.float32)
        self._scratch = np.empty(self.tile_size, dtype=np.float32)
        self._held = self._sum.nbytes + self._weight_sum.nbytes + self._scratch.nbytes + self._weights.nbytes
        self._peak = self._held
        self._done = 0  # rows below this one have gone to the sink
        self._z = 0  # axis-0 origin of the latest tile
        self._finished = False

    @property
    def peak_bytes(self) -> int:
        """The most bytes the merger's arrays held at once so far."""
        return self._peak

    @property
    def rows_done(self) -> int:
        """Rows along axis 0 handed to the sink so far."""
        return self._done

    def add(self, origin: Origin, prediction) -> None:
        """Adds one tile's prediction at `origin` (o0, o1, o2); rows below o0 go to the sink first."""
        if self._finished:
            raise ValueError("the merger has finished; make a new TileMerger for another volume")
        box = check_origin(origin, self.volume_shape, self.tile_size)
        values = check_prediction(prediction, self.tile_size, box[0])
        z = box[0][0]
        if z < self._z:
            raise ValueError(
                f"a tile at axis-0 origin {z} came after one at {self._z}; the streaming merger needs the tiles "
                "in the server's order (axis 0 slowest): keep that order, or use merge_in_memory"
            )
        self._flush(z)
        self._z = z
        weighted = np.multiply(values, self._weights, out=self._scratch)
        (z0, z1), (y0, y1), (x0, x1) = box[1]
        for rows, ring in self._ring_segments(z0, z1):
            part = slice(rows.start - z0, rows.stop - z0)
            self._sum[ring, y0:y1, x0:x1] += weighted[part, : y1 - y0, : x1 - x0]
            self._weight_sum[ring, y0:y1, x0:x1] += self._weights[part, : y1 - y0, : x1 - x0]

    def finish(self) -> None:
        """Hands the remaining rows to the sink and frees the buffers. Raises ValueError if a voxel got no
        tile."""
        if self._finished:
            return
        self._flush(self.volume_shape[0])
        self._finished = True
        self._sum = self._weight_sum = self._scratch = None  # type: ignore[assignment]

    def _flush(self, upto: int) -> None:
        """Divides rows [done, upto), hands them to the sink, and clears their ring rows."""
        if upto <= self._done:
            return
        end = min(upto, self._done + self._ring_rows)
        rows_out = np.empty((end - self._done, *self.volume_shape[1:]), dtype=np.float32)
        self._note(rows_out.nbytes)
        try:
            for rows, ring in self._ring_segments(self._done, end):
                weight = self._weight_sum[ring]
                if not weight.all():
                    where = np.argwhere(weight == 0)[0]
                    raise uncovered_error(rows.start + int(where[0]), where)
                np.divide(self._sum[ring], weight, out=rows_out[rows.start - self._done : rows.stop - self._done])
                self._sum[ring] = 0
                self._weight_sum[ring] = 0
            if end < upto:
                # Every tile so far started at or below row done, so rows from done + t0 on got none.
                raise uncovered_error(end, (0, 0, 0))
            first = self._done
            self._done = end
            self._sink(first, rows_out)
        finally:
            self._held -= rows_out.nbytes
            del rows_out

    def _ring_segments(self, start: int, stop: int):
        """(volume rows, ring rows) slices covering rows [start, stop) (at most ring_rows of them)."""
        n = self._ring_rows
        at = start
        while at < stop:
            ring = at % n
            count = min(stop - at, n - ring)
            yield slice(at, at + count), slice(ring, ring + count)
            at += count

    def _note(self, extra: int) -> None:
        self._held += extra
        self._peak = max(self._peak, self._held)


def merge_in_memory(
    volume_shape: Sequence[int],
    tile_size: Sequence[int],
    tiles: Iterable[tuple[Origin, object]],
    weighting: str = "gaussian",
) -> np.ndarray:
    """The merged float32 volume [v0, v1, v2] from (origin, prediction) pairs in any order: two whole-volume
    buffers, for volumes that fit in memory. Raises ValueError if a voxel got no tile."""
    shape = check_volume_shape(volume_shape)
    size = check_tile_size(tile_size)
    weights = importance_map(size, weighting)
    total = np.zeros(shape, dtype=np.float32)
    weight_sum = np.zeros(shape, dtype=np.float32)
    scratch = np.empty(size, dtype=np.float32)
    for origin, prediction in tiles:
        tile_box, (rows, cols, deep) = check_origin(origin, shape, size)
        values = check_prediction(prediction, size, tile_box)
        weighted = np.multiply(values, weights, out=scratch)
        target = (slice(*rows), slice(*cols), slice(*deep))
        part = (slice(0, rows[1] - rows[0]), slice(0, cols[1] - cols[0]), slice(0, deep[1] - deep[0]))
        total[target] += weighted[part]
        weight_sum[target] += weights[part]
    if not weight_sum.all():
        first = np.argwhere(weight_sum == 0)[0]
        raise uncovered_error(int(first[0]), first)
    return np.divide(total, weight_sum, out=total)


def check_volume_shape(volume_shape: Sequence[int]) -> tuple[int, int, int]:
    sized = hasattr(volume_shape, "__len__") and not isinstance(volume_shape, (str, bytes))
    if not sized or len(volume_shape) != 3 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in volume_shape
    ):
        raise ValueError(
            f"volume_shape is {volume_shape!r}; give 3 integers >= 1 (v0, v1, v2), e.g. TileBatch.volume_shape"
        )
    return tuple(int(v) for v in volume_shape)  # type: ignore[return-value]


def check_origin(origin: Origin, volume_shape: tuple[int, int, int], tile_size: tuple[int, int, int]):
    """(origin as ints, ((start, stop) per axis of the tile's part inside the volume)), or ValueError."""
    sized = hasattr(origin, "__len__") and not isinstance(origin, (str, bytes))
    ints = sized and len(origin) == 3 and all(
        isinstance(o, (int, np.integer)) and not isinstance(o, bool) for o in origin
    )
    if not ints or not all(0 <= o < v for o, v in zip(origin, volume_shape)):
        limits = ", ".join(f"0..{v - 1}" for v in volume_shape)
        raise ValueError(
            f"tile origin is {origin!r}; give 3 integers (o0, o1, o2) in {limits} for volume shape "
            f"{list(volume_shape)}, as TileBatch.origins"
        )
    start = tuple(int(o) for o in origin)
    return start, tuple((o, min(o + t, v)) for o, t, v in zip(start, tile_size, volume_shape))


def check_prediction(prediction, tile_size: tuple[int, int, int], origin) -> np.ndarray:
    values = np.asarray(prediction)
    if values.shape != tile_size:
        raise ValueError(
            f"the prediction of the tile at {list(origin)} has shape {list(values.shape)}; the tile size is "
            f"{list(tile_size)} (drop batch and channel axes, e.g. prediction[b, 0])"
        )
    if values.dtype.kind not in "biuf":
        raise ValueError(f"the prediction of the tile at {list(origin)} is of dtype {values.dtype}; give real numbers")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(
            f"the prediction of the tile at {list(origin)} holds NaN or infinite values; check the model's output"
        )
    return values


def uncovered_error(row: int, where) -> ValueError:
    return ValueError(
        f"voxel ({row}, {int(where[1])}, {int(where[2])}) got no tile; the tiles must cover the whole volume, as "
        "the server's grid does (a missing or out-of-order tile?)"
    )
