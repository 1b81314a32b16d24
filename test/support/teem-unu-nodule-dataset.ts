import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's python3, which has python3-numpy. */
export const PYTHON = '/usr/bin/python3';

/** One series: its shape (NRRD axis order) and its nodules, each a centre (voxels) and a diameter (voxels). */
export interface NoduleSeriesSpec {
  readonly uid: string;
  readonly shape: readonly [number, number, number];
  readonly nodules: readonly { readonly center: readonly number[]; readonly diameter: number }[];
}

/**
 * Writes each series with numpy (random voxels; a mask of one ball of the nodule's diameter per nodule, the
 * voxels within d/2 of its centre; the boxes .npy) and teem's `unu make` | `unu save` (gzip NRRD), never with
 * voxelfeed's writers.
 */
const WRITE_DATASET = `import json, subprocess, sys, os
import numpy as np
spec = json.loads(sys.argv[1])
rng = np.random.default_rng(11)
for series in spec["series"]:
    uid, shape = series["uid"], series["shape"]
    n0, n1, n2 = shape
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    i0, i1, i2 = np.meshgrid(np.arange(n0), np.arange(n1), np.arange(n2), indexing="ij")
    mask = np.zeros(shape, dtype=np.uint8)
    for nodule in series["nodules"]:
        c, d = nodule["center"], nodule["diameter"]
        mask[((i0 - c[0]) ** 2 + (i1 - c[1]) ** 2 + (i2 - c[2]) ** 2) <= (d / 2) ** 2] = 1
    boxes = [[*n["center"], n["diameter"]] for n in series["nodules"]]
    np.save(os.path.join(spec["dir"], uid + "_bboxes.npy"), np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
    for name, volume in (("_clean", image), ("_mask", mask)):
        raw = os.path.join(spec["dir"], uid + name + ".raw")
        # NRRD axis 0 is the fastest in the file: Fortran order of the (axis 0, axis 1, axis 2) array.
        with open(raw, "wb") as out:
            out.write(volume.tobytes(order="F"))
        made = subprocess.run(["teem-unu", "make", "-i", raw, "-t", "uchar", "-s", str(n0), str(n1), str(n2),
            "-sp", "1", "1", "1", "-k", "domain", "domain", "domain"], check=True, capture_output=True).stdout
        subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "gzip", "-o",
            os.path.join(spec["dir"], uid + name + ".nrrd")], input=made, check=True, capture_output=True)
        os.remove(raw)
`;

/**
 * Python: `load_mask(dir, uid)`, the mask as teem-unu reads it back from the gzip NRRD (decoded to raw by
 * `unu save`), as a C-ordered (axis 0, axis 1, axis 2) numpy array; and `crop_of(mask, origin, size)`, the
 * crop at `origin` with zeros past every edge (np.pad by the crop size on both sides, then the slice).
 */
export const PY_MASK_CROPS = `import subprocess, os
import numpy as np
def load_mask(folder, uid):
    path = os.path.join(folder, uid + "_mask.nrrd")
    raw = subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "raw", "-i", path, "-o", "-"],
        check=True, capture_output=True).stdout
    header, data = raw.split(b"\\n\\n", 1)
    sizes = [line for line in header.decode().splitlines() if line.startswith("sizes:")][0].split()[1:]
    n0, n1, n2 = (int(s) for s in sizes)
    return np.frombuffer(data, np.uint8, count=n0 * n1 * n2).reshape((n0, n1, n2), order="F")
def crop_of(mask, origin, size):
    padded = np.pad(mask, [(s, s) for s in size], constant_values=0)
    o = [origin[a] + size[a] for a in range(3)]
    return padded[o[0]:o[0] + size[0], o[1]:o[1] + size[1], o[2]:o[2] + size[2]]
`;

export interface TeemUnuDataset {
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** Writes the series into a fresh temp folder with numpy and teem-unu. */
export async function writeTeemUnuNoduleDataset(
  series: readonly NoduleSeriesSpec[],
): Promise<TeemUnuDataset> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-nodules-'));
  const dir = path.join(root, 'data');
  await mkdir(dir);
  await run(PYTHON, ['-c', WRITE_DATASET, JSON.stringify({ dir, series })], { maxBuffer: 1 << 24 });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Runs a Python script with `input` as JSON on stdin and returns its stdout parsed as JSON. */
export async function pythonJson(script: string, input: unknown): Promise<unknown> {
  const child = run(PYTHON, ['-c', script], { maxBuffer: 1 << 26 });
  child.child.stdin?.end(JSON.stringify(input));
  return JSON.parse((await child).stdout);
}

/**
 * A small set of series in which crops of 8x24x24 meet every case: nodules well inside, nodules near an edge
 * (padded crops), two nodules close enough for one crop to hold both, one ball larger than the crop's depth.
 */
export const NODULE_SERIES: readonly NoduleSeriesSpec[] = [
  {
    uid: '1.3.6.1.4.1.14519.5.2.1.6279.6001.900101',
    shape: [20, 48, 48],
    nodules: [
      { center: [10, 24, 24], diameter: 6 },
      { center: [12.5, 30.5, 33], diameter: 5 },
    ],
  },
  {
    uid: '1.3.6.1.4.1.14519.5.2.1.6279.6001.900102',
    shape: [16, 40, 56],
    nodules: [
      { center: [2, 3, 5], diameter: 4 },
      { center: [13, 35, 50], diameter: 7 },
    ],
  },
  {
    uid: '1.3.6.1.4.1.14519.5.2.1.6279.6001.900103',
    shape: [24, 32, 32],
    nodules: [{ center: [12, 16, 16], diameter: 10 }],
  },
  {
    uid: '1.3.6.1.4.1.14519.5.2.1.6279.6001.900104',
    shape: [18, 44, 40],
    nodules: [
      { center: [6.4, 10.7, 28.2], diameter: 4.5 },
      { center: [9, 30, 12], diameter: 3 },
      { center: [15, 40, 36], diameter: 5 },
    ],
  },
];
