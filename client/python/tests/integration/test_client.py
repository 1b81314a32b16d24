"""FeedClient against a real server: the bytes are the files' voxels, errors say what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from teem_dataset import crop_of, write_teem_dataset
from voxelfeed import FeedClient, FeedError

CROP = (8, 16, 16)


@pytest.fixture(scope="module")
def teem(tmp_path_factory):
    from conftest import spawn_server

    data = tmp_path_factory.mktemp("teem") / "teem"
    volumes = write_teem_dataset(data)
    server = spawn_server(["--data", str(data)])
    yield server, volumes
    server.kill()


def test_crops_are_the_voxels_of_the_files_teem_wrote(teem):
    server, volumes = teem
    seen_modes = set()
    with FeedClient(server.address) as client:
        info = client.dataset_info()
        assert info.series == 3 and info.nodules == 6
        for dtype in ("uint8", "float32"):
            batches = list(client.stream_batches(crop_size=CROP, batch_size=3, seed=4, include_mask=True, dtype=dtype))
            assert [b.step for b in batches] == list(range(batches[0].steps_in_epoch))
            for batch in batches:
                assert batch.image.shape == (3, *CROP) and batch.mask.shape == (3, *CROP)
                for b, sample in enumerate(batch.samples):
                    seen_modes.add(sample.mode)
                    voxels = crop_of(volumes[sample.series_uid], sample.origin, CROP)
                    labels = crop_of(volumes[sample.series_uid + "/mask"], sample.origin, CROP)
                    expected = voxels if dtype == "uint8" else voxels.astype(np.float32) / np.float32(255)
                    assert np.array_equal(batch.image[b], expected), (batch.step, b, sample)
                    assert np.array_equal(batch.mask[b], labels)
    assert seen_modes >= {"jitter", "negative"}


def test_foreground_voxels_count_the_crop_of_the_mask_teem_wrote_without_sending_it(teem):
    server, volumes = teem
    with FeedClient(server.address) as client:
        batches = list(client.stream_batches(crop_size=CROP, batch_size=3, seed=6, include_mask=False))
    counts = []
    for batch in batches:
        assert batch.mask is None
        for sample in batch.samples:
            labels = crop_of(volumes[sample.series_uid + "/mask"], sample.origin, CROP)
            assert sample.foreground_voxels == np.count_nonzero(labels), sample
            counts.append(sample.foreground_voxels)
    assert min(counts) == 0 and max(counts) > 0


def test_mirrored_crops_and_background_negatives_arrive_with_what_they_got(teem):
    server, volumes = teem
    sampling = {"augmentation": {"flip_prob": 0.5}, "avoid_foreground": True, "negatives_per_epoch": 6}
    seen = {"flipped": 0, "background": 0}
    with FeedClient(server.address) as client:
        for batch in client.stream_batches(crop_size=CROP, batch_size=3, seed=2, include_mask=True, sampling=sampling):
            for b, sample in enumerate(batch.samples):
                axes = sample.augmentation.flipped_axes
                voxels = np.flip(crop_of(volumes[sample.series_uid], sample.origin, CROP), axes)
                labels = np.flip(crop_of(volumes[sample.series_uid + "/mask"], sample.origin, CROP), axes)
                assert np.array_equal(batch.image[b], voxels) and np.array_equal(batch.mask[b], labels)
                seen["flipped"] += bool(axes)
                if sample.mode == "background":
                    seen["background"] += 1
                    assert sample.background_draws >= 1 and not batch.mask[b].any()
    assert seen["flipped"] > 0 and seen["background"] > 0, seen


def test_get_sample_is_the_same_sample_as_in_the_stream(teem):
    server, _ = teem
    with FeedClient(server.address) as client:
        stream = list(client.stream_batches(crop_size=CROP, batch_size=2, seed=9, epoch=1, include_mask=True))
        for batch in stream[:3]:
            for b, sample in enumerate(batch.samples):
                one = client.get_sample(crop_size=CROP, index=sample.index, seed=9, epoch=1, include_mask=True)
                assert one.samples[0] == sample
                assert np.array_equal(one.image[0], batch.image[b]) and np.array_equal(one.mask[0], batch.mask[b])


def test_batches_over_four_mib_arrive(teem):
    server, _ = teem
    with FeedClient(server.address) as client:
        # 8 float32 crops of 16x96x96 with masks: 5.9 MB, over gRPC's default 4 MiB receive limit.
        batch = next(iter(client.stream_batches(crop_size=(16, 96, 96), batch_size=8, dtype="float32",
                                                include_mask=True, max_steps=1)))
        assert batch.image.nbytes + batch.mask.nbytes > 4 * 1024 * 1024


def test_refused_requests_name_the_field_and_the_fix(teem):
    server, _ = teem
    with FeedClient(server.address) as client:
        with pytest.raises(FeedError) as caught:
            list(client.stream_batches(crop_size=(8, 16, 0), batch_size=2))
        assert caught.value.code == "INVALID_ARGUMENT"
        assert "crop_size[2] is 0" in caught.value.details
        assert server.address in str(caught.value)
        with pytest.raises(FeedError) as caught:
            list(client.stream_batches(crop_size=CROP, batch_size=2, start_step=10_000))
        assert caught.value.code == "OUT_OF_RANGE" and "start_step is 10000" in caught.value.details
        with pytest.raises(FeedError) as caught:
            client.dataset_info("nope")
        assert caught.value.code == "NOT_FOUND"


def test_strided_streams_share_the_steps(teem):
    server, _ = teem
    with FeedClient(server.address) as client:
        whole = [b.step for b in client.stream_batches(crop_size=CROP, batch_size=1, seed=2)]
        parts = [[b.step for b in client.stream_batches(crop_size=CROP, batch_size=1, seed=2, start_step=w,
                                                        step_stride=3)] for w in range(3)]
        assert sorted(sum(parts, [])) == whole
        assert all(steps == whole[w::3] for w, steps in enumerate(parts))


def test_a_closed_client_cancels_its_streams_and_refuses_calls(teem):
    server, _ = teem
    client = FeedClient(server.address, prefetch=1)
    stream = client.stream_batches(crop_size=CROP, batch_size=1, seed=3)
    next(stream)
    client.close()
    with pytest.raises(FeedError) as caught:
        for _ in stream:
            pass
    assert caught.value.code == "CANCELLED"
    with pytest.raises(FeedError, match="closed"):
        client.dataset_info()


def test_an_unreachable_server_gives_up_with_unavailable_naming_it():
    from voxelfeed import ReconnectPolicy

    with FeedClient("127.0.0.1:1", reconnect=ReconnectPolicy(5, 20, 3)) as client:
        with pytest.raises(FeedError) as caught:
            list(client.stream_batches(crop_size=CROP, batch_size=1))
    assert caught.value.code == "UNAVAILABLE"
    assert "StreamBatches gave up on 127.0.0.1:1 after 3 failed attempts in a row" in str(caught.value)


def _call_in_child(client, pipe):
    try:
        client.dataset_info()
        pipe.send("no error")
    except FeedError as error:
        pipe.send(f"{error.code}: {error}")


def test_a_client_used_in_a_forked_child_says_why_it_cannot_work(teem):
    import multiprocessing

    server, _ = teem
    context = multiprocessing.get_context("fork")
    with FeedClient(server.address) as client:
        client.dataset_info()
        parent_end, child_end = context.Pipe()
        child = context.Process(target=_call_in_child, args=(client, child_end))
        child.start()
        child.join(30)
        assert parent_end.poll(1), "the child answered"
        answer = parent_end.recv()
    assert answer.startswith("FAILED_PRECONDITION: this feed client was opened in another process")
    assert "multiprocessing_context='forkserver'" in answer
