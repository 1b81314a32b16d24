import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import type { Shape3 } from '../../../server/sampling/types.js';
import {
  type Ellipsoid,
  generatePhantom,
  MAX_NODULE_DIAMETER,
  MIN_NODULE_DIAMETER,
  type Phantom,
} from '../../../server/synth/phantom-volume.js';

/** File order, axis 0 fastest: the layout the NRRD files get. */
function at(shape: Shape3, x0: number, x1: number, x2: number): number {
  return x0 + shape[0] * (x1 + shape[1] * x2);
}

function ballVolume(r: number): number {
  return r <= 0 ? 0 : (4 / 3) * Math.PI * r ** 3;
}

function insideEllipsoid(e: Ellipsoid, p: readonly number[]): boolean {
  let sum = 0;
  for (let k = 0; k < 3; k++) sum += ((p[k]! - e.center[k]!) / e.semiAxes[k]!) ** 2;
  return sum <= 1 + 1e-9;
}

/** Directions spread over the sphere (a Fibonacci lattice), to test points on a nodule's surface. */
const DIRECTIONS = Array.from({ length: 200 }, (_, i) => {
  const z = 1 - (2 * (i + 0.5)) / 200;
  const ring = Math.sqrt(1 - z * z);
  const phi = i * Math.PI * (3 - Math.sqrt(5));
  return [z, ring * Math.cos(phi), ring * Math.sin(phi)];
});

const SHAPES: Shape3[] = [
  [16, 32, 32],
  [24, 48, 48],
  [48, 64, 80],
];

function phantoms(): { shape: Shape3; index: number; phantom: Phantom }[] {
  const out: { shape: Shape3; index: number; phantom: Phantom }[] = [];
  for (const shape of SHAPES) {
    for (let index = 0; index < 12; index++) {
      out.push({ shape, index, phantom: generatePhantom({ shape, seed: 11n, seriesIndex: index }) });
    }
  }
  return out;
}

describe('generatePhantom', () => {
  const all = phantoms();

  it('gives the same bytes and nodules for the same options', () => {
    const options = { shape: [32, 48, 64] as Shape3, seed: 3n, seriesIndex: 4 };
    const a = generatePhantom(options);
    const b = generatePhantom(options);
    assert.deepEqual(a.image, b.image);
    assert.deepEqual(a.mask, b.mask);
    assert.deepEqual(a.nodules, b.nodules);
  });

  it('gives a different volume for another seed or another series index', () => {
    const shape: Shape3 = [32, 48, 64];
    const base = generatePhantom({ shape, seed: 3n, seriesIndex: 4 });
    const otherSeed = generatePhantom({ shape, seed: 4n, seriesIndex: 4 });
    const otherIndex = generatePhantom({ shape, seed: 3n, seriesIndex: 5 });
    assert.notDeepEqual(base.image, otherSeed.image);
    assert.notDeepEqual(base.image, otherIndex.image);
  });

  it('sets the mask to 1 exactly on the voxels of the nodule spheres', () => {
    for (const { shape, phantom } of all) {
      const [n0, n1, n2] = shape;
      const counts = phantom.nodules.map(() => 0);
      for (let x2 = 0; x2 < n2; x2++) {
        for (let x1 = 0; x1 < n1; x1++) {
          for (let x0 = 0; x0 < n0; x0++) {
            const inside = phantom.nodules.findIndex(
              (n) =>
                (x0 - n.center[0]) ** 2 + (x1 - n.center[1]) ** 2 + (x2 - n.center[2]) ** 2 <=
                (n.diameter / 2) ** 2,
            );
            const value = phantom.mask[at(shape, x0, x1, x2)];
            assert.equal(value, inside >= 0 ? 1 : 0, `mask at ${x0},${x1},${x2} of ${shape}`);
            if (inside >= 0) counts[inside]! += 1;
          }
        }
      }
      phantom.nodules.forEach((nodule, i) => {
        // Each voxel's unit cube lies within sqrt(3)/2 of its centre, so the voxel count of a ball of
        // radius r lies between the volumes of the balls of radius r -+ sqrt(3)/2.
        const r = nodule.diameter / 2;
        const slack = Math.sqrt(3) / 2;
        const count = counts[i]!;
        assert.ok(
          count >= ballVolume(r - slack) && count <= ballVolume(r + slack),
          `d ${nodule.diameter}: ${count}`,
        );
      });
    }
  });

  it('labels nodule k with 1 + (k mod labels), with the same image and nodules as one label', () => {
    const shape: Shape3 = [48, 64, 64];
    let seen = 0;
    for (let seriesIndex = 0; seriesIndex < 12; seriesIndex++) {
      const one = generatePhantom({ shape, seed: 9n, seriesIndex });
      assert.deepEqual(generatePhantom({ shape, seed: 9n, seriesIndex, labels: 1 }), one);
      const three = generatePhantom({ shape, seed: 9n, seriesIndex, labels: 3 });
      assert.deepEqual(three.image, one.image);
      assert.deepEqual(three.nodules, one.nodules);
      three.nodules.forEach((nodule, k) => {
        const c = nodule.center.map(Math.round) as [number, number, number];
        assert.equal(three.mask[at(shape, ...c)], 1 + (k % 3), `nodule ${k} of series ${seriesIndex}`);
        if (k > 0) seen++;
      });
      assert.deepEqual(
        three.mask.map((label) => (label > 0 ? 1 : 0)),
        one.mask,
      );
    }
    assert.ok(seen > 0, 'no series had a second nodule: labels above 1 went unchecked');
  });

  it('keeps every mask voxel within d/2 + 1 of a nodule centre and sets the centre voxel', () => {
    for (const { shape, phantom } of all) {
      const [n0, n1] = shape;
      phantom.mask.forEach((value, i) => {
        if (value === 0) return;
        const x0 = i % n0;
        const x1 = Math.floor(i / n0) % n1;
        const x2 = Math.floor(i / (n0 * n1));
        const near = phantom.nodules.some(
          (n) => Math.hypot(x0 - n.center[0], x1 - n.center[1], x2 - n.center[2]) <= n.diameter / 2 + 1,
        );
        assert.ok(near, `mask voxel ${x0},${x1},${x2} is far from every nodule`);
      });
      for (const n of phantom.nodules) {
        const [c0, c1, c2] = n.center.map(Math.round) as [number, number, number];
        assert.equal(phantom.mask[at(shape, c0, c1, c2)], 1, `centre ${n.center} of ${shape}`);
      }
    }
  });

  it('places nodules of 3 to 30 voxels fully inside a lung and the volume, at non-integer centres', () => {
    let fractional = 0;
    for (const { shape, phantom } of all) {
      for (const n of phantom.nodules) {
        assert.ok(n.diameter >= MIN_NODULE_DIAMETER && n.diameter <= MAX_NODULE_DIAMETER, `d ${n.diameter}`);
        const r = n.diameter / 2;
        for (let k = 0; k < 3; k++) {
          assert.ok(
            n.center[k]! - r >= 0 && n.center[k]! + r <= shape[k]! - 1,
            `nodule ${n.center} d ${r * 2}`,
          );
        }
        const surface = DIRECTIONS.map((u) => n.center.map((c, k) => c + r * u[k]!));
        const lung = phantom.anatomy.lungs.find((l) => insideEllipsoid(l, n.center));
        assert.ok(lung !== undefined, `nodule ${n.center} of ${shape} is in no lung`);
        assert.ok(
          surface.every((p) => insideEllipsoid(lung, p)),
          `nodule ${n.center} d ${n.diameter} crosses its lung's wall`,
        );
        if (n.center.some((c) => !Number.isInteger(c))) fractional += 1;
      }
    }
    assert.ok(fractional > 0, 'some centres are not whole voxels');
  });

  it('surrounds each nodule with dark lung voxels', () => {
    for (const { shape, phantom } of all) {
      for (const n of phantom.nodules) {
        const r = n.diameter / 2;
        let shell = 0;
        let dark = 0;
        const lo = n.center.map((c) => Math.max(0, Math.floor(c - r - 2)));
        const hi = n.center.map((c, k) => Math.min(shape[k]! - 1, Math.ceil(c + r + 2)));
        for (let x2 = lo[2]!; x2 <= hi[2]!; x2++) {
          for (let x1 = lo[1]!; x1 <= hi[1]!; x1++) {
            for (let x0 = lo[0]!; x0 <= hi[0]!; x0++) {
              const d = Math.hypot(x0 - n.center[0], x1 - n.center[1], x2 - n.center[2]);
              if (d <= r + 0.5 || d > r + 1.5) continue;
              shell += 1;
              if (phantom.image[at(shape, x0, x1, x2)]! < 100) dark += 1;
            }
          }
        }
        // Vessels and, for a nodule near the wall, tissue take part of the shell; lung must be most of it.
        assert.ok(
          dark >= 0.55 * shell,
          `${dark} of ${shell} shell voxels dark around ${n.center} in ${shape}`,
        );
      }
    }
  });

  it('draws bright nodules, dark lungs inside brighter tissue, and near-black air', () => {
    const shape: Shape3 = [48, 64, 80];
    const { image, mask, anatomy, nodules } = generatePhantom({ shape, seed: 2n, seriesIndex: 0 });
    assert.ok(nodules.length > 0);
    const sums = { lung: 0, lungN: 0, tissue: 0, tissueN: 0, air: 0, airN: 0, nodule: 0, noduleN: 0 };
    const [n0, n1, n2] = shape;
    const { body } = anatomy;
    for (let x2 = 0; x2 < n2; x2++) {
      for (let x1 = 0; x1 < n1; x1++) {
        const inBody =
          ((x1 - body.center[0]) / body.semiAxes[0]) ** 2 + ((x2 - body.center[1]) / body.semiAxes[1]) ** 2 <=
          1;
        for (let x0 = 0; x0 < n0; x0++) {
          const i = at(shape, x0, x1, x2);
          const v = image[i]!;
          if (mask[i] === 1) {
            sums.nodule += v;
            sums.noduleN += 1;
          } else if (anatomy.lungs.some((l) => insideEllipsoid(l, [x0, x1, x2]))) {
            sums.lung += v;
            sums.lungN += 1;
          } else if (inBody) {
            sums.tissue += v;
            sums.tissueN += 1;
          } else {
            sums.air += v;
            sums.airN += 1;
          }
        }
      }
    }
    const lung = sums.lung / sums.lungN;
    const tissue = sums.tissue / sums.tissueN;
    const air = sums.air / sums.airN;
    const nodule = sums.nodule / sums.noduleN;
    assert.ok(air < 12, `air ${air}`);
    assert.ok(lung > 15 && lung < 60, `lung ${lung}`);
    assert.ok(tissue > 130 && tissue < 180, `tissue ${tissue}`);
    assert.ok(nodule > 165 && nodule < 235, `nodule ${nodule}`);
    assert.ok(lung + 80 < tissue, `lungs (${lung}) are darker than the body (${tissue})`);
  });

  it('lays the body out as a cylinder along axis 0, the fastest axis of the data', () => {
    const shape: Shape3 = [40, 64, 64];
    const { image } = generatePhantom({ shape, seed: 9n, seriesIndex: 1 });
    for (let x0 = 0; x0 < shape[0]; x0++) {
      // The corner of every axial slice is air; the midline between the lungs is soft tissue.
      assert.ok(image[at(shape, x0, 0, 0)]! < 20, `corner at x0 ${x0}`);
      assert.ok(image[at(shape, x0, 60, 32)]! < 20, `front of the body at x0 ${x0}`);
      assert.ok(image[at(shape, x0, 32, 32)]! > 120, `midline at x0 ${x0}`);
    }
  });

  it('gives some series no nodule and others up to four', () => {
    const counts = Array.from(
      { length: 60 },
      (_, index) => generatePhantom({ shape: [16, 32, 32], seed: 5n, seriesIndex: index }).nodules.length,
    );
    const none = counts.filter((count) => count === 0).length;
    assert.ok(none >= 6 && none <= 20, `${none} of 60 series without nodules`);
    assert.ok(Math.max(...counts) <= 4);
    assert.ok(
      counts.some((count) => count >= 2),
      'some series hold several nodules',
    );
  });

  it('shrinks nodules to fit the smallest shape', () => {
    for (let index = 0; index < 12; index++) {
      const { nodules } = generatePhantom({ shape: [16, 16, 16], seed: 1n, seriesIndex: index });
      for (const n of nodules) assert.ok(n.diameter >= 3 && n.diameter <= 4, `d ${n.diameter}`);
    }
  });

  it('is pure: its source imports no node: module and reads no Math.random or clock', () => {
    const source = readFileSync(new URL('../../../server/synth/phantom-volume.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(source, /from 'node:/);
    assert.doesNotMatch(source, /Math\.random\(|Date\.now\(|performance\.now\(|process\./);
  });

  for (const shape of [
    [15, 32, 32],
    [16, 8, 32],
    [16.5, 32, 32],
  ] as Shape3[]) {
    it(`rejects the shape ${shape.join('x')}, naming it and the minimum`, () => {
      assert.throws(
        () => generatePhantom({ shape, seed: 0n, seriesIndex: 0 }),
        (error: unknown) =>
          error instanceof VoxelfeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes(shape.join('x')) &&
          error.message.includes('>= 16') &&
          error.message.includes('16x16x16'),
      );
    });
  }
});
