"""`pip install ./client/python` installs the package offline, and the installed copy streams from a server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import PYTHON_ROOT

SCRIPT = """
import sys, voxelfeed, voxelfeed.torch
assert "site-packages" in voxelfeed.__file__, voxelfeed.__file__
from voxelfeed import FeedClient
with FeedClient(sys.argv[1]) as client:
    batch = next(iter(client.stream_batches(crop_size=(8, 16, 16), batch_size=2, include_mask=True, max_steps=1)))
print(voxelfeed.__file__, batch.image.shape, batch.mask.dtype)
"""


def test_pip_installs_offline_into_a_venv_and_the_copy_works(tmp_path, phantom_server):
    venv = tmp_path / "venv"
    # --system-site-packages: the venv sees Debian's python3-grpcio, python3-protobuf, python3-numpy and torch.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    # PIP_NO_INDEX: pip may not reach any index, as on a machine without internet access.
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # From a copy of the package folder: pip's setuptools build writes build/ and *.egg-info beside setup.py.
    source = tmp_path / "python"
    shutil.copytree(PYTHON_ROOT, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", str(source)], env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    ran = subprocess.run(
        [str(python), "-c", SCRIPT, phantom_server.address], cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert str(venv) in ran.stdout and "(2, 8, 16, 16) uint8" in ran.stdout
