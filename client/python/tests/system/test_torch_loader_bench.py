"""The torch loader benchmark end to end, tiny: a voxelfeed server, the original Dataset with and without
lru_cache, one short round each. It checks what the benchmark reports, never how fast anything was."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import CLI, REPO_ROOT

pytest.importorskip("torch")
pytest.importorskip("grpc")

SCRIPT = REPO_ROOT / "bench" / "python" / "torch_loader_bench.py"
VARIANTS = {"voxelfeed-w0", "voxelfeed-w2", "original", "cached"}


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--node", CLI[0], *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_variant_delivers_crops_and_the_json_line_reports_them(phantom_dir):
    ran = run_bench(
        "--data", str(phantom_dir), "--crop", "16,32,32", "--batch-size", "4", "--passes", "2",
        "--rounds", "2", "--seconds", "0.5", "--warmup-batches", "2",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result["variants"]) == VARIANTS
    assert (result["series"], result["shape"], result["crop"]) == (6, [24, 48, 48], [16, 32, 32])
    assert (result["batch_size"], result["rounds"], result["passes"]) == (4, 2, 2)
    for name, variant in result["variants"].items():
        assert variant["crops"] > 0, name
        assert variant["batches"] > 0 and variant["crops"] <= 4 * variant["batches"], name
        assert len(variant["crops_per_s"]) == 2 and min(variant["crops_per_s"]) > 0, name
        assert variant["epochs"] >= 2, name
    assert result["voxelfeed_best"] in ("voxelfeed-w0", "voxelfeed-w2")
    best = result["variants"][result["voxelfeed_best"]]["mean_crops_per_s"]
    for over, key in (("original", "ratio_vs_original"), ("cached", "ratio_vs_cached")):
        # The JSON line rounds ratios to two decimals.
        assert result[key] == pytest.approx(best / result["variants"][over]["mean_crops_per_s"], rel=0.02, abs=0.006)
    # The table names every variant before the JSON line.
    for name in VARIANTS:
        assert any(line.startswith(f"{name}: ") for line in lines[:-1]), name


def test_a_bad_option_is_one_line_naming_it():
    ran = run_bench("--crop", "16,32")
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [
        "torch_loader_bench: --crop '16,32' is not three whole numbers Z,Y,X; e.g. --crop 16,96,96"
    ]
