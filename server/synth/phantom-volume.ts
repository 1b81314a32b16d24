import { VoxelfeedError } from '../errors.js';
import { createRng, type Rng, RngPurpose, toWords } from '../sampling/rng.js';
import type { Nodule, Shape3, Vec3 } from '../sampling/types.js';

/**
 * A LUNA16-like chest phantom, drawn from (seed, series index) alone: an elliptical body cylinder along
 * axis 0, two lung ellipsoids, thin bright vessels through the lungs, 0 to 4 spherical nodules inside a
 * lung, and noise. Grey values are uint8 as in a lung window (air ~0, lung ~35, tissue ~155, vessels and
 * nodules ~200). Pure: no I/O, no clock, no Math.random.
 *
 * Voxels are in FILE order (NRRD axis 0 fastest): `data[x0 + n0 * (x1 + n1 * x2)]`, ready to be written.
 */

/**
 * The narrowest lung semi-axis is 14% of a size, and a nodule may take 3/4 of it: from 14 voxels down a
 * 3-voxel nodule no longer fits. 16 keeps a little room (nodules of 3 to 3.25 voxels at 16x16x16).
 */
export const MIN_PHANTOM_SIZE = 16;
/** 256 Mi voxels: an image and a mask of 256 MiB each, far past any sensible phantom. */
export const MAX_PHANTOM_VOXELS = 2 ** 28;
export const MIN_NODULE_DIAMETER = 3;
export const MAX_NODULE_DIAMETER = 30;
export const MAX_NODULES_PER_SERIES = 4;
/** Series whose index is 2 modulo this have no nodule: one in six, and series 2 of any set of three. */
export const NEGATIVE_SERIES_PERIOD = 6;

export interface PhantomOptions {
  readonly shape: Shape3;
  readonly seed: bigint;
  readonly seriesIndex: number;
  /** Mask labels: nodule k of a series is painted 1 + (k mod labels); absent: 1 (every nodule 1). */
  readonly labels?: number;
}

/** Labels are uint8 mask values 1..255. */
export const MAX_PHANTOM_LABELS = 255;

/** An axis-aligned ellipsoid in voxel coordinates along NRRD axes 0, 1, 2. */
export interface Ellipsoid {
  readonly center: Vec3;
  readonly semiAxes: Vec3;
}

/** Where the phantom's organs are, for tests and for anyone who wants to check an image against it. */
export interface PhantomAnatomy {
  /** The body: an elliptical cylinder along axis 0, given by its centre and semi-axes on axes 1 and 2. */
  readonly body: { readonly center: readonly [number, number]; readonly semiAxes: readonly [number, number] };
  readonly lungs: readonly Ellipsoid[];
}

export interface Phantom {
  /** uint8 CT values in file order. */
  readonly image: Uint8Array;
  /** The nodule's label (1 unless several labels were asked for) exactly on nodule voxels, 0 elsewhere, in file order. */
  readonly mask: Uint8Array;
  readonly nodules: Nodule[];
  readonly anatomy: PhantomAnatomy;
}

const MAX_PLACEMENT_TRIES = 64;
/** Free voxels between two nodules, so each mask component is one nodule. */
const NODULE_GAP = 3;
/** Centres and diameters are multiples of 1/8 voxel: exact in float32 `.npy` files. */
const QUANTUM = 8;
const NOISE_TABLE_BITS = 12;
const NOISE_SIGMA = 3;

function fail(message: string): never {
  throw new VoxelfeedError('INVALID_ARGUMENT', message);
}

/** Throws INVALID_ARGUMENT unless every size is an integer >= MIN_PHANTOM_SIZE and the volume fits. */
export function checkPhantomShape(shape: Shape3): void {
  const text = shape.join('x');
  if (shape.length !== 3 || !shape.every((size) => Number.isSafeInteger(size) && size >= MIN_PHANTOM_SIZE)) {
    fail(
      `phantom shape ${text} is too small or not whole: every size must be an integer >= ${MIN_PHANTOM_SIZE} ` +
        `(the minimum shape is ${MIN_PHANTOM_SIZE}x${MIN_PHANTOM_SIZE}x${MIN_PHANTOM_SIZE}); e.g. 16,32,32`,
    );
  }
  const voxels = shape[0] * shape[1] * shape[2];
  if (voxels > MAX_PHANTOM_VOXELS) {
    fail(
      `phantom shape ${text} has ${voxels} voxels, over the limit of ${MAX_PHANTOM_VOXELS}; e.g. 128,192,192`,
    );
  }
}

function quantize(value: number): number {
  return Math.round(value * QUANTUM) / QUANTUM;
}

/** A uniform float in [lo, hi). */
function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.nextFloat();
}

/** Sum over axes of ((p - c) / a)^2: <= 1 inside the ellipsoid. */
function ellipsoidValue(e: Ellipsoid, p0: number, p1: number, p2: number): number {
  const d0 = (p0 - e.center[0]) / e.semiAxes[0];
  const d1 = (p1 - e.center[1]) / e.semiAxes[1];
  const d2 = (p2 - e.center[2]) / e.semiAxes[2];
  return d0 * d0 + d1 * d1 + d2 * d2;
}

/** Organ sizes are fractions of the shape, jittered per series; the lungs always lie inside the body. */
function drawAnatomy(rng: Rng, shape: Shape3): PhantomAnatomy {
  const [n0, n1, n2] = shape;
  const body = {
    center: [(n1 - 1) / 2, (n2 - 1) / 2] as const,
    semiAxes: [n1 * uniform(rng, 0.38, 0.42), n2 * uniform(rng, 0.44, 0.47)] as const,
  };
  const lungs = [-1, 1].map((side): Ellipsoid => {
    const center: Vec3 = [
      (n0 - 1) / 2 + n0 * uniform(rng, -0.015, 0.015),
      (n1 - 1) / 2 - n1 * uniform(rng, 0, 0.03),
      (n2 - 1) / 2 + side * n2 * uniform(rng, 0.185, 0.205),
    ];
    const semiAxes: Vec3 = [
      n0 * uniform(rng, 0.38, 0.42),
      n1 * uniform(rng, 0.24, 0.27),
      n2 * uniform(rng, 0.14, 0.16),
    ];
    return { center, semiAxes };
  });
  return { body, lungs };
}

interface Greys {
  readonly air: number;
  readonly tissue: number;
  readonly lung: number;
}

/** Body, lungs and air, one contiguous run along axis 0 at a time. */
function fillOrgans(image: Uint8Array, shape: Shape3, anatomy: PhantomAnatomy, greys: Greys): void {
  const [n0, n1, n2] = shape;
  const { body, lungs } = anatomy;
  // Per-axis terms of the ellipsoid equations, computed once.
  const terms = (n: number, c: number, a: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = ((i - c) / a) ** 2;
    return out;
  };
  const bodyY = terms(n1, body.center[0], body.semiAxes[0]);
  const bodyX = terms(n2, body.center[1], body.semiAxes[1]);
  const lungY = lungs.map((lung) => terms(n1, lung.center[1], lung.semiAxes[1]));
  const lungX = lungs.map((lung) => terms(n2, lung.center[2], lung.semiAxes[2]));
  for (let x2 = 0; x2 < n2; x2++) {
    for (let x1 = 0; x1 < n1; x1++) {
      const row = n0 * (x1 + n1 * x2);
      if (bodyY[x1]! + bodyX[x2]! > 1) {
        image.fill(greys.air, row, row + n0);
        continue;
      }
      image.fill(greys.tissue, row, row + n0);
      for (let k = 0; k < lungs.length; k++) {
        const rest = 1 - lungY[k]![x1]! - lungX[k]![x2]!;
        if (rest < 0) continue;
        const lung = lungs[k]!;
        const half = lung.semiAxes[0] * Math.sqrt(rest);
        const lo = Math.max(0, Math.ceil(lung.center[0] - half));
        const hi = Math.min(n0 - 1, Math.floor(lung.center[0] + half));
        if (lo <= hi) image.fill(greys.lung, row + lo, row + hi + 1);
      }
    }
  }
}

/** Paints a ball of radius r at p, only on voxels inside `lung`. */
function stampBall(
  image: Uint8Array,
  shape: Shape3,
  lung: Ellipsoid,
  p: Vec3,
  r: number,
  grey: number,
): void {
  const [n0, n1, n2] = shape;
  const r2 = r * r;
  const lo2 = Math.max(0, Math.ceil(p[2] - r));
  const hi2 = Math.min(n2 - 1, Math.floor(p[2] + r));
  const lo1 = Math.max(0, Math.ceil(p[1] - r));
  const hi1 = Math.min(n1 - 1, Math.floor(p[1] + r));
  const lo0 = Math.max(0, Math.ceil(p[0] - r));
  const hi0 = Math.min(n0 - 1, Math.floor(p[0] + r));
  for (let x2 = lo2; x2 <= hi2; x2++) {
    for (let x1 = lo1; x1 <= hi1; x1++) {
      for (let x0 = lo0; x0 <= hi0; x0++) {
        const d2 = (x0 - p[0]) ** 2 + (x1 - p[1]) ** 2 + (x2 - p[2]) ** 2;
        if (d2 <= r2 && ellipsoidValue(lung, x0, x1, x2) <= 1) image[x0 + n0 * (x1 + n1 * x2)] = grey;
      }
    }
  }
}

/** Straight vessels from near the hilum, mostly along axis 0, clipped to their lung. */
function drawVessels(rng: Rng, image: Uint8Array, shape: Shape3, anatomy: PhantomAnatomy): void {
  const radiusScale = 0.008 * Math.min(shape[1], shape[2]);
  anatomy.lungs.forEach((lung, side) => {
    const medial = side === 0 ? 1 : -1; // towards the body's midline on axis 2
    const count = rng.nextInt(3, 6);
    const [a0, a1, a2] = lung.semiAxes;
    const reach = 2 * Math.max(a0, a1, a2);
    for (let v = 0; v < count; v++) {
      const start: Vec3 = [
        lung.center[0] + a0 * uniform(rng, -0.3, 0.3),
        lung.center[1] + a1 * uniform(rng, -0.3, 0.3),
        lung.center[2] + a2 * medial * uniform(rng, 0.2, 0.5),
      ];
      const raw = [rng.nextFloat() < 0.5 ? -1 : 1, uniform(rng, -0.3, 0.3), -medial * uniform(rng, 0.1, 0.5)];
      const norm = Math.hypot(raw[0]!, raw[1]!, raw[2]!);
      const dir = raw.map((value) => value / norm);
      const radius = Math.min(2.5, Math.max(0.5, radiusScale * uniform(rng, 0.7, 1.3)));
      const grey = rng.nextInt(185, 215);
      for (let t = -reach; t <= reach; t += 0.5) {
        const p: Vec3 = [start[0] + t * dir[0]!, start[1] + t * dir[1]!, start[2] + t * dir[2]!];
        // A ball centred well outside the lung cannot touch it: skip the voxel loop.
        if (ellipsoidValue(lung, p[0], p[1], p[2]) > 1.5) continue;
        stampBall(image, shape, lung, p, radius, grey);
      }
    }
  });
}

function noduleCount(rng: Rng, seriesIndex: number): number {
  const u = rng.nextFloat(); // drawn for every series so the streams of all series advance alike
  if (seriesIndex % NEGATIVE_SERIES_PERIOD === 2) return 0;
  // Most positive LUNA16 scans hold one or two nodules.
  if (u < 0.45) return 1;
  if (u < 0.75) return 2;
  if (u < 0.9) return 3;
  return MAX_NODULES_PER_SERIES;
}

/** A centre for a sphere of radius r fully inside `lung` and the volume, apart from `placed`; null if none found. */
function placeNodule(
  rng: Rng,
  shape: Shape3,
  lung: Ellipsoid,
  r: number,
  placed: readonly Nodule[],
): Vec3 | null {
  // Scaling by 1/a maps the lung to the unit ball and the sphere into a ball of radius r/m (m: the shortest
  // semi-axis), so the sphere is inside when |(c - centre)/a| + r/m <= 1. Conservative along the longer axes.
  const room = 1 - r / Math.min(...lung.semiAxes);
  for (let attempt = 0; attempt < MAX_PLACEMENT_TRIES; attempt++) {
    const u = [uniform(rng, -1, 1), uniform(rng, -1, 1), uniform(rng, -1, 1)];
    if (u[0]! ** 2 + u[1]! ** 2 + u[2]! ** 2 > 1) continue;
    const c: Vec3 = [
      quantize(lung.center[0] + lung.semiAxes[0] * room * u[0]!),
      quantize(lung.center[1] + lung.semiAxes[1] * room * u[1]!),
      quantize(lung.center[2] + lung.semiAxes[2] * room * u[2]!),
    ];
    if (Math.sqrt(ellipsoidValue(lung, c[0], c[1], c[2])) > room) continue; // quantizing moved it out
    if (c.some((value, axis) => value - r < 0 || value + r > shape[axis]! - 1)) continue;
    const clear = placed.every(
      (other) =>
        Math.hypot(c[0] - other.center[0], c[1] - other.center[1], c[2] - other.center[2]) >=
        r + other.diameter / 2 + NODULE_GAP,
    );
    if (clear) return c;
  }
  return null;
}

/** Paints one nodule: the mask is `label` exactly where |x - c| <= d/2; the image is brightest at the centre. */
function paintNodule(
  image: Uint8Array,
  mask: Uint8Array,
  shape: Shape3,
  nodule: Nodule,
  paint: { readonly grey: number; readonly label: number },
): void {
  const { grey, label } = paint;
  const [n0, n1] = shape;
  const c = nodule.center;
  const r = nodule.diameter / 2;
  const r2 = r * r;
  for (let x2 = Math.ceil(c[2] - r); x2 <= Math.floor(c[2] + r); x2++) {
    for (let x1 = Math.ceil(c[1] - r); x1 <= Math.floor(c[1] + r); x1++) {
      for (let x0 = Math.ceil(c[0] - r); x0 <= Math.floor(c[0] + r); x0++) {
        const d2 = (x0 - c[0]) ** 2 + (x1 - c[1]) ** 2 + (x2 - c[2]) ** 2;
        if (d2 > r2) continue;
        const at = x0 + n0 * (x1 + n1 * x2);
        mask[at] = label;
        image[at] = grey - Math.round((12 * d2) / r2);
      }
    }
  }
}

function drawNodules(
  rng: Rng,
  image: Uint8Array,
  mask: Uint8Array,
  options: PhantomOptions,
  anatomy: PhantomAnatomy,
): Nodule[] {
  const wanted = noduleCount(rng, options.seriesIndex);
  const nodules: Nodule[] = [];
  for (let k = 0; k < wanted; k++) {
    const lung = anatomy.lungs[rng.nextInt(0, anatomy.lungs.length - 1)]!;
    // Small shapes: the largest nodule fills at most 3/4 of the lung's narrowest semi-axis.
    const largest = Math.min(
      MAX_NODULE_DIAMETER,
      Math.floor(1.5 * Math.min(...lung.semiAxes) * QUANTUM) / QUANTUM,
    );
    const spread = Math.max(0, largest - MIN_NODULE_DIAMETER);
    // Squaring skews towards small nodules, as in LUNA16 (median about 8 mm).
    const diameter = quantize(MIN_NODULE_DIAMETER + spread * rng.nextFloat() ** 2);
    const center = placeNodule(rng, options.shape, lung, diameter / 2, nodules);
    const grey = rng.nextInt(185, 220);
    if (center === null) continue; // crowded lung: fewer nodules, never an overlap
    const nodule: Nodule = { center, diameter };
    paintNodule(image, mask, options.shape, nodule, {
      grey,
      label: 1 + (nodules.length % (options.labels ?? 1)),
    });
    nodules.push(nodule);
  }
  return nodules;
}

/**
 * Adds approx-gaussian noise (sigma 3) in one pass: an xorshift32 stream seeded from the series' rng
 * indexes a table of 4096 precomputed values; a clamped view keeps results in 0..255.
 */
function addNoise(rng: Rng, image: Uint8Array): void {
  const table = new Int8Array(1 << NOISE_TABLE_BITS);
  // Sum of four uniforms: variance 4/12, so scale by sigma / sqrt(1/3).
  const scale = NOISE_SIGMA / Math.sqrt(1 / 3);
  for (let i = 0; i < table.length; i++) {
    const sum = rng.nextFloat() + rng.nextFloat() + rng.nextFloat() + rng.nextFloat();
    table[i] = Math.round((sum - 2) * scale);
  }
  const clamped = new Uint8ClampedArray(image.buffer, image.byteOffset, image.length);
  let s = rng.nextUint32() | 1; // xorshift32 needs a non-zero state
  const shift = 32 - NOISE_TABLE_BITS;
  for (let i = 0; i < image.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    clamped[i] = image[i]! + table[s >>> shift]!;
  }
}

/** One phantom series; equal options give byte-identical volumes and nodules. */
export function generatePhantom(options: PhantomOptions): Phantom {
  const { shape, seed, seriesIndex } = options;
  checkPhantomShape(shape);
  if (!Number.isSafeInteger(seriesIndex) || seriesIndex < 0) {
    fail(`phantom series index ${seriesIndex} must be an integer >= 0`);
  }
  if (seed < 0n || seed >= 2n ** 64n) fail(`phantom seed ${seed} must be an integer from 0 to 2^64 - 1`);
  const rng = createRng([...toWords(seed), ...toWords(seriesIndex), RngPurpose.synth]);
  const voxels = shape[0] * shape[1] * shape[2];
  const image = new Uint8Array(voxels);
  const mask = new Uint8Array(voxels);
  const anatomy = drawAnatomy(rng, shape);
  const greys: Greys = { air: rng.nextInt(2, 6), tissue: rng.nextInt(145, 165), lung: rng.nextInt(28, 42) };
  fillOrgans(image, shape, anatomy, greys);
  drawVessels(rng, image, shape, anatomy);
  const nodules = drawNodules(rng, image, mask, options, anatomy);
  addNoise(rng, image);
  return { image, mask, nodules, anatomy };
}
