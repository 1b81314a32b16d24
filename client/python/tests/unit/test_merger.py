"""TileMerger and merge_in_memory: the weighted average of overlapping tiles, streamed in bounded memory."""

import tracemalloc

import numpy as np
import pytest
from tile_grid import cut_tiles, grid_origins

from voxelfeed.tiles import TileMerger, importance_map, merge_in_memory


class Rows:
    """A sink that collects the rows a merger hands over, checking they come in order."""

    def __init__(self, shape):
        self.volume = np.full(shape, np.nan, dtype=np.float32)
        self.calls = []

    def __call__(self, first_row, rows):
        assert first_row == (self.calls[-1][0] + self.calls[-1][1] if self.calls else 0)
        assert rows.dtype == np.float32
        self.calls.append((first_row, rows.shape[0]))
        self.volume[first_row : first_row + rows.shape[0]] = rows


def identity_predictions(volume, tile_size, overlap):
    """An identity model's output (voxel / 255) for every tile, padded past the edge with 0."""
    return [(origin, tile.astype(np.float32) / 255) for origin, tile in cut_tiles(volume, tile_size, overlap)]


CASES = [
    # volume shape, tile size: tiles that fit evenly, that do not, and axes shorter than the tile (padded)
    ((40, 30, 28), (8, 12, 10)),
    ((37, 23, 9), (8, 16, 16)),
    ((5, 64, 40), (16, 16, 16)),
]


@pytest.mark.parametrize("weighting", ["gaussian", "constant"])
@pytest.mark.parametrize("overlap", [0, 0.25, 0.5])
@pytest.mark.parametrize(("shape", "tile_size"), CASES)
def test_merging_an_identity_model_gives_back_the_volume(shape, tile_size, overlap, weighting):
    volume = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)
    tiles = identity_predictions(volume, tile_size, overlap)
    expected = volume.astype(np.float32) / 255
    sink = Rows(shape)
    merger = TileMerger(shape, tile_size, sink, weighting)
    for origin, prediction in tiles:
        merger.add(origin, prediction)
    merger.finish()
    np.testing.assert_allclose(sink.volume, expected, rtol=0, atol=2e-6)
    assert sum(count for _, count in sink.calls) == shape[0]
    # Rows were handed over as tiles moved along axis 0, not all at the end.
    assert len(sink.calls) == len({origin[0] for origin, _ in tiles})
    in_memory = merge_in_memory(shape, tile_size, reversed(tiles), weighting)
    np.testing.assert_allclose(in_memory, expected, rtol=0, atol=2e-6)


def test_overlaps_are_weighted_averages():
    # Two tiles along axis 0 overlapping on rows 2..3: constant weights average them, Gaussian ones favour
    # each tile's centre.
    shape, size = (6, 1, 1), (4, 1, 1)
    tiles = [((0, 0, 0), np.zeros(size)), ((2, 0, 0), np.ones(size))]
    flat = merge_in_memory(shape, size, tiles, "constant")[:, 0, 0]
    np.testing.assert_allclose(flat, [0, 0, 0.5, 0.5, 1, 1])
    w = importance_map(size, "gaussian")[:, 0, 0]
    gauss = merge_in_memory(shape, size, tiles, "gaussian")[:, 0, 0]
    np.testing.assert_allclose(gauss[2:4], [w[0] / (w[2] + w[0]), w[1] / (w[3] + w[1])], rtol=1e-6)
    sink = Rows(shape)
    merger = TileMerger(shape, size, sink, "gaussian")
    for origin, prediction in tiles:
        merger.add(origin, prediction)
    merger.finish()
    np.testing.assert_array_equal(sink.volume[:, 0, 0], gauss)


def measure_peak(shape, tile_size, overlap=0.5):
    """(the merger's peak_bytes, the peak of Python's and numpy's allocations as tracemalloc sees them)."""
    prediction = np.zeros(tile_size, dtype=np.float32)
    origins = grid_origins(shape, tile_size, overlap)
    tracemalloc.start()
    try:
        merger = TileMerger(shape, tile_size, lambda first, rows: None, "gaussian")
        for origin in origins:
            merger.add(origin, prediction)
        merger.finish()
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return merger.peak_bytes, traced


def test_peak_memory_does_not_grow_with_the_axis_0_length():
    tile_size = (16, 32, 32)
    short, short_traced = measure_peak((64, 96, 80), tile_size)
    long, long_traced = measure_peak((256, 96, 80), tile_size)
    assert short == long
    whole_volume_float32 = 256 * 96 * 80 * 4
    assert long < whole_volume_float32 / 4
    # Two ring buffers of t0 rows, the rows handed over, one tile's scratch and weights.
    assert long <= (3 * 16 * 96 * 80 + 2 * 16 * 32 * 32) * 4
    # Measured from outside too: what the merge allocated, temporaries included.
    assert long_traced < 1.1 * short_traced and long_traced < whole_volume_float32 / 3


def test_finish_is_needed_for_the_last_rows_and_frees_the_buffers():
    shape, size = (10, 4, 4), (4, 4, 4)
    sink = Rows(shape)
    merger = TileMerger(shape, size, sink)
    for origin in grid_origins(shape, size, 0.5):
        merger.add(origin, np.full(size, 0.25))
    assert merger.rows_done == 6  # the last tile starts at row 6
    merger.finish()
    assert merger.rows_done == 10 and np.allclose(sink.volume, 0.25)
    with pytest.raises(ValueError, match="the merger has finished; make a new TileMerger"):
        merger.add((0, 0, 0), np.zeros(size))


def bad(match):
    return pytest.raises(ValueError, match=match)


def test_tiles_out_of_order_are_refused():
    merger = TileMerger((12, 4, 4), (4, 4, 4), lambda first, rows: None)
    merger.add((0, 0, 0), np.zeros((4, 4, 4)))
    merger.add((4, 0, 0), np.zeros((4, 4, 4)))
    with bad(r"a tile at axis-0 origin 2 came after one at 4; .* use merge_in_memory"):
        merger.add((2, 0, 0), np.zeros((4, 4, 4)))


def test_voxels_without_a_tile_are_refused():
    merger = TileMerger((12, 4, 4), (4, 4, 4), lambda first, rows: None)
    merger.add((0, 0, 0), np.zeros((4, 4, 4)))
    with bad(r"voxel \(4, 0, 0\) got no tile; the tiles must cover the whole volume"):
        merger.add((8, 0, 0), np.zeros((4, 4, 4)))
    holes = TileMerger((4, 8, 4), (4, 4, 4), lambda first, rows: None)
    holes.add((0, 0, 0), np.zeros((4, 4, 4)))
    with bad(r"voxel \(0, 4, 0\) got no tile"):
        holes.finish()
    with bad(r"voxel \(0, 0, 0\) got no tile"):
        merge_in_memory((4, 4, 8), (4, 4, 4), [((0, 0, 4), np.zeros((4, 4, 4)))])


@pytest.mark.parametrize(
    ("origin", "prediction", "match"),
    [
        ((0, 0), np.zeros((4, 4, 4)), r"tile origin is \(0, 0\); give 3 integers \(o0, o1, o2\) in 0..7, 0..3, 0..3"),
        ((0, -1, 0), np.zeros((4, 4, 4)), r"tile origin is \(0, -1, 0\)"),
        ((0, 0, 4), np.zeros((4, 4, 4)), r"tile origin is \(0, 0, 4\); .* for volume shape \[8, 4, 4\]"),
        ((0, 0.5, 0), np.zeros((4, 4, 4)), r"tile origin is \(0, 0.5, 0\)"),
        ((0, 0, 0), np.zeros((1, 4, 4, 4)), r"at \[0, 0, 0\] has shape \[1, 4, 4, 4\]; the tile size is \[4, 4, 4\]"),
        ((0, 0, 0), np.full((4, 4, 4), np.nan), r"holds NaN or infinite values"),
        ((0, 0, 0), np.full((4, 4, 4), "a"), r"is of dtype <U1; give real numbers"),
    ],
)
def test_bad_tiles_are_refused_naming_the_value(origin, prediction, match):
    with bad(match):
        TileMerger((8, 4, 4), (4, 4, 4), lambda first, rows: None).add(origin, prediction)
    with bad(match):
        merge_in_memory((8, 4, 4), (4, 4, 4), [(origin, prediction)])


def test_bad_shapes_and_sinks_are_refused():
    with bad(r"volume_shape is \(8, 4\); give 3 integers >= 1"):
        TileMerger((8, 4), (4, 4, 4), print)
    with bad(r"tile_size is \(4, 4, 0\); give 3 integers >= 1"):
        TileMerger((8, 4, 4), (4, 4, 0), print)
    with bad(r"sink is None; give a callable sink\(first_row, rows\)"):
        TileMerger((8, 4, 4), (4, 4, 4), None)
    with bad(r"weighting is 'mean'"):
        merge_in_memory((8, 4, 4), (4, 4, 4), [], "mean")
