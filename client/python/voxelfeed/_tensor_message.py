"""What decoding Batch and TileBatch messages shares: the image and mask fields found in the received bytes
without parsing them, the rest parsed by protobuf, and the tensors checked against the shape and viewed by
numpy in place.

grpcio hands each message as a bytes object whose data starts 16-byte aligned; the server, knowing the client
from its user-agent, puts a padding field before a float32 image so that it starts on a 4-byte boundary there,
and numpy views it without a copy."""

from __future__ import annotations

from typing import Any, Type, TypeVar

import numpy as np
from google.protobuf.message import DecodeError, Message

from ._gen.voxelfeed.v1 import voxelfeed_pb2 as pb

# Batch.image, Batch.mask and Batch.padding.
BATCH_FIELDS = (6, 7, 12)
NUMPY_DTYPES = {pb.DTYPE_UNSPECIFIED: np.dtype(np.uint8), pb.DTYPE_UINT8: np.dtype(np.uint8), pb.DTYPE_FLOAT32: np.dtype("<f4")}

Head = TypeVar("Head", bound=Message)


class MalformedBatch(ValueError):
    """The bytes are not a Batch this client can read (truncated, or tensors that do not match the shape)."""


def split_tensors(
    raw: bytes, fields: tuple[int, int, int] = BATCH_FIELDS
) -> tuple[bytes, tuple[int, int] | None, tuple[int, int] | None]:
    """The message without its image and mask fields (numbers `fields`: image, mask and padding; Batch's by
    default), and (offset, length) of each in `raw` (None if absent). The padding field carries nothing and is
    dropped.

    Walks the top-level fields by their wire types; a field that occurs twice keeps the last occurrence, as
    protobuf does for singular fields."""
    image_field, mask_field, padding_field = fields
    view = memoryview(raw)
    kept: list[memoryview] = []
    spans: dict[int, tuple[int, int]] = {}
    at = 0
    end = len(raw)
    while at < end:
        start = at
        key, at = _varint(raw, at)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, at = _varint(raw, at)
        elif wire_type == 1:
            at += 8
        elif wire_type == 5:
            at += 4
        elif wire_type == 2:
            length, at = _varint(raw, at)
            if field in fields:
                if at + length > end:
                    raise MalformedBatch(f"field {field} runs past the end of the message")
                if field != padding_field:
                    spans[field] = (at, length)
                at += length
                continue
            at += length
        else:
            raise MalformedBatch(f"wire type {wire_type} of field {field} is not one a voxelfeed message uses")
        if at > end:
            raise MalformedBatch(f"field {field} runs past the end of the message")
        kept.append(view[start:at])
    return b"".join(kept), spans.get(image_field), spans.get(mask_field)


def _varint(raw: bytes, at: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if at >= len(raw) or shift > 63:
            raise MalformedBatch("a varint runs past the end of the message")
        byte = raw[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _view(
    raw: bytes, span: tuple[int, int] | None, dtype: np.dtype | None, shape: tuple[int, ...], name: str,
    dtype_value: int = 0,
) -> np.ndarray:
    if dtype is None:
        raise MalformedBatch(f"the batch's dtype {dtype_value} is not one this client knows; update the voxelfeed package")
    offset, length = span if span is not None else (0, 0)
    expected = int(np.prod(shape)) * dtype.itemsize
    if length != expected:
        raise MalformedBatch(f"{name} has {length} bytes; shape {list(shape)} of {dtype.name} needs {expected}")
    array = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=offset).reshape(shape)
    # float32 voxels land where the message put them: aligned when the server padded them for this client's
    # gRPC library. A misaligned view (an older server, another library's buffer) works but is slow in numpy
    # and risky in libraries that assume alignment, so such an image is copied once (uint8 never is).
    return array if array.flags.aligned else array.copy()


def parse_head(
    raw: bytes, message_type: Type[Head], fields: tuple[int, int, int], noun: str, axis: str
) -> tuple[Head, tuple[int, ...], tuple[int, int] | None, tuple[int, int] | None]:
    """`raw` as a `message_type` without its tensors, its shape ([B, `axis`0, `axis`1, `axis`2]) and the
    (offset, length) of its image and mask in `raw`; `noun` names the message in errors."""
    rest, image_span, mask_span = split_tensors(raw, fields)
    try:
        head = message_type.FromString(rest)
    except DecodeError as error:
        name = message_type.DESCRIPTOR.full_name
        raise MalformedBatch(f"the {noun} does not parse as {name}: {error}") from None
    shape = tuple(head.shape)  # type: ignore[attr-defined]
    if len(shape) != 4:
        raise MalformedBatch(f"{noun} shape is {list(shape)}; expected [B, {axis}0, {axis}1, {axis}2]")
    return head, shape, image_span, mask_span


def tensor_views(
    raw: bytes, image_span: tuple[int, int] | None, mask_span: tuple[int, int] | None, dtype: Any,
    shape: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray | None]:
    """The image (of the message's `dtype`) and mask (None when absent or empty) as views of `raw`."""
    image = _view(raw, image_span, NUMPY_DTYPES.get(dtype), shape, "image", dtype)
    mask = None if mask_span is None or mask_span[1] == 0 else _view(raw, mask_span, np.dtype(np.uint8), shape, "mask")
    return image, mask
