"""Whole-scan inference: the tiles of a series (FeedClient.stream_tiles) merged back into one volume.

    from voxelfeed.tiles import NrrdWriter, TileMerger
    writer = NrrdWriter(f"{uid}_pred.nrrd", batch.volume_shape, series_uid=uid, spacing=batch.spacing)
    merger = TileMerger(batch.volume_shape, batch.tile_size, writer.write_rows)  # Gaussian weights (nnU-Net)
    for origin, prediction in zip(batch.origins, predictions): merger.add(origin, prediction)  # each batch
    merger.finish(); writer.close()
"""

from .importance_map import WEIGHTINGS, importance_map
from .merger import TileMerger, merge_in_memory
from .nrrd_writer import NrrdWriter
from .tile_batch import TileBatch, decode_tile_batch
from .tile_stream import TileRetryEvent, TileStream

__all__ = [
    "WEIGHTINGS",
    "NrrdWriter",
    "TileBatch",
    "TileMerger",
    "TileRetryEvent",
    "TileStream",
    "decode_tile_batch",
    "importance_map",
    "merge_in_memory",
]
