"""What the Batch and TileBatch decoding tests share: random tensors for a message, and where a decoded array's
memory comes from."""

import numpy as np

from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb


def random_tensors(rng, shape, dtype=pb.DTYPE_UINT8):
    """An image of random voxels as the message carries it (uint8, or float32 voxel / 255) and a 0/1 mask."""
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    pixels = image.astype("<f4") / np.float32(255) if dtype == pb.DTYPE_FLOAT32 else image
    labels = (rng.random(shape) < 0.3).astype(np.uint8)
    return pixels, labels


def memory_owner(array):
    """The object whose memory `array` views, past any numpy arrays between."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array.base
