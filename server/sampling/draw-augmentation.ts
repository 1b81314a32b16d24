import { AugmentTransform, augmentKey } from './plan-keys.js';
import { createRng } from './rng.js';
import type { AugmentationPolicy, AugmentParams } from './types.js';

/**
 * Draws the transforms of the sample at plan position `position`: each transform from its own stream keyed
 * by (seed, epoch, position, transform), always the same draws whatever the probabilities, so enabling or
 * tuning one transform never changes the crop or another transform's parameters. Per transform, in order:
 *
 * - flip: u0, u1, u2 (nextFloat each); axis a is mirrored when it may be and u_a < flipProb;
 * - rotate90: u, then k = nextInt(1, 3); applied when u < rotate90Prob;
 * - gamma, scale, shift: u, then t (nextFloat); applied when u < prob, the value float32(lo + (hi - lo) * t)
 *   over [gammaMin, gammaMax], [1 - factor, 1 + factor], [-offset, offset];
 * - noise: u, t, then the noise seed (nextUint32); the std is float32(noiseStd * t).
 *
 * `rotate90Allowed` is false when crop sizes 1 and 2 differ (the request is refused before with a rotation
 * probability; this keeps the function total).
 */
export function drawAugmentation(
  policy: AugmentationPolicy,
  key: { readonly seed: bigint; readonly epoch: number; readonly position: number },
): AugmentParams {
  const stream = (transform: AugmentTransform) =>
    createRng(augmentKey(key.seed, key.epoch, key.position, transform));
  const flipRng = stream(AugmentTransform.flip);
  const flip: [boolean, boolean, boolean] = [false, false, false];
  for (let axis = 0; axis < 3; axis++) {
    const u = flipRng.nextFloat();
    flip[axis] = policy.flipAxes[axis] === true && u < policy.flipProb;
  }
  const rotateRng = stream(AugmentTransform.rotate90);
  const rotateU = rotateRng.nextFloat();
  const k = rotateRng.nextInt(1, 3);
  const ranged = (transform: AugmentTransform, prob: number, lo: number, hi: number) => {
    const rng = stream(transform);
    const u = rng.nextFloat();
    const t = rng.nextFloat();
    return u < prob ? Math.fround(lo + (hi - lo) * t) : undefined;
  };
  const gamma = ranged(AugmentTransform.gamma, policy.gammaProb, policy.gammaMin, policy.gammaMax);
  const scale = ranged(
    AugmentTransform.scale,
    policy.scaleProb,
    1 - policy.scaleFactor,
    1 + policy.scaleFactor,
  );
  const shift = ranged(AugmentTransform.shift, policy.shiftProb, -policy.shiftOffset, policy.shiftOffset);
  const noiseRng = stream(AugmentTransform.noise);
  const noiseU = noiseRng.nextFloat();
  const noiseT = noiseRng.nextFloat();
  const noiseSeed = noiseRng.nextUint32();
  return {
    flip,
    rotate90: rotateU < policy.rotate90Prob ? k : 0,
    gamma,
    scale,
    shift,
    noiseStd: noiseU < policy.noiseProb ? Math.fround(policy.noiseStd * noiseT) : undefined,
    noiseSeed,
  };
}
