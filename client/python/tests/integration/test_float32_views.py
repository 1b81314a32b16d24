"""float32 images arrive as numpy views of the received message: the server lays each image out on a 4-byte
boundary of the bytes object grpcio hands over, so the client never copies it to align it."""

from __future__ import annotations

import numpy as np
import pytest

from teem_dataset import write_teem_dataset
from voxelfeed import FeedClient

# Image sizes whose length prefixes take 2, 3 and 4 bytes (each would land the image elsewhere by default).
SHAPES = [(1, (4, 4, 4)), (2, (16, 32, 32)), (8, (32, 48, 48))]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import spawn_server

    data = tmp_path_factory.mktemp("teem") / "teem"
    write_teem_dataset(data)
    server = spawn_server(["--data", str(data)])
    yield server
    server.kill()


def _assert_view(image: np.ndarray, what: str) -> None:
    assert image.dtype == np.float32, what
    assert image.flags.aligned, what
    # A copy owns its memory; a view of the message does not.
    assert not image.flags.owndata, f"{what}: the float32 image was copied out of its message"
    assert 0 < float(image.max()) <= 1, what


@pytest.mark.parametrize("batch_size, crop", SHAPES)
def test_float32_images_are_views_of_the_received_messages(server, batch_size, crop):
    with FeedClient(server.address) as client:
        batches = list(
            client.stream_batches(crop_size=crop, batch_size=batch_size, seed=3, dtype="float32", include_mask=True, max_steps=2)
        )
        sample = client.get_sample(crop_size=crop, index=1, seed=3, dtype="float32", include_mask=True)
    assert 1 <= len(batches) <= 2
    for batch in batches:
        assert batch.image.shape == (batch_size, *crop)
        _assert_view(batch.image, f"batch {batch.step} of {batch_size}x{crop}")
    _assert_view(sample.image, f"sample of {crop}")
