import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Nodule, Shape3, Vec3 } from '../../server/sampling/types.js';

const run = promisify(execFile);

/**
 * How a series' boxes file is written: `voxels` as the layout requires (column k = NRRD axis k), `zxy` with
 * the last two columns swapped (the original pipeline's mistake), `xyz` reversed (x, y, z: the centres fall
 * outside the volume along axis 0), `millimetres` as voxel centre times spacing.
 */
export type BoxLayout = 'voxels' | 'zxy' | 'xyz' | 'millimetres';

/** 20 slices of 48x48: square along axes 1 and 2, as CT slices are, so (z, x, y) boxes stay inside. */
export const BOX_LAYOUT_SHAPE: Shape3 = [20, 48, 48];
/** Below 1 on every axis, so centres in millimetres stay inside the volume (and are not just skipped). */
export const BOX_LAYOUT_SPACING: Vec3 = [0.8, 0.7, 0.7];
/**
 * Two balls of diameter 5 per series, placed so that each centre read in any wrong way (columns 1 and 2
 * swapped, or millimetres) lands more than 8 voxels from both balls: a miss whatever the neighbourhood.
 */
export const BOX_LAYOUT_NODULES: readonly Nodule[] = [
  { center: [6, 12, 34], diameter: 5 },
  { center: [14, 34, 10], diameter: 5 },
];

/**
 * Writes `layouts.length` series into `dir` in the LUNA16 preprocessed layout, series i with its boxes written
 * as `layouts[i]`; the mask is 1 on the balls of BOX_LAYOUT_NODULES, the image brighter there. Written by
 * numpy (the voxels, the .npy boxes) and teem's `unu make` | `unu save` (gzip NRRD with spacings), never by
 * voxelfeed's own writers. Returns the uids in order.
 */
export async function writeBoxLayoutDataset(dir: string, layouts: readonly BoxLayout[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const uids = layouts.map((_, i) => `1.3.6.1.4.1.14519.5.2.1.6279.6001.${900100 + i}`);
  const script = `import json, subprocess, sys, os
import numpy as np
spec = json.loads(sys.argv[1])
n0, n1, n2 = spec["shape"]
s = spec["spacing"]
i0, i1, i2 = np.meshgrid(np.arange(n0), np.arange(n1), np.arange(n2), indexing="ij")
mask = np.zeros((n0, n1, n2), dtype=np.uint8)
for c0, c1, c2, d in spec["nodules"]:
    mask[(i0 - c0) ** 2 + (i1 - c1) ** 2 + (i2 - c2) ** 2 <= (d / 2) ** 2] = 1
image = np.where(mask > 0, 200, 40).astype(np.uint8)
rows = np.asarray(spec["nodules"], dtype=np.float64)
for uid, layout in zip(spec["uids"], spec["layouts"]):
    if layout == "voxels":
        boxes = rows
    elif layout == "zxy":
        boxes = rows[:, [0, 2, 1, 3]]
    elif layout == "xyz":
        boxes = rows[:, [2, 1, 0, 3]]
    else:
        boxes = np.c_[rows[:, :3] * np.asarray(s), rows[:, 3]]
    np.save(os.path.join(spec["dir"], uid + "_bboxes.npy"), boxes.astype(np.float32))
    for name, volume in (("_clean", image), ("_mask", mask)):
        raw = os.path.join(spec["dir"], uid + name + ".raw")
        # NRRD axis 0 is the fastest in the file: Fortran order of the (axis 0, axis 1, axis 2) array.
        with open(raw, "wb") as out:
            out.write(volume.tobytes(order="F"))
        made = subprocess.run(["teem-unu", "make", "-i", raw, "-t", "uchar", "-s", str(n0), str(n1), str(n2),
            "-sp", str(s[0]), str(s[1]), str(s[2]), "-k", "domain", "domain", "domain"],
            check=True, capture_output=True).stdout
        subprocess.run(["teem-unu", "save", "-f", "nrrd", "-e", "gzip", "-o",
            os.path.join(spec["dir"], uid + name + ".nrrd")], input=made, check=True, capture_output=True)
        os.remove(raw)
`;
  const spec = {
    dir,
    uids,
    layouts,
    shape: BOX_LAYOUT_SHAPE,
    spacing: BOX_LAYOUT_SPACING,
    nodules: BOX_LAYOUT_NODULES.map((nodule) => [...nodule.center, nodule.diameter]),
  };
  await run('python3', ['-c', script, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
  return uids;
}
