"""A merged prediction written as an NRRD file of the input's shape, row by row, in bounded memory.

The merger finishes rows along axis 0, but NRRD stores axis 0 fastest: a finished row is scattered over the
whole file. So rows are appended, as uint8, to a temporary spool in C order (axis 0 slowest), and close()
writes the NRRD by a blocked transpose: it gathers blocks of at most `block_bytes` (16 MiB by default) from
the spool, transposes each into file order and writes it out (gzip-compressed by default), then renames the
file into place. Memory stays bounded by one row plus one block, whatever the volume; disk needs the spool
(one byte per voxel) next to the output until close() deletes it. Each block reads all of axis 0 and 1 of the
spool for its range of axis 2, so the spool is read about (volume bytes / block_bytes) times, from the page
cache in practice.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .merger import check_volume_shape

DEFAULT_BLOCK_BYTES = 16 * 2**20
ENCODINGS = ("gzip", "raw")
GZIP_LEVEL = 6


class NrrdWriter:
    """Writes `<path>` (e.g. `<uid>_pred.nrrd`): uint8 voxels of `volume_shape` in NRRD axis order, so that
    `unu` and pynrrd read an array of the input image's shape that overlays it.

    Values: probabilities p as round(255 * p) clamped to 0..255 (`voxelfeed_kind:=probability`), or with
    `threshold` t a mask, 1 where p >= t else 0 (`voxelfeed_kind:=mask`). `spacing` (mm per axis, as
    TileBatch.spacing; None or empty when unknown) becomes the `spacings` field; `series_uid` the
    `voxelfeed_series` key. Give `write_rows` to a TileMerger as its sink, then call close(); used as a context
    manager, it closes on success and removes its temporary files on an error (as abort() does). Nothing
    appears at `path` until close() has written the whole file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        volume_shape: Sequence[int],
        *,
        series_uid: str = "",
        spacing: Sequence[float] | None = None,
        threshold: float | None = None,
        encoding: str = "gzip",
        block_bytes: int = DEFAULT_BLOCK_BYTES,
    ):
        self.path = Path(path)
        self.volume_shape = check_volume_shape(volume_shape)
        self._header = nrrd_header(self.volume_shape, series_uid, spacing, threshold, encoding)
        if threshold is not None and (
            isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 <= threshold <= 1
        ):
            raise ValueError(f"threshold is {threshold!r}; give a probability from 0 to 1, or None for probabilities")
        if isinstance(block_bytes, bool) or not isinstance(block_bytes, int) or block_bytes < 1024:
            raise ValueError(f"block_bytes is {block_bytes!r}; give an integer >= 1024 (default 16 MiB)")
        if not self.path.parent.is_dir():
            raise ValueError(f"cannot write {self.path}: folder {self.path.parent} does not exist; create it first")
        self._threshold = threshold
        self._encoding = encoding
        self._block_bytes = block_bytes
        fd, spool = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".rows", dir=self.path.parent)
        self._spool_path = Path(spool)
        self._spool = os.fdopen(fd, "wb")
        self._rows = 0
        self._state = "open"

    @property
    def rows_written(self) -> int:
        return self._rows

    def write_rows(self, first_row: int, rows: np.ndarray) -> None:
        """Appends rows [first_row, first_row + k) along axis 0 (float probabilities [k, v1, v2]); rows come in
        order, each once."""
        self._check_open()
        rows = np.asarray(rows)
        v0, v1, v2 = self.volume_shape
        if first_row != self._rows:
            raise ValueError(
                f"rows start at {first_row} but row {self._rows} is next; give the rows in order, each once"
            )
        if rows.ndim != 3 or rows.shape[1:] != (v1, v2) or first_row + rows.shape[0] > v0:
            raise ValueError(
                f"rows of shape {list(rows.shape)} at row {first_row} do not fit volume shape {[v0, v1, v2]}; "
                f"give [k, {v1}, {v2}] with k <= {v0 - first_row}"
            )
        for row in rows:
            self._spool.write(self._to_uint8(row).tobytes())
        self._rows += rows.shape[0]

    def __call__(self, first_row: int, rows: np.ndarray) -> None:
        self.write_rows(first_row, rows)

    def close(self) -> Path:
        """Writes the NRRD file from the spool, renames it to `path` and deletes the spool; returns `path`."""
        if self._state == "closed":
            return self.path
        self._check_open()
        v0, v1, v2 = self.volume_shape
        if self._rows != v0:
            self.abort()
            raise ValueError(f"{self.path}: {self._rows} of {v0} rows were written; the volume is incomplete")
        try:
            self._spool.close()
            fd, partial = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(self._header.encode("latin-1"))
                    self._write_voxels(out)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(partial, 0o644)
                os.replace(partial, self.path)
            except BaseException:
                _remove(Path(partial))
                raise
        except BaseException:
            self.abort()
            raise
        _remove(self._spool_path)
        self._state = "closed"
        return self.path

    def abort(self) -> None:
        """Removes the temporary files; `path` is left as it was."""
        if self._state == "closed":
            return
        self._state = "closed"
        self._spool.close()
        _remove(self._spool_path)

    def __enter__(self) -> NrrdWriter:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _check_open(self) -> None:
        if self._state != "open":
            raise ValueError(f"the NRRD writer of {self.path} is closed; make a new one")

    def _to_uint8(self, row: np.ndarray) -> np.ndarray:
        if self._threshold is not None:
            return (row >= self._threshold).astype(np.uint8)
        # round(255 * p) with halves up, in double precision (as the TypeScript client's Math.round).
        scaled = np.multiply(row, 255, dtype=np.float64)
        scaled += 0.5
        np.floor(scaled, out=scaled)
        np.clip(scaled, 0, 255, out=scaled)
        return scaled.astype(np.uint8)

    def _write_voxels(self, out) -> None:
        """The spool [v0, v1, v2] (C order) in file order (axis 0 fastest), one block of at most block_bytes at
        a time: all of axes 0 and 1 for a range of axis 2, or (when one axis 0-1 plane is over the budget) all
        of axis 0 for a range of axis 1 at one axis-2 index. Rows are read with pread rather than through a
        memory map, so the spool's pages are not counted in the process's resident memory."""
        v0, v1, v2 = self.volume_shape
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31) if self._encoding == "gzip" else None
        fd = os.open(self._spool_path, os.O_RDONLY)
        try:
            for (j0, j1), (k0, k1) in _blocks(self.volume_shape, self._block_bytes):
                block = np.empty((k1 - k0, j1 - j0, v0), dtype=np.uint8)
                span = (j1 - j0) * v2
                for i in range(v0):
                    part = os.pread(fd, span, (i * v1 + j0) * v2)
                    if len(part) != span:
                        raise OSError(f"the spool {self._spool_path} is shorter than {v0} rows; was it changed?")
                    rows = np.frombuffer(part, dtype=np.uint8).reshape(j1 - j0, v2)
                    block[:, :, i] = rows[:, k0:k1].T
                data = block.tobytes()
                out.write(data if compressor is None else compressor.compress(data))
                del block, data
            if compressor is not None:
                out.write(compressor.flush())
        finally:
            os.close(fd)


def _blocks(volume_shape: tuple[int, int, int], budget: int):
    """((j0, j1), (k0, k1)) ranges of axes 1 and 2 whose blocks [all of axis 0, j0:j1, k0:k1], each transposed
    to axis 0 fastest and concatenated, are the file order."""
    v0, v1, v2 = volume_shape
    plane = v0 * v1
    if plane <= budget:
        step = max(1, budget // plane)
        for k in range(0, v2, step):
            yield (0, v1), (k, min(v2, k + step))
        return
    step = max(1, budget // v0)
    for k in range(v2):
        for j in range(0, v1, step):
            yield (j, min(v1, j + step)), (k, k + 1)


def nrrd_header(
    volume_shape: tuple[int, int, int], series_uid: str, spacing, threshold, encoding: str
) -> str:
    """The NRRD0004 header of a prediction file, ending with its blank line."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding is {encoding!r}; use 'gzip' (the default) or 'raw'")
    if not isinstance(series_uid, str) or any(c in series_uid for c in "\r\n"):
        raise ValueError(f"series_uid is {series_uid!r}; give the series uid as one line of text")
    lines = [
        "NRRD0004",
        "# Complete NRRD file format specification at:",
        "# http://teem.sourceforge.net/nrrd/format.html",
        "type: uint8",
        "dimension: 3",
        f"sizes: {' '.join(str(v) for v in volume_shape)}",
    ]
    if spacing is not None and len(spacing) > 0:
        if len(spacing) != 3 or not all(
            isinstance(s, numbers.Real) and not isinstance(s, bool) and math.isfinite(s) and s > 0 for s in spacing
        ):
            raise ValueError(f"spacing is {spacing!r}; give 3 numbers > 0 (mm per axis, as TileBatch.spacing), or None")
        lines.append(f"spacings: {' '.join(repr(float(s)) for s in spacing)}")
    lines += ["kinds: domain domain domain", f"encoding: {encoding}"]
    lines.append(f"voxelfeed_kind:={'probability' if threshold is None else 'mask'}")
    if series_uid:
        lines.append(f"voxelfeed_series:={series_uid}")
    return "\n".join(lines) + "\n\n"


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
