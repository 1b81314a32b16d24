/**
 * The contour of one slice of a mask: the mask's voxels with an in-plane 6-neighbour (up, down, left, right
 * in the slice) outside the mask. A neighbour beyond the crop's edge does not count as outside: the crop cut
 * the nodule there, it did not end, so a mask that runs into the edge stays open on that side.
 *
 * `plane` holds `rows * cols` values in C order; the result has the same layout, 1 on the contour, 0 elsewhere.
 */
export function maskContour(plane: Uint8Array, rows: number, cols: number): Uint8Array {
  if (plane.length !== rows * cols) {
    throw new RangeError(`a ${rows}x${cols} slice holds ${rows * cols} values, not ${plane.length}`);
  }
  const contour = new Uint8Array(plane.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) {
      const at = row + c;
      if (plane[at] === 0) continue;
      const outside =
        (r > 0 && plane[at - cols] === 0) ||
        (r < rows - 1 && plane[at + cols] === 0) ||
        (c > 0 && plane[at - 1] === 0) ||
        (c < cols - 1 && plane[at + 1] === 0);
      if (outside) contour[at] = 1;
    }
  }
  return contour;
}
