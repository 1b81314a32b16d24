"""Data sets written by independent tools: the voxels and boxes by numpy, the NRRD files by teem's `unu`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np


def write_teem_dataset(out: Path, series: int = 3, shape=(20, 40, 44), seed: int = 5) -> dict[str, np.ndarray]:
    """`series` series of random uint8 volumes in NRRD axis order (axis 0 first), each with two ball nodules in
    its mask and boxes; returns {uid: volume} to compare crops against."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    volumes: dict[str, np.ndarray] = {}
    n0, n1, n2 = shape
    i0, i1, i2 = np.meshgrid(np.arange(n0), np.arange(n1), np.arange(n2), indexing="ij")
    for s in range(series):
        uid = f"1.3.6.1.4.1.14519.5.2.1.6279.6001.{700100 + s}"
        volume = rng.integers(0, 256, size=shape, dtype=np.uint8)
        mask = np.zeros(shape, dtype=np.uint8)
        boxes = []
        for _ in range(2):
            center = [int(rng.integers(4, n - 4)) for n in shape]
            diameter = 5.0
            ball = (i0 - center[0]) ** 2 + (i1 - center[1]) ** 2 + (i2 - center[2]) ** 2 <= (diameter / 2) ** 2
            mask[ball] = 1
            boxes.append([*center, diameter])
        np.save(out / f"{uid}_bboxes.npy", np.asarray(boxes, dtype=np.float32))
        for suffix, data in (("_clean", volume), ("_mask", mask)):
            raw = out / f"{uid}{suffix}.raw"
            # NRRD axis 0 is the fastest in the file: Fortran order of the (axis 0, axis 1, axis 2) array.
            raw.write_bytes(data.tobytes(order="F"))
            made = subprocess.run(
                ["teem-unu", "make", "-i", str(raw), "-t", "uchar", "-s", str(n0), str(n1), str(n2),
                 "-k", "domain", "domain", "domain"],
                check=True, capture_output=True,
            ).stdout
            subprocess.run(
                ["teem-unu", "save", "-f", "nrrd", "-e", "gzip", "-o", str(out / f"{uid}{suffix}.nrrd")],
                input=made, check=True, capture_output=True,
            )
            raw.unlink()
        volumes[uid] = volume
        volumes[uid + "/mask"] = mask
    return volumes


def crop_of(volume: np.ndarray, origin, size, pad: int = 0) -> np.ndarray:
    """volume[o0:o0+s0, o1:o1+s1, o2:o2+s2], with `pad` where the crop leaves the volume."""
    out = np.full(size, pad, dtype=volume.dtype)
    src = tuple(slice(max(0, o), min(n, o + s)) for o, s, n in zip(origin, size, volume.shape))
    dst = tuple(slice(max(0, o) - o, min(n, o + s) - o) for o, s, n in zip(origin, size, volume.shape))
    out[dst] = volume[src]
    return out


def read_with_unu(path: Path) -> tuple[np.ndarray, str]:
    """A uint8 NRRD file as teem's `unu` reads it: (the voxels in NRRD axis order, `unu head`'s text). `unu
    save` rewrites it with a detached raw data file, read here in Fortran order (axis 0 fastest)."""
    header = subprocess.run(["teem-unu", "head", str(path)], check=True, capture_output=True, text=True).stdout
    detached = Path(str(path) + ".unu.nhdr")
    subprocess.run(
        ["teem-unu", "save", "-i", str(path), "-f", "nrrd", "-e", "raw", "-o", str(detached)],
        check=True, capture_output=True,
    )
    sizes = [int(word) for word in re.search(r"^sizes: (.*)$", header, re.M).group(1).split()]
    raw = detached.with_suffix(".raw")
    voxels = np.fromfile(raw, dtype=np.uint8).reshape(sizes, order="F")
    detached.unlink()
    raw.unlink()
    return voxels, header
