import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Nodule, Shape3 } from '../../server/sampling/types.js';

const run = promisify(execFile);

/** Square along axes 1 and 2 (quarter turns apply), small enough for numpy to check every crop. */
export const RANDOM_VOXEL_SHAPE: Shape3 = [14, 22, 22];

/** One ball near a corner and one near the middle, so crops meet nodules, edges and empty space. */
export const RANDOM_VOXEL_NODULES: readonly Nodule[] = [
  { center: [3, 4, 5], diameter: 4 },
  { center: [8, 12, 14], diameter: 5 },
];

/**
 * Writes `count` series of uniformly random uint8 voxels (every value 0..255 occurs, so intensity transforms
 * are checked on all of them) with a mask of `labels` on the balls of RANDOM_VOXEL_NODULES, in the LUNA16
 * preprocessed layout: numpy writes the voxels and the .npy boxes, teem's `unu make` | `unu save` the gzip
 * NRRD files, never voxelfeed's writers. Returns per uid the image and mask paths.
 */
export async function writeRandomVoxelDataset(
  dir: string,
  count: number,
  /** The mask label of each nodule of RANDOM_VOXEL_NODULES; default 1 for all. */
  labels: readonly number[] = RANDOM_VOXEL_NODULES.map(() => 1),
): Promise<Record<string, { image: string; mask: string; shape: Shape3 }>> {
  await mkdir(dir, { recursive: true });
  const uids = Array.from({ length: count }, (_, i) => `1.3.6.1.4.1.14519.5.2.1.6279.6001.${700100 + i}`);
  const script = `import json, subprocess, sys, os
import numpy as np
spec = json.loads(sys.argv[1])
n0, n1, n2 = spec["shape"]
i0, i1, i2 = np.meshgrid(np.arange(n0), np.arange(n1), np.arange(n2), indexing="ij")
mask = np.zeros((n0, n1, n2), dtype=np.uint8)
for (c0, c1, c2, d), label in zip(spec["nodules"], spec["labels"]):
    mask[(i0 - c0) ** 2 + (i1 - c1) ** 2 + (i2 - c2) ** 2 <= (d / 2) ** 2] = label
rng = np.random.default_rng(20240)
np_boxes = np.asarray(spec["nodules"], dtype=np.float32)
for uid in spec["uids"]:
    image = rng.integers(0, 256, size=(n0, n1, n2), dtype=np.uint8)
    np.save(os.path.join(spec["dir"], uid + "_bboxes.npy"), np_boxes)
    for name, volume in (("_clean", image), ("_mask", mask)):
        raw = os.path.join(spec["dir"], uid + name + ".raw")
        with open(raw, "wb") as out:
            out.write(volume.tobytes(order="F"))
        made = subprocess.run(["teem-unu", "make", "-i", raw, "-t", "uchar", "-s", str(n0), str(n1), str(n2),
            "-k", "domain", "domain", "domain"], check=True, capture_output=True).stdout
        subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "gzip", "-o",
            os.path.join(spec["dir"], uid + name + ".nrrd")], input=made, check=True, capture_output=True)
        os.remove(raw)
`;
  const spec = {
    dir,
    uids,
    shape: RANDOM_VOXEL_SHAPE,
    labels,
    nodules: RANDOM_VOXEL_NODULES.map((nodule) => [...nodule.center, nodule.diameter]),
  };
  await run('/usr/bin/python3', ['-c', script, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
  return Object.fromEntries(
    uids.map((uid) => [
      uid,
      { image: `${dir}/${uid}_clean.nrrd`, mask: `${dir}/${uid}_mask.nrrd`, shape: RANDOM_VOXEL_SHAPE },
    ]),
  );
}
