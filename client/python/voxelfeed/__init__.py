"""voxelfeed: a Python client of the voxelfeed data server, which streams deterministic 3D CT crops.

    from voxelfeed import FeedClient
    with FeedClient("127.0.0.1:50051") as client:
        for batch in client.stream_batches(crop_size=(16, 96, 96), batch_size=4, seed=1, include_mask=True):
            batch.image, batch.mask  # numpy [B, s0, s1, s2]

PyTorch: `voxelfeed.torch.VoxelFeedDataset`.
"""

from .batch import Augmentation, Batch, Sample
from .client import FeedClient
from .errors import FeedError
from .reconnect import ReconnectPolicy
from .stream import BatchStream, RetryEvent

__all__ = ["Augmentation", "Batch", "BatchStream", "FeedClient", "FeedError", "ReconnectPolicy", "RetryEvent", "Sample"]
__version__ = "0.1.0"
