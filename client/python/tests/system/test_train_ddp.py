"""The example trainer end to end: torchrun ranks against a real server, checkpoints and resume, bad options.

Each run uses VNET_TINY on 8x16x16 crops of a small phantom, so a 2-rank run takes seconds on two cores. Ranks
print `weights sha256 ...` of their final weights: equal digests mean bit-identical weights.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from conftest import PYTHON_ROOT, REPO_ROOT
from voxelfeed.torch.checkpoint import load_checkpoint
from voxelfeed.torch.vnet import VNET_TINY, VNet
from voxelfeed.torch.weights_digest import weights_digest

TIMEOUT_S = 120
COMMON = ["--crop", "8,16,16", "--batch-size", "2", "--log-every", "1", "--report-every", "0.2", "--seed", "1"]
DONE = re.compile(r"^\[rank (\d+)\] done: .* weights sha256 ([0-9a-f]{64})$", re.MULTILINE)
STEP = re.compile(r"^\[rank 0\] epoch \d+ step \d+/\d+ \(global \d+\): loss \S+ dice \S+$", re.MULTILINE)


def environment() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"  # two ranks on two cores; and the same thread count in every run
    return env


def free_port() -> int:
    # torchrun's static rendezvous cannot take --master_port 0: its workers would be told port 0 and wait forever.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(args: list, tmp_path, ranks: int = 2) -> subprocess.CompletedProcess:
    logs = tmp_path / f"torchrun-logs-{free_port()}"
    command = [
        sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}",
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
        # Debian's torch 1.13 on Python 3.11 cannot parse the default "--redirects 0" (Std(0) is not iterable
        # there); redirecting stderr works and keeps each rank's stderr in a file as well.
        "--redirects", "2", "--tee", "2", "--log_dir", str(logs),
        "-m", "voxelfeed.torch.train_ddp", *args,
    ]
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=environment(), capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, f"torchrun exited with {done.returncode}:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done


def trainer(args: list) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voxelfeed.torch.train_ddp", *args],
        cwd=REPO_ROOT, env=environment(), capture_output=True, text=True, timeout=TIMEOUT_S,
    )


def digests(output: str) -> dict:
    return {int(rank): digest for rank, digest in DONE.findall(output)}


@pytest.fixture(scope="module")
def server(phantom_dir):
    from conftest import spawn_server

    started = spawn_server(["--data", str(phantom_dir)])
    yield started
    started.kill()


def test_two_ddp_ranks_hold_identical_trained_weights(server, tmp_path):
    done = torchrun(
        ["--address", server.address, *COMMON, "--epochs", "2", "--checkpoint-dir", str(tmp_path / "ckpt")], tmp_path
    )
    found = digests(done.stdout)
    assert sorted(found) == [0, 1], done.stdout
    assert found[0] == found[1]
    initial = weights_digest(VNet(VNET_TINY.with_(seed=1)).state_dict())
    assert found[0] != initial  # the ranks trained, and trained alike
    checkpoint = load_checkpoint(str(tmp_path / "ckpt" / "checkpoint.pt"))
    assert weights_digest(checkpoint["model"]) == found[0]
    assert checkpoint["run"]["world_size"] == 2
    assert len(STEP.findall(done.stdout)) == checkpoint["global_step"] > 0


def test_a_run_stopped_and_resumed_ends_with_the_weights_of_an_uninterrupted_run(server, tmp_path):
    # Five steps cross two epoch ends of this phantom (2 steps per rank and epoch); the interrupted run stops
    # after 3, in the middle of epoch 1, and resumes there.
    args = ["--address", server.address, *COMMON, "--epochs", "4", "--checkpoint-every", "1"]
    whole = torchrun([*args, "--max-steps", "5", "--checkpoint-dir", str(tmp_path / "whole")], tmp_path)
    first = torchrun([*args, "--max-steps", "3", "--checkpoint-dir", str(tmp_path / "parts")], tmp_path)
    assert load_checkpoint(str(tmp_path / "parts" / "checkpoint.pt"))["dataset"]["step"] > 0  # mid-epoch
    second = torchrun([*args, "--max-steps", "5", "--checkpoint-dir", str(tmp_path / "parts"), "--resume"], tmp_path)

    # The same (epoch, step) sequence with the same losses, so the same batches on the same weights ...
    whole_steps = STEP.findall(whole.stdout)
    assert len(whole_steps) == 5
    assert STEP.findall(first.stdout) + STEP.findall(second.stdout) == whole_steps
    # ... and bit-identical final weights on both ranks.
    assert digests(second.stdout) == digests(whole.stdout)
    assert len(set(digests(whole.stdout).values())) == 1
    assert digests(first.stdout)[0] != digests(whole.stdout)[0]


def test_a_bad_option_gets_one_line_and_exit_code_2():
    done = trainer(["--address", "127.0.0.1:1", "--crop", "8,16,15", "--lr", "-1"])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--lr is -1.0; use a positive learning rate" in lines[0]
    assert "crop 8x16x15 is not divisible by 4" in lines[0] and "--crop 8,16,16" in lines[0]
    assert "Traceback" not in done.stderr


def test_a_missing_address_or_checkpoint_gets_one_line_and_exit_code_2(tmp_path, server):
    missing = trainer(["--crop", "8,16,16"])
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "python -m voxelfeed.torch.train_ddp: error: the following arguments are required: --address; see --help"
    )
    no_checkpoint = trainer(["--address", server.address, "--crop", "8,16,16", "--resume", "--checkpoint-dir",
                             str(tmp_path / "none")])
    assert no_checkpoint.returncode == 2
    assert f"no checkpoint at {tmp_path / 'none' / 'checkpoint.pt'}" in no_checkpoint.stderr
    assert len(no_checkpoint.stderr.strip().splitlines()) == 1


def test_an_unreachable_server_gets_one_line_and_exit_code_1():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = trainer(["--address", f"127.0.0.1:{port}", "--crop", "8,16,16"])
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert f"cannot reach the voxelfeed server at 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_dataloader_workers_feed_the_same_batches_in_the_same_order(server, tmp_path):
    args = ["--address", server.address, *COMMON, "--epochs", "2", "--max-steps", "3"]
    plain = trainer(args)
    workers = trainer([*args, "--num-workers", "2"])
    assert plain.returncode == 0 and workers.returncode == 0, plain.stderr + workers.stderr
    assert len(STEP.findall(plain.stdout)) == 3
    assert STEP.findall(workers.stdout) == STEP.findall(plain.stdout)
    assert digests(workers.stdout) == digests(plain.stdout)
