"""VoxelFeedDataset in real DataLoaders against a real server: every step once, in order, resumable."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import urllib.request

import pytest
import torch
from torch.utils.data import DataLoader

from stateful_probe import StatefulProbe, load_worker_states
from voxelfeed import FeedClient
from voxelfeed.torch import VoxelFeedDataset, state_after

CROP = (8, 16, 16)
# Enough negatives that each rank has a few dozen steps.
SAMPLING = {"negatives_per_epoch": 60}
REQUEST = {"crop_size": CROP, "batch_size": 2, "seed": 21, "sampling": SAMPLING}


def digest(batch) -> tuple:
    """What identifies a batch: its step, its samples and its bytes."""
    h = hashlib.sha256(batch["image"].numpy().tobytes())
    if "label" in batch:
        h.update(batch["label"].numpy().tobytes())
    return batch["epoch"], batch["step"], tuple(batch["index"].tolist()), h.hexdigest()


def reference(address: str, rank: int, world_size: int, epoch: int) -> list[tuple]:
    """The rank's epoch through the plain client, converted as the dataset documents."""
    out = []
    with FeedClient(address) as client:
        for b in client.stream_batches(**REQUEST, epoch=epoch, rank=rank, world_size=world_size, include_mask=True):
            image = torch.from_numpy(b.image.astype("float32") / 255).reshape(b.image.shape[0], 1, *CROP)
            label = torch.from_numpy(b.mask.astype("int64"))
            index = torch.tensor([s.index for s in b.samples])
            out.append(digest({"image": image, "label": label, "epoch": b.epoch, "step": b.step, "index": index}))
    return out


def run(dataset, num_workers: int, limit: int | None = None, **loader) -> list[tuple]:
    seen = []
    for batch in dataset.loader(num_workers, **loader):
        seen.append(digest(batch))
        if limit is not None and len(seen) == limit:
            break
    return seen


def test_two_ranks_times_two_workers_cover_the_epoch_once_and_in_step_order(phantom_server):
    address = phantom_server.address
    indices = []
    for rank in range(2):
        dataset = VoxelFeedDataset(address, **REQUEST, rank=rank, world_size=2)
        dataset.set_epoch(1)
        seen = run(dataset, num_workers=2)
        assert [step for _, step, _, _ in seen] == list(range(len(seen)))
        assert seen == reference(address, rank, 2, epoch=1)
        indices += [i for _, _, batch, _ in seen for i in batch]
    assert len(indices) == len(set(indices)), "no plan position is served twice"
    assert set(indices) == set(range(len(indices)))


def test_tensors_are_what_the_original_pipeline_fed_its_vnet(phantom_server):
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST, rank=0, world_size=1)
    batch = next(iter(DataLoader(dataset, batch_size=None, num_workers=0)))
    assert batch["image"].dtype == torch.float32 and batch["image"].shape == (2, 1, *CROP)
    assert batch["label"].dtype == torch.int64 and batch["label"].shape == (2, *CROP)
    assert 0 <= batch["image"].min() and batch["image"].max() <= 1
    with FeedClient(phantom_server.address) as client:
        server_float = next(iter(client.stream_batches(**REQUEST, dtype="float32", max_steps=1)))
    # Converted here from the uint8 voxels, bit for bit the server's float32 voxel / 255.
    assert torch.equal(batch["image"].reshape(2, *CROP), torch.from_numpy(server_float.image.copy()))
    small = VoxelFeedDataset(phantom_server.address, **REQUEST, image_dtype=torch.uint8, label_dtype=torch.uint8)
    raw = next(iter(small))
    assert raw["image"].dtype == torch.uint8 and raw["label"].dtype == torch.uint8
    assert torch.equal(raw["image"].float() / 255, batch["image"])


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_job_stopped_mid_epoch_resumes_with_exactly_the_next_batch(phantom_server, num_workers):
    address = phantom_server.address
    whole_ds = VoxelFeedDataset(address, **REQUEST, rank=1, world_size=2)
    whole_ds.set_epoch(2)
    whole = run(whole_ds, num_workers)
    stop_after = len(whole) // 2 + 1

    first = VoxelFeedDataset(address, **REQUEST, rank=1, world_size=2)
    first.set_epoch(2)
    before = []
    for batch in first.loader(num_workers):
        before.append(digest(batch))
        state = state_after(batch) if num_workers else first.state_dict()
        if len(before) == stop_after:
            break

    resumed = VoxelFeedDataset(address, **REQUEST, rank=1, world_size=2)
    resumed.load_state_dict(state)
    resumed.set_epoch(state["epoch"])  # the training loop's own set_epoch keeps the restored step
    after = run(resumed, num_workers)
    assert before + after == whole


def test_resuming_with_another_request_is_refused_naming_the_difference(phantom_server):
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST)
    state = dataset.state_dict()
    other = VoxelFeedDataset(phantom_server.address, **{**REQUEST, "batch_size": 4})
    with pytest.raises(ValueError, match=r"other request fields \(batch_size\): saved \[2\], now \[4\]"):
        other.load_state_dict(state)


def test_epochs_differ_and_an_epoch_repeats_exactly(phantom_server):
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST, steps_per_epoch=5)
    dataset.set_epoch(0)
    zero = run(dataset, 2, pin_memory=True)
    dataset.set_epoch(1)
    one = run(dataset, 2)
    dataset.set_epoch(0)
    assert run(dataset, 0) == zero
    assert len(zero) == 5 and [d[3] for d in zero] != [d[3] for d in one]


def test_a_server_killed_and_restarted_mid_epoch_loses_and_repeats_nothing(phantom_dir, start_server):
    server = start_server(["--data", str(phantom_dir)])
    whole = reference_for(server.address)
    dataset = VoxelFeedDataset(
        server.address, **REQUEST, rank=0, world_size=1, prefetch=1,
        # A small HTTP/2 window, so the server cannot push the rest of the epoch into the client before the kill.
        channel_options={"grpc.http2.lookahead_bytes": 65535, "grpc.http2.bdp_probe": 0},
    )
    seen = []
    for batch in dataset.loader(2):
        seen.append(digest(batch))
        if len(seen) == 5:
            server.kill()
            restarted = start_server(["--data", str(phantom_dir)], port=server.port)
    assert seen == whole
    # The workers' streams were cut and resumed: the restarted server served StreamBatches calls.
    assert streams_started(restarted.metrics_url) > 0


def streams_started(metrics_url: str) -> float:
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("grpc_server_started_total{") and 'grpc_method="StreamBatches"' in line
    )


def reference_for(address):
    return reference(address, 0, 1, epoch=0)


def test_persistent_workers_follow_set_epoch(phantom_server):
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST, steps_per_epoch=4)
    fresh = []
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        fresh.append(run(dataset, 0))
    loader = dataset.loader(2, persistent_workers=True)
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        assert [digest(batch) for batch in loader] == fresh[epoch], f"epoch {epoch}"


def test_workers_forked_after_the_main_process_used_grpc_say_how_to_start_them(phantom_server):
    with FeedClient(phantom_server.address) as client:
        client.dataset_info()
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST)
    loader = DataLoader(dataset, batch_size=None, num_workers=1, multiprocessing_context="fork")
    with pytest.raises(RuntimeError, match="FAILED_PRECONDITION|forked from one that had already opened gRPC"):
        next(iter(loader))


@pytest.mark.parametrize("stop", ["mid-epoch", "one before the end"])
def test_per_worker_states_resume_each_worker_as_statefuldataloader_does(phantom_server, stop):
    address = phantom_server.address
    dataset = VoxelFeedDataset(address, **REQUEST)
    whole = run(dataset, 2)
    dataset.set_epoch(1)
    next_epoch = run(dataset, 2)
    # Mid-epoch after an even count, so worker 0 is next as a fresh DataLoader starts; one before the end, the
    # worker that took the last-but-one step has none left (and must not ask the server for a step past the end).
    taken = 6 if stop == "mid-epoch" else len(whole) - 1
    states = {}
    seen = []
    probe = StatefulProbe(VoxelFeedDataset(address, **REQUEST))
    for batch, state in DataLoader(probe, batch_size=None, num_workers=2, multiprocessing_context="forkserver"):
        seen.append(digest(batch))
        states[state["worker"]] = state
        if len(seen) == taken:
            break
    resumed = VoxelFeedDataset(address, **REQUEST)
    loader = DataLoader(
        StatefulProbe(resumed), batch_size=None, num_workers=2, multiprocessing_context="forkserver",
        persistent_workers=True, worker_init_fn=functools.partial(load_worker_states, states),
    )
    after = [digest(batch) for batch, _ in loader]
    assert seen + after == whole
    # The restored positions were for epoch 0 only: the same persistent workers start epoch 1 at its first step.
    resumed.set_epoch(1)
    assert [digest(batch) for batch, _ in loader] == next_epoch


def test_a_worker_state_is_refused_by_the_main_process_and_other_requests_are_named(phantom_server):
    dataset = VoxelFeedDataset(phantom_server.address, **REQUEST)
    with pytest.raises(ValueError, match="worker 1's of 2"):
        dataset.load_state_dict({"epoch": 0, "step": 3, "stride": 2, "worker": 1})
    other = VoxelFeedDataset(phantom_server.address, **{**REQUEST, "sampling": {"negatives_per_epoch": 61}})
    with pytest.raises(ValueError, match=r"\(sampling\)"):
        other.load_state_dict(dataset.state_dict())


def test_bad_options_are_refused_when_the_dataset_is_made():
    from voxelfeed import FeedError

    with pytest.raises(FeedError) as caught:
        VoxelFeedDataset("127.0.0.1:50051", **REQUEST, rank=5, world_size=2, prefetch=0, token="a\nb")
    for text in ("rank 5 of world_size 2", "prefetch is 0", "token is empty or holds a line break"):
        assert text in caught.value.details
    with pytest.raises(FeedError) as caught:
        VoxelFeedDataset("127.0.0.1:50051", **REQUEST, shared_memory=3)
    for text in ("shared_memory is 3", "True (/dev/shm)"):
        assert text in caught.value.details


@pytest.mark.parametrize("num_workers", [0, 2])
def test_the_same_host_path_gives_the_normal_streams_tensors(phantom_server, num_workers):
    directory = tempfile.mkdtemp(prefix="voxelfeed-test-", dir="/dev/shm")
    try:
        dataset = VoxelFeedDataset(
            phantom_server.address, **REQUEST, steps_per_epoch=12, shared_memory=directory
        )
        seen, files_while_streaming = [], set()
        for batch in dataset.loader(num_workers):
            seen.append(digest(batch))
            files_while_streaming.update(os.listdir(directory))
        assert seen == reference(phantom_server.address, 0, 1, epoch=0)[:12]
        # The loader asks each worker for at most 2 batches ahead, so its stream is still open when one of its
        # batches arrives. Each stream's batches lay in a file of the server's own there, besides the client's probes.
        servers_files = {name for name in files_while_streaming if not name.startswith("voxelfeed-probe-")}
        assert len(servers_files) == max(num_workers, 1), files_while_streaming
    finally:
        shutil.rmtree(directory, ignore_errors=True)
