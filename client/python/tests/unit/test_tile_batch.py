"""decode_tile_batch: TileBatch tensors as views of the received bytes, the rest as protobuf parses it."""

import numpy as np
import pytest
from tensor_messages import memory_owner, random_tensors

from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from voxelfeed.batch import MalformedBatch
from voxelfeed.tiles import decode_tile_batch


def tile_message(rng, dtype=pb.DTYPE_UINT8, mask=True, tiles=3, tile=(2, 3, 4), first_tile=4, **overrides):
    pixels, labels = random_tensors(rng, (tiles, *tile), dtype)
    origins = [int(v) for b in range(tiles) for v in (b, 2 * b, 3 * b)]
    fields = dict(
        series_uid="1.2.840.1", series_index=1, series_count=3, volume_shape=[9, 10, 11], grid=[2, 2, 3],
        first_tile=first_tile, tiles_in_series=12, shape=[tiles, *tile], dtype=dtype, image=pixels.tobytes(),
        mask=labels.tobytes() if mask else b"", origins=origins, spacing=[2.5, 0.7, 0.7],
    )
    fields.update(overrides)
    return pb.TileBatch(**fields), pixels, labels


@pytest.mark.parametrize("dtype", [pb.DTYPE_UINT8, pb.DTYPE_FLOAT32])
def test_tiles_are_views_of_the_received_bytes(dtype):
    message, pixels, labels = tile_message(np.random.default_rng(1), dtype)
    raw = message.SerializeToString()
    batch = decode_tile_batch(raw)
    assert batch.image.dtype == pixels.dtype and np.array_equal(batch.image, pixels)
    assert np.array_equal(batch.mask, labels)
    assert memory_owner(batch.mask) is raw and not batch.mask.flags.writeable
    if dtype == pb.DTYPE_UINT8:
        assert memory_owner(batch.image) is raw
    assert batch.origins == ((0, 0, 0), (1, 2, 3), (2, 4, 6))
    assert (batch.series_uid, batch.series_index, batch.series_count) == ("1.2.840.1", 1, 3)
    assert batch.volume_shape == (9, 10, 11) and batch.grid == (2, 2, 3) and batch.tile_size == (2, 3, 4)
    assert (batch.first_tile, batch.tiles_in_series, batch.ends_series) == (4, 12, False)
    assert batch.spacing == (2.5, 0.7, 0.7)


def test_without_mask_or_spacing_they_are_none():
    message, _, _ = tile_message(np.random.default_rng(2), mask=False, first_tile=9, spacing=[])
    batch = decode_tile_batch(message.SerializeToString())
    assert batch.mask is None and batch.spacing is None and batch.ends_series


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"shape": [3, 2, 3]}, r"tile batch shape is \[3, 2, 3\]; expected \[B, t0, t1, t2\]"),
        ({"origins": [0, 0, 0]}, r"3 origin values for 3 tiles; expected 9"),
        ({"grid": [2, 2]}, r"volume_shape \[9, 10, 11\] and grid \[2, 2\] need 3 values each"),
        ({"first_tile": 10}, r"tiles 10..12 do not fit a grid of \[2, 2, 3\] \(12 tiles\)"),
        ({"tiles_in_series": 13}, r"do not fit a grid"),
        ({"spacing": [1.0]}, r"spacing \[1.0\] needs 3 values, or none"),
        ({"image": b"\x00" * 5}, r"image has 5 bytes; shape \[3, 2, 3, 4\] of uint8 needs 72"),
        ({"dtype": 7}, r"dtype 7 is not one this client knows"),
    ],
)
def test_malformed_tile_batches_are_refused_naming_the_problem(overrides, match):
    message, _, _ = tile_message(np.random.default_rng(3), **overrides)
    with pytest.raises(MalformedBatch, match=match):
        decode_tile_batch(message.SerializeToString())
