"""A digest of a model's weights: equal digests mean bit-identical weights, which is how DDP ranks (which must
hold the same model after every step) and a resumed run (which must end where an uninterrupted one does) are
compared without shipping the tensors around."""

from __future__ import annotations

import hashlib
from typing import Mapping

import torch


def weights_digest(state_dict: Mapping[str, torch.Tensor]) -> str:
    """sha256 over the names, dtypes, shapes and bytes of every tensor, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().to("cpu").contiguous()
        digest.update(f"{name}:{tensor.dtype}:{list(tensor.shape)}\n".encode())
        # As raw bytes, so any dtype (bfloat16 included, which numpy lacks) hashes the same way.
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
