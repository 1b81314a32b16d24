"""Recomputes augmented crops with numpy from the NRRD files (read through teem-unu) and the parameters each
sample echoes, as docs/determinism.md states them, and compares them with the server's tensors bit for bit.

Usage: augment-reference.py CASE.json   (written by augment-numpy.test.ts)
Prints one line: "ok N" (N crops checked) or the first mismatches.
"""

import gzip
import json
import statistics
import subprocess
import sys

import numpy as np


def read_nrrd(path, shape):
    data = subprocess.run(["teem-unu", "data", path], check=True, capture_output=True).stdout
    try:
        data = gzip.decompress(data)
    except OSError:
        pass
    # NRRD axis 0 is the fastest in the file: Fortran order of the (axis 0, axis 1, axis 2) array.
    return np.frombuffer(data, dtype=np.uint8).reshape(shape, order="F")


def cut(volume, origin, size, pad):
    padded = np.full(size, pad, dtype=np.uint8)
    src = [slice(max(0, o), min(n, o + s)) for o, s, n in zip(origin, size, volume.shape)]
    dst = [slice(max(0, o) - o, min(n, o + s) - o) for o, s, n in zip(origin, size, volume.shape)]
    padded[tuple(dst)] = volume[tuple(src)]
    return padded


def fmix32(h):
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


# The standard normal quantiles of 65536 equally likely strata, by Python's own AS241, as float32.
NORMAL = statistics.NormalDist()
QUANTILES = np.array([NORMAL.inv_cdf((t + 0.5) / 65536) for t in range(65536)], dtype=np.float64).astype(np.float32)


def noise(seed, count):
    index = np.arange(count, dtype=np.uint32)
    h = fmix32((index * np.uint32(0x9E3779B9)) ^ np.uint32(seed))
    return QUANTILES[h >> np.uint32(16)]


def augment(crop, info):
    for axis in info.get("flippedAxes", []):
        crop = np.flip(crop, axis)
    return np.ascontiguousarray(np.rot90(crop, info.get("rotate90", 0), axes=(1, 2)))


def intensity(crop, info):
    x = (crop.astype(np.float64) / 255).astype(np.float32)
    if info.get("gamma") is not None:
        x = (x.astype(np.float64) ** np.float64(info["gamma"])).astype(np.float32)
    if info.get("scale") is not None:
        x = x * np.float32(info["scale"])
    if info.get("shift") is not None:
        x = x + np.float32(info["shift"])
    if info.get("noiseStd") is not None:
        n = np.float32(info["noiseStd"]) * noise(info["noiseSeed"], x.size)
        x = x + n.reshape(x.shape)
    return x


def main():
    case = json.load(open(sys.argv[1]))
    volumes = {uid: (read_nrrd(files["image"], tuple(files["shape"])), read_nrrd(files["mask"], tuple(files["shape"])))
               for uid, files in case["series"].items()}
    size = tuple(case["cropSize"])
    voxels = int(np.prod(size))
    problems, checked = [], 0
    for batch in case["batches"]:
        raw = open(batch["image"], "rb").read()
        image = np.frombuffer(raw, dtype="<f4" if case["dtype"] == "float32" else np.uint8)
        mask = np.frombuffer(open(batch["mask"], "rb").read(), dtype=np.uint8)
        for slot, sample in enumerate(batch["samples"]):
            volume, labels = volumes[sample["seriesUid"]]
            info = sample.get("augmentation") or {}
            crop = augment(cut(volume, sample["origin"], size, case["padValue"]), info)
            label_crop = cut(labels, sample["origin"], size, 0)
            expected_mask = augment(label_crop if case.get("keepLabels") else np.minimum(label_crop, 1), info)
            if sample.get("mode") == "label":
                centre = tuple(s // 2 for s in size)
                if label_crop[centre] != sample["label"]:
                    problems.append(f"sample {sample['index']} centre holds {label_crop[centre]}, not label {sample['label']}")
            x = intensity(crop, info)
            if case["dtype"] == "float32":
                expected = x
            else:
                y = x * np.float32(255)
                expected = np.clip(np.rint(y), 0, 255).astype(np.uint8)
            got = image[slot * voxels:(slot + 1) * voxels].reshape(size)
            got_mask = mask[slot * voxels:(slot + 1) * voxels].reshape(size)
            checked += 1
            if not np.array_equal(got.view(np.uint8), np.ascontiguousarray(expected).view(np.uint8)):
                bad = np.argwhere(got.view(np.uint8).reshape(size + (-1,)) != np.ascontiguousarray(expected).view(np.uint8).reshape(size + (-1,)))
                problems.append(f"sample {sample['index']} image: {len(bad)} bytes differ, first at {bad[0].tolist()} {info}")
            if not np.array_equal(got_mask, expected_mask):
                problems.append(f"sample {sample['index']} mask differs {info}")
    print("ok", checked) if not problems else print("\n".join(problems[:10]))


main()
