"""Checkpoints of the example trainer: written atomically, read back with a clear error.

A checkpoint is replaced by a rename of a fully written file in the same folder, so a job killed while saving
leaves the previous checkpoint intact rather than a truncated one that fails the next `--resume`.
"""

from __future__ import annotations

import os
from typing import Any, Dict

import torch


def save_checkpoint(path: str, payload: Dict[str, Any]) -> None:
    """Writes `payload` with torch.save to a temporary file beside `path`, flushes it to disk, renames it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Beside the target (a rename within one file system is atomic), named by process so ranks never collide.
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            torch.save(payload, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def load_checkpoint(path: str) -> Dict[str, Any]:
    """The payload at `path` on the CPU; FileNotFoundError or ValueError with one line naming the path."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}; drop --resume to start afresh, or fix --checkpoint-dir")
    try:
        payload = torch.load(path, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same one-line answer
        raise ValueError(f"cannot read the checkpoint {path}: {error}; delete it or restore a good copy") from None
    missing = [key for key in ("model", "optimizer", "dataset", "config", "global_step") if key not in payload]
    if missing:
        raise ValueError(f"checkpoint {path} lacks {', '.join(missing)}; it was not written by this trainer")
    return payload
