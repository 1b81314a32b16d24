"""float32 images against a real server: grpcio hands each message as a bytes object (the message at byte 0,
16-byte aligned), the server pads a float32 image for that place, and numpy views it there without a copy."""

from __future__ import annotations

import numpy as np
import pytest
from tensor_messages import memory_owner

from voxelfeed import FeedClient

SAMPLING = {"samples_per_nodule": 1, "negatives_per_epoch": 6}
BATCH_PADDING_TAG = 12 << 3 | 2
BATCH_IMAGE_TAG = 6 << 3 | 2
TILE_PADDING_TAG = 14 << 3 | 2


def widened(voxels: np.ndarray) -> np.ndarray:
    """uint8 voxels as the server widens them: v / 255 in double precision, rounded to float32."""
    return (voxels.astype(np.float64) / 255).astype(np.float32)


def received_bytes(array: np.ndarray) -> bytes:
    """The bytes object grpcio received that `array` views; fails for a copy."""
    owner = memory_owner(array)
    assert isinstance(owner, bytes), f"a copy: its memory belongs to {type(owner).__name__}"
    assert np.shares_memory(array, np.frombuffer(owner, dtype=np.uint8))
    return owner


def received_message(image: np.ndarray) -> bytes:
    """The bytes object grpcio received that the float32 `image` views, aligned; fails for a copy."""
    owner = received_bytes(image)
    assert image.flags.aligned and image.ctypes.data % 4 == 0
    return owner


# Image field prefixes of 2 to 5 bytes: with the message at byte 0, padding fields of 2, 5, none and 3 bytes.
@pytest.mark.parametrize(
    ("batch_size", "crop_size", "padding_tag_first"),
    [(2, (2, 2, 2), True), (1, (8, 16, 16), True), (4, (8, 16, 16), False), (4, (16, 96, 96), True)],
)
def test_float32_batches_are_views_of_the_received_bytes_equal_to_uint8_over_255(
    phantom_server, batch_size, crop_size, padding_tag_first
):
    request = {"crop_size": crop_size, "batch_size": batch_size, "seed": 4, "sampling": SAMPLING,
               "include_mask": True}
    with FeedClient(phantom_server.address) as client:
        floats = list(client.stream_batches(dtype="float32", **request))
        bytes_ = list(client.stream_batches(dtype="uint8", **request))
    assert len(floats) >= 2 and len(floats) == len(bytes_)
    for step, (batch, reference) in enumerate(zip(floats, bytes_)):
        raw = received_message(batch.image)
        assert (raw[0] == BATCH_PADDING_TAG) == padding_tag_first, f"step {step}: first byte {raw[0]}"
        assert batch.image.dtype == np.float32
        assert np.array_equal(batch.image, widened(reference.image)), f"step {step}"
        assert np.array_equal(batch.mask, reference.mask)
        assert batch.samples == reference.samples
        # uint8 messages are as they always were: no padding, the image first.
        assert received_bytes(reference.image)[0] == BATCH_IMAGE_TAG


def test_get_sample_gives_a_float32_view_equal_to_the_stream(phantom_server):
    crop = (8, 16, 16)
    with FeedClient(phantom_server.address) as client:
        batch = next(iter(client.stream_batches(crop_size=crop, batch_size=4, seed=4, sampling=SAMPLING,
                                                dtype="float32", max_steps=1)))
        for slot, sample in enumerate(batch.samples):
            single = client.get_sample(crop_size=crop, index=sample.index, seed=4, sampling=SAMPLING,
                                       dtype="float32")
            raw = received_message(single.image)
            # 8 KiB: a 3-byte prefix, so the image needs a 5-byte padding field to start at byte 8.
            assert raw[0] == BATCH_PADDING_TAG and raw[1] == 3
            assert np.array_equal(single.image[0], batch.image[slot]), f"sample {sample.index}"


def test_float32_tiles_are_views_of_the_received_bytes_equal_to_uint8_over_255(phantom_server):
    # 2 tiles of 8x16x12 (12 KiB) or 1 at a series' end: a 3-byte prefix, which needs a padding field.
    request = {"tile_size": (8, 16, 12), "batch_size": 2, "include_mask": True}
    with FeedClient(phantom_server.address) as client:
        floats = list(client.stream_tiles(dtype="float32", **request))
        bytes_ = list(client.stream_tiles(dtype="uint8", **request))
    assert len(floats) >= 2 and len(floats) == len(bytes_)
    for tiles, reference in zip(floats, bytes_):
        raw = received_message(tiles.image)
        assert raw[0] == TILE_PADDING_TAG and raw[1] == 3, "tag and length of a 5-byte padding field"
        assert tiles.origins == reference.origins
        assert np.array_equal(tiles.image, widened(reference.image))
        assert np.array_equal(tiles.mask, reference.mask)
