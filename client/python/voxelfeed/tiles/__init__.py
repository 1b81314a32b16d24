"""Whole-scan inference: tiles of a series (FeedClient.stream_tiles) merged back into one volume.

    from voxelfeed.tiles import NrrdWriter, TileMerger
    writer = NrrdWriter(f"{uid}_pred.nrrd", volume_shape, series_uid=uid, spacing=spacing)
    merger = TileMerger(volume_shape, tile_size, writer.write_rows)   # Gaussian weights, as nnU-Net
    for origin, prediction in tiles: merger.add(origin, prediction)  # in the server's order
    merger.finish(); writer.close()
"""

from .importance_map import WEIGHTINGS, importance_map
from .merger import TileMerger, merge_in_memory
from .nrrd_writer import NrrdWriter

__all__ = ["WEIGHTINGS", "NrrdWriter", "TileMerger", "importance_map", "merge_in_memory"]
