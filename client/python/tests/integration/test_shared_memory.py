"""The same-host path from Python against a real server: the normal stream's batches as views of shared memory,
resumable, released as the consumer moves on, and the normal stream when the server cannot read the probe."""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
import time

import numpy as np
import pytest

from teem_dataset import write_teem_dataset
from voxelfeed import FeedClient
from voxelfeed import shm as shm_module

CROP = (8, 16, 16)
REQUEST = dict(crop_size=CROP, batch_size=2, seed=4, include_mask=True, sampling={"negatives_per_epoch": 12})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import spawn_server

    data = tmp_path_factory.mktemp("teem") / "teem"
    write_teem_dataset(data)
    process = spawn_server(["--data", str(data)])
    yield process
    process.kill()


@pytest.fixture
def directory():
    path = tempfile.mkdtemp(prefix="voxelfeed-test-", dir="/dev/shm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _wait_empty(directory: str, timeout_s: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while os.listdir(directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    return os.listdir(directory)


def _mapped(array: np.ndarray) -> bool:
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(getattr(base, "obj", base), mmap.mmap)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_batches_are_the_normal_streams_as_views_of_shared_memory(server, directory, dtype):
    answers = []
    with FeedClient(server.address) as client:
        normal = client.stream_batches(dtype=dtype, **REQUEST)
        shared = client.stream_batches(
            dtype=dtype, shared_memory=directory, on_shared_memory=answers.append, **REQUEST
        )
        count = 0
        for expected, batch in zip(normal, shared, strict=True):
            assert batch.step == expected.step and batch.samples == expected.samples
            assert batch.image.dtype == expected.image.dtype
            assert np.array_equal(batch.image, expected.image) and np.array_equal(batch.mask, expected.mask)
            assert _mapped(batch.image) and _mapped(batch.mask), "views of the mapped file, not copies"
            count += 1
    assert count >= 6
    assert answers == [shm_module.SharedMemoryAnswer(True, "")]
    assert _wait_empty(directory) == [], "the probe and the stream's file are gone"


def test_resumes_at_a_step(server, directory):
    with FeedClient(server.address) as client:
        expected = [(b.step, b.image.copy()) for b in client.stream_batches(start_step=2, **REQUEST)]
        actual = [(b.step, b.image.copy()) for b in client.stream_batches(start_step=2, shared_memory=directory, **REQUEST)]
    assert [step for step, _ in actual] == [step for step, _ in expected] and expected[0][0] == 2
    assert all(np.array_equal(a, e) for (_, a), (_, e) in zip(actual, expected))


def test_a_stream_left_mid_way_frees_its_file(server, directory):
    with FeedClient(server.address) as client:
        stream = client.stream_batches(shared_memory=directory, **REQUEST)
        next(stream)
        assert any(name.startswith("voxelfeed-ring-") for name in os.listdir(directory))
        stream.close()
    assert _wait_empty(directory) == []


def test_a_probe_the_server_cannot_read_back_gives_the_normal_stream(server, directory, monkeypatch):
    original = shm_module._Probe.__init__

    def wrong_token(self, where):
        original(self, where)
        self.token = "not what the file holds"

    monkeypatch.setattr(shm_module._Probe, "__init__", wrong_token)
    answers = []
    with FeedClient(server.address) as client:
        expected = [b.image.copy() for b in client.stream_batches(**REQUEST)]
        actual = [b for b in client.stream_batches(shared_memory=directory, on_shared_memory=answers.append, **REQUEST)]
    assert len(answers) == 1 and not answers[0].used and "another token" in answers[0].reason
    assert not any(_mapped(b.image) for b in actual)
    assert all(np.array_equal(a.image, e) for a, e in zip(actual, expected, strict=True))
    assert _wait_empty(directory) == []


def test_a_directory_this_host_lacks_gives_the_normal_stream(server, directory):
    answers = []
    missing = os.path.join(directory, "missing")
    with FeedClient(server.address) as client:
        expected = [b.image.copy() for b in client.stream_batches(**REQUEST)]
        actual = [b.image.copy() for b in client.stream_batches(shared_memory=missing, on_shared_memory=answers.append, **REQUEST)]
    assert answers == [shm_module.SharedMemoryAnswer(False, f"cannot write a probe in {missing} (No such file or directory)")]
    assert all(np.array_equal(a, e) for a, e in zip(actual, expected, strict=True))


def test_a_client_killed_mid_stream_leaves_no_file(server, directory):
    import subprocess
    import sys

    from conftest import PYTHON_ROOT

    script = (
        "import sys, time\n"
        "from voxelfeed import FeedClient\n"
        "client = FeedClient(sys.argv[1])\n"
        f"stream = client.stream_batches(shared_memory=sys.argv[2], **{REQUEST!r})\n"
        "next(stream)\n"
        "print('got', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, server.address, directory],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PYTHON_ROOT)},
    )
    try:
        assert child.stdout.readline().strip() == "got"
        assert any(name.startswith("voxelfeed-ring-") for name in os.listdir(directory))
    finally:
        child.kill()
        child.wait(timeout=10)
    assert _wait_empty(directory) == [], "the server removed the killed client's stream file"
