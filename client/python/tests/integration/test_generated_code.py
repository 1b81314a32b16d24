"""The committed message code is what the generator makes from proto/ now, and speaks the server's contract."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import REPO_ROOT

GENERATED = REPO_ROOT / "client" / "python" / "voxelfeed" / "_gen"


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_the_committed_code_equals_a_fresh_generation(tmp_path):
    subprocess.run(["bash", str(REPO_ROOT / "scripts" / "gen-python.sh"), str(tmp_path)], check=True, cwd=REPO_ROOT)
    fresh = files_under(tmp_path)
    committed = files_under(GENERATED)
    assert sorted(fresh) == sorted(committed), "run `npm run gen` and commit client/python/voxelfeed/_gen"
    for name, content in fresh.items():
        assert committed[name] == content, f"{name} differs from a fresh generation: run `npm run gen`"


def test_the_messages_carry_the_proto_file_name_reflection_serves():
    from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb

    assert pb.DESCRIPTOR.name == "voxelfeed/v1/voxelfeed.proto"
    assert pb.DESCRIPTOR.package == "voxelfeed.v1"
    fields = {f.name for f in pb.StreamBatchesRequest.DESCRIPTOR.fields}
    assert {"crop_size", "start_step", "max_steps", "step_stride", "rank_groups"} <= fields
