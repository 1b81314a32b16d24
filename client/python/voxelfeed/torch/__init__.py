"""PyTorch integration: `VoxelFeedDataset`, an IterableDataset of ready batches for `DataLoader(batch_size=None)`."""

from .dataset import VoxelFeedDataset, state_after

__all__ = ["VoxelFeedDataset", "state_after"]
