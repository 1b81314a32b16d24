"""Runs a snippet of the TypeScript trainer under node (tsx) and returns what it prints as JSON.

The reference values of the parity tests come from the TypeScript code itself, run now, never from numbers
copied into a test: when either side changes, the tests see it.
"""

from __future__ import annotations

import json
import os
import subprocess

from conftest import REPO_ROOT

NODE = os.environ.get("VOXELFEED_TEST_NODE", "node")


def run_typescript(module_source: str, payload: object) -> object:
    """Evaluates `module_source` (an ES module, run from the repository root; `input` holds `payload`) and
    parses the one JSON line it prints."""
    prelude = "import { readFileSync } from 'node:fs';\nconst input = JSON.parse(readFileSync(0, 'utf8'));\n"
    done = subprocess.run(
        [NODE, "--import", "tsx", "--input-type=module", "-e", prelude + module_source],
        cwd=REPO_ROOT,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"node exited with {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
