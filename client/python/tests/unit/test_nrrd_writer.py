"""NrrdWriter: merged rows spooled and transposed into an NRRD file that teem's `unu` reads back."""

import os
import tracemalloc

import numpy as np
import pytest
from teem_dataset import read_with_unu
from tile_grid import cut_tiles

from voxelfeed.tiles import NrrdWriter, TileMerger


def merge_identity(volume, tile_size, overlap, writer, weighting="gaussian"):
    merger = TileMerger(volume.shape, tile_size, writer.write_rows, weighting)
    for origin, tile in cut_tiles(volume, tile_size, overlap):
        merger.add(origin, tile.astype(np.float32) / 255)
    merger.finish()
    return merger


@pytest.mark.parametrize("encoding", ["gzip", "raw"])
@pytest.mark.parametrize(
    ("shape", "block_bytes"),
    [
        ((40, 60, 30), 16 * 2**20),  # one block
        ((40, 60, 30), 5000),  # blocks of two axis-2 planes
        ((45, 50, 7), 1024),  # an axis 0-1 plane over the budget: blocks of part of one plane
    ],
)
def test_an_identity_merge_is_read_back_by_unu_as_the_volume(tmp_path, shape, block_bytes, encoding):
    volume = np.random.default_rng(7).integers(0, 256, size=shape, dtype=np.uint8)
    path = tmp_path / "1.2.3_pred.nrrd"
    writer = NrrdWriter(path, shape, series_uid="1.2.3", spacing=(2.5, 0.703125, 0.703125), encoding=encoding,
                        block_bytes=block_bytes)
    merge_identity(volume, (8, 16, 16), 0.5, writer)
    assert not path.exists()  # nothing at the path before close()
    assert writer.close() == path
    voxels, header = read_with_unu(path)
    assert np.array_equal(voxels, volume)  # round(255 * v / 255) == v through the merge and the transpose
    assert "sizes: 40 60 30" in header or f"sizes: {' '.join(map(str, shape))}" in header
    assert "spacings: 2.5 0.703125 0.703125" in header
    assert f"encoding: {encoding}" in header
    assert "voxelfeed_kind:=probability" in header and "voxelfeed_series:=1.2.3" in header
    assert sorted(os.listdir(tmp_path)) == [path.name]  # the spool is gone


def test_probabilities_round_half_up_and_clamp(tmp_path):
    p = np.array([0, 0.5 / 255, 1.49 / 255, 0.5, 1, 1.5, -0.25, 254.5 / 255], dtype=np.float64)
    rows = np.broadcast_to(p.astype(np.float32)[None, None, :], (2, 3, p.size))
    with NrrdWriter(tmp_path / "p.nrrd", rows.shape, encoding="raw") as writer:
        writer.write_rows(0, rows)
    voxels, _ = read_with_unu(tmp_path / "p.nrrd")
    expected = np.clip(np.floor(p.astype(np.float32).astype(np.float64) * 255 + 0.5), 0, 255)
    assert list(voxels[0, 0]) == list(expected.astype(np.uint8))
    assert list(voxels[1, 2][:6]) == [0, 1, 1, 128, 255, 255]


def test_a_threshold_writes_a_mask(tmp_path):
    volume = np.random.default_rng(3).integers(0, 256, size=(20, 24, 18), dtype=np.uint8)
    path = tmp_path / "mask.nrrd"
    with NrrdWriter(path, volume.shape, series_uid="9.9", threshold=0.5) as writer:
        merge_identity(volume, (8, 8, 8), 0.25, writer, "constant")
    voxels, header = read_with_unu(path)
    merged = volume.astype(np.float32) / 255
    assert np.array_equal(voxels, (merged >= 0.5).astype(np.uint8))
    assert "voxelfeed_kind:=mask" in header and "spacings" not in header


def test_an_error_leaves_no_files_and_the_old_file_untouched(tmp_path):
    path = tmp_path / "old_pred.nrrd"
    path.write_bytes(b"the previous prediction")
    with pytest.raises(RuntimeError, match="model failed"):
        with NrrdWriter(path, (4, 4, 4)) as writer:
            writer.write_rows(0, np.zeros((2, 4, 4)))
            raise RuntimeError("model failed")
    assert sorted(os.listdir(tmp_path)) == [path.name] and path.read_bytes() == b"the previous prediction"
    incomplete = NrrdWriter(path, (4, 4, 4))
    incomplete.write_rows(0, np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"old_pred.nrrd: 3 of 4 rows were written; the volume is incomplete"):
        incomplete.close()
    assert sorted(os.listdir(tmp_path)) == [path.name] and path.read_bytes() == b"the previous prediction"


def traced_peak_of_writing(path, v0, block):
    rows = np.full((8, 256, 256), 0.5, dtype=np.float32)
    writer = NrrdWriter(path, (v0, 256, 256), block_bytes=block)
    tracemalloc.start()
    try:
        for first in range(0, v0, 8):
            writer.write_rows(first, rows)
        writer.close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_writing_uses_memory_bounded_by_the_block_not_the_volume(tmp_path):
    block = 256 * 2**10
    short = traced_peak_of_writing(tmp_path / "short.nrrd", 32, block)
    long = traced_peak_of_writing(tmp_path / "long.nrrd", 128, block)
    # One row scaled in float64 (512 KiB) while spooling; at close a block, its bytes and their compression.
    assert long < 1.1 * short and long < 4 * block
    assert long < 128 * 256 * 256 / 8  # an eighth of the uint8 volume, a 32nd of a float32 one
    voxels, _ = read_with_unu(tmp_path / "long.nrrd")
    assert voxels.shape == (128, 256, 256) and (voxels == 128).all()


def test_bad_arguments_are_refused_naming_the_value(tmp_path):
    def bad(match, **options):
        arguments = {"path": tmp_path / "x.nrrd", "volume_shape": (4, 4, 4), **options}
        with pytest.raises(ValueError, match=match):
            NrrdWriter(**arguments)

    bad(r"encoding is 'bzip2'; use 'gzip' \(the default\) or 'raw'", encoding="bzip2")
    bad(r"threshold is 1.5; give a probability from 0 to 1", threshold=1.5)
    bad(r"spacing is \(1, 0, 1\); give 3 numbers > 0", spacing=(1, 0, 1))
    bad(r"series_uid is 'a\\nb'; give the series uid as one line", series_uid="a\nb")
    bad(r"volume_shape is \(4, 4\)", volume_shape=(4, 4))
    bad(r"block_bytes is 10; give an integer >= 1024", block_bytes=10)
    bad(r"folder .*missing does not exist; create it first", path=tmp_path / "missing" / "x.nrrd")
    assert os.listdir(tmp_path) == []
    with NrrdWriter(tmp_path / "x.nrrd", (4, 4, 4)) as writer:
        with pytest.raises(ValueError, match=r"rows start at 2 but row 0 is next; give the rows in order"):
            writer.write_rows(2, np.zeros((2, 4, 4)))
        with pytest.raises(ValueError, match=r"rows of shape \[2, 4, 5\] at row 0 do not fit volume shape \[4, 4, 4\]"):
            writer.write_rows(0, np.zeros((2, 4, 5)))
        writer.write_rows(0, np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match=r"x.nrrd is closed; make a new one"):
        writer.write_rows(0, np.zeros((1, 4, 4)))
