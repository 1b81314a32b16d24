"""Fixtures shared by the Python client's tests: real voxelfeed servers on 127.0.0.1 and data sets on disk.

Servers run the repository's own CLI from source (`node bin/voxelfeed-dev.js serve`) on port 0, so tests never
collide on a port; each fixture stops what it started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PYTHON_ROOT = REPO_ROOT / "client" / "python"
# The package under test comes from the working tree, not from an installed copy.
sys.path.insert(0, str(PYTHON_ROOT))

CLI = [os.environ.get("VOXELFEED_TEST_NODE", "node"), str(REPO_ROOT / "bin" / "voxelfeed-dev.js")]
START_TIMEOUT_S = 60


@dataclass
class ServerProcess:
    """A `voxelfeed serve` child process and where it listens."""

    process: subprocess.Popen
    address: str
    port: int
    metrics_url: str | None
    args: list[str]
    stderr_lines: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def spawn_server(args: list[str], port: int = 0) -> ServerProcess:
    """Starts `voxelfeed serve ARGS` on 127.0.0.1:PORT (0: a free one) and waits for "listening on"."""
    command = [
        *CLI,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        "0",
        "--log-level",
        "warn",
        *args,
    ]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stderr_lines: list[str] = []
    threading.Thread(target=_drain, args=(process.stderr, stderr_lines), daemon=True).start()
    found: dict[str, str] = {}
    ready = threading.Event()

    def read_stdout() -> None:
        for line in process.stdout:
            listening = re.search(r"listening on (\S+):(\d+)", line)
            if listening:
                found["port"] = listening.group(2)
            metrics = re.search(r"metrics on (\S+)", line)
            if metrics:
                found["metrics"] = metrics.group(1)
            if "port" in found and "metrics" in found:
                ready.set()
        ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    if not ready.wait(START_TIMEOUT_S) or "port" not in found:
        process.kill()
        process.wait()
        raise RuntimeError(
            f"voxelfeed serve did not start within {START_TIMEOUT_S} s: {' '.join(command)}\n"
            + "".join(stderr_lines)
        )
    bound = int(found["port"])
    return ServerProcess(
        process, f"127.0.0.1:{bound}", bound, found.get("metrics"), args, stderr_lines
    )


def _drain(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def synth_dataset(out: Path, series: int = 6, shape: str = "24,48,48", seed: int = 3) -> Path:
    """A phantom data set written by `voxelfeed synth` (gzip NRRD volumes and masks, .npy boxes)."""
    subprocess.run(
        [*CLI, "synth", str(out), "--series", str(series), "--shape", shape, "--seed", str(seed)],
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory) -> Path:
    return synth_dataset(tmp_path_factory.mktemp("phantom") / "phantom")


@pytest.fixture
def start_server():
    """A factory: `start_server(["--data", DIR], port=0)`; every server it started is killed afterwards."""
    started: list[ServerProcess] = []

    def start(args: list[str], port: int = 0) -> ServerProcess:
        server = spawn_server(args, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="module")
def phantom_server(tmp_path_factory):
    """One server on a phantom data set, shared by a test module."""
    data = synth_dataset(tmp_path_factory.mktemp("phantom") / "phantom")
    server = spawn_server(["--data", str(data)])
    yield server
    server.kill()
