"""stream_tiles against a real server on a data set written by teem's `unu`: every tile is the numpy crop at
its origin on the documented grid, and an identity model merged into an NRRD file gives back the volume."""

from __future__ import annotations

import numpy as np
import pytest
from teem_dataset import crop_of, read_with_unu, write_teem_dataset
from tile_grid import grid_origins

from voxelfeed import FeedClient
from voxelfeed.tiles import NrrdWriter, TileMerger

SHAPE = (20, 40, 44)


@pytest.fixture(scope="module")
def teem(tmp_path_factory):
    from conftest import spawn_server

    data = tmp_path_factory.mktemp("teem") / "teem"
    volumes = write_teem_dataset(data, shape=SHAPE)
    server = spawn_server(["--data", str(data)])
    yield server, volumes
    server.kill()


@pytest.mark.parametrize(
    ("tile_size", "overlap", "batch_size"),
    [((8, 16, 16), 0.5, 3), ((8, 48, 16), (0, 0.25, 0.5), 4), ((32, 40, 44), 0.5, 1)],
)
def test_every_tile_is_the_crop_of_the_file_at_its_origin(teem, tile_size, overlap, batch_size):
    server, volumes = teem
    uids = sorted(uid for uid in volumes if "/" not in uid)
    seen: dict[str, list] = {uid: [] for uid in uids}
    with FeedClient(server.address) as client:
        for batch in client.stream_tiles(tile_size=tile_size, overlap=overlap, batch_size=batch_size,
                                         include_mask=True, pad_value=7):
            assert batch.series_uid == uids[batch.series_index] and batch.series_count == len(uids)
            assert batch.volume_shape == SHAPE and batch.image.shape[0] <= batch_size
            assert batch.first_tile == len(seen[batch.series_uid])
            for b, origin in enumerate(batch.origins):
                assert np.array_equal(batch.image[b], crop_of(volumes[batch.series_uid], origin, tile_size, pad=7))
                assert np.array_equal(batch.mask[b], crop_of(volumes[batch.series_uid + "/mask"], origin, tile_size))
                seen[batch.series_uid].append(origin)
    for uid in uids:
        assert seen[uid] == grid_origins(SHAPE, tile_size, overlap)


def test_an_identity_model_merged_into_nrrd_gives_back_the_file(teem, tmp_path):
    server, volumes = teem
    uid = sorted(uid for uid in volumes if "/" not in uid)[1]
    merger = writer = None
    with FeedClient(server.address) as client:
        for batch in client.stream_tiles(tile_size=(8, 16, 16), series_uids=[uid], batch_size=5, dtype="float32"):
            if merger is None:
                writer = NrrdWriter(tmp_path / f"{uid}_pred.nrrd", batch.volume_shape, series_uid=uid,
                                    spacing=batch.spacing)
                merger = TileMerger(batch.volume_shape, batch.tile_size, writer.write_rows, "gaussian")
            for origin, tile in zip(batch.origins, batch.image):
                merger.add(origin, tile)  # float32 tiles are voxel / 255: the identity model's output
    merger.finish()
    voxels, header = read_with_unu(writer.close())
    assert np.array_equal(voxels, volumes[uid]) and f"voxelfeed_series:={uid}" in header
