import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * A V-Net of depth d takes tiles whose sides are multiples of 2^(d-1) (it halves each side d - 1 times and
 * concatenates every decoder level with its encoder twin). A tile that is not is refused before any tile is
 * streamed, naming the axes, the multiple and the nearest valid tile (ties round up; never below one
 * multiple), with where the tile came from (`--tile 20,96,96` or the checkpoint's crop).
 */
export function checkTileSize(tile: readonly number[], depth: number, shown: string): void {
  const factor = 2 ** (depth - 1);
  const bad = tile.flatMap((side, axis) => (side > 0 && side % factor === 0 ? [] : [axis]));
  if (bad.length === 0) return;
  const nearest = tile.map((side) => Math.max(factor, Math.round(side / factor) * factor));
  const axes = bad.map((axis) => `axis ${axis} (${tile[axis]})`).join(', ');
  throw new VoxelfeedError(
    'INVALID_ARGUMENT',
    `${shown}: the checkpoint's V-Net (depth ${depth}) takes tile sides that are multiples of ${factor} ` +
      `(2^(depth-1)); ${axes} ${bad.length === 1 ? 'is' : 'are'} not; the nearest valid tile is --tile ${nearest.join(',')}`,
  );
}
