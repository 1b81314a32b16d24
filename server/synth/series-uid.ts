import { VoxelfeedError } from '../errors.js';
import { createRng, RngPurpose, toWords } from '../sampling/rng.js';

/** The root LUNA16 (LIDC-IDRI) series UIDs share, so phantom files look like the real ones. */
export const LUNA16_UID_ROOT = '1.3.6.1.4.1.14519.5.2.1.6279.6001';

/** Indices are encoded in 9 decimal digits. */
export const MAX_SERIES_INDEX = 999_999_999;

const TAIL_MODULUS = 1_000_000_000n;
// Odd and not a multiple of 5, hence coprime with 10^9: index -> index * A + B (mod 10^9) is a bijection.
const TAIL_MULTIPLIER = 738_225_347n;
const UID_KEY_TAG = 0x0051_d000; // keeps this stream apart from the phantom's (same seed, index, purpose)

/**
 * A deterministic LUNA16-looking series UID for (seed, index): the LIDC root, then 30 digits (64 characters
 * in all, the DICOM maximum). The first 21 digits are drawn from (seed, index); the last 9 are a bijection
 * of the index, so two indices of one seed never share a UID. No component starts with 0, as DICOM requires.
 */
export function seriesUid(seed: bigint, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_SERIES_INDEX) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `series index ${index} is outside 0..${MAX_SERIES_INDEX}; generate fewer series`,
    );
  }
  if (seed < 0n || seed >= 2n ** 64n) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `seed ${seed} must be an integer from 0 to 2^64 - 1`);
  }
  const rng = createRng([...toWords(seed), ...toWords(index), RngPurpose.synth, UID_KEY_TAG]);
  let digits = String(rng.nextInt(1, 9));
  for (let i = 0; i < 20; i++) digits += String(rng.nextInt(0, 9));
  const offset = BigInt(createRng([...toWords(seed), RngPurpose.synth, UID_KEY_TAG]).nextInt(0, 999_999_999));
  const tail = (BigInt(index) * TAIL_MULTIPLIER + offset) % TAIL_MODULUS;
  return `${LUNA16_UID_ROOT}.${digits}${tail.toString().padStart(9, '0')}`;
}
