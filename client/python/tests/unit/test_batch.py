"""decode_batch: tensors as views of the received bytes, the rest as protobuf parses it."""

import numpy as np
import pytest
from tensor_messages import memory_owner, random_tensors

from voxelfeed.batch import MalformedBatch, decode_batch, split_tensors
from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb


def make_batch(rng, dtype=pb.DTYPE_UINT8, mask=True, shape=(2, 3, 4, 5)):
    pixels, labels = random_tensors(rng, shape, dtype)
    samples = [
        pb.SampleInfo(index=7 + b, series_uid=f"uid.{b}", mode=1 + b % 3, origin=[b, -1, 2], nodule=b - 1,
                      nodule_center=[1.5, 2.5, 3.5], nodule_diameter=4.0, item=100 + b,
                      foreground_voxels=30 * b)
        for b in range(shape[0])
    ]
    message = pb.Batch(epoch=3, step=11, steps_in_epoch=40, shape=list(shape), dtype=dtype,
                       image=pixels.tobytes(), mask=labels.tobytes() if mask else b"", samples=samples,
                       rank=1, world_size=2)
    return message, pixels, labels


@pytest.mark.parametrize("dtype", [pb.DTYPE_UINT8, pb.DTYPE_FLOAT32])
def test_tensors_are_views_of_the_received_bytes(dtype):
    message, pixels, labels = make_batch(np.random.default_rng(1), dtype)
    raw = message.SerializeToString()
    batch = decode_batch(raw)
    assert batch.image.dtype == pixels.dtype and np.array_equal(batch.image, pixels)
    assert np.array_equal(batch.mask, labels)
    # No copy: uint8 tensors read the message's own bytes, and so cannot be written to; float32 ones too
    # where the bytes are aligned for them (else one aligned copy).
    assert memory_owner(batch.mask) is raw and not batch.mask.flags.writeable
    assert batch.image.flags.aligned
    if dtype == pb.DTYPE_UINT8:
        assert memory_owner(batch.image) is raw
    assert (batch.epoch, batch.step, batch.steps_in_epoch, batch.rank, batch.world_size) == (3, 11, 40, 1, 2)
    assert [s.index for s in batch.samples] == [7, 8]
    assert batch.samples[1].mode == "negative" and batch.samples[0].mode == "jitter"
    assert batch.samples[0].origin == (0, -1, 2) and batch.samples[0].nodule == -1
    assert [s.foreground_voxels for s in batch.samples] == [0, 30]


def test_the_rest_parses_as_protobuf_parses_the_whole_message():
    rng = np.random.default_rng(2)
    for _ in range(20):
        shape = tuple(int(x) for x in rng.integers(1, 5, size=4))
        message, _, _ = make_batch(rng, pb.DTYPE_UINT8, mask=bool(rng.integers(0, 2)), shape=shape)
        raw = message.SerializeToString()
        rest, image, mask = split_tensors(raw)
        parsed = pb.Batch.FromString(rest)
        parsed.image = raw[image[0]:image[0] + image[1]]
        if mask is not None:
            parsed.mask = raw[mask[0]:mask[0] + mask[1]]
        assert parsed == message


def test_no_mask_gives_none():
    message, _, _ = make_batch(np.random.default_rng(3), mask=False)
    assert decode_batch(message.SerializeToString()).mask is None


def test_truncated_and_mismatched_messages_are_refused_with_what_is_wrong():
    message, _, _ = make_batch(np.random.default_rng(4))
    raw = message.SerializeToString()
    with pytest.raises(MalformedBatch, match="past the end"):
        decode_batch(raw[: len(raw) // 2])
    message.shape[:] = [2, 3, 4, 6]
    with pytest.raises(MalformedBatch, match=r"image has 120 bytes; shape \[2, 3, 4, 6\] of uint8 needs 144"):
        decode_batch(message.SerializeToString())


def test_misaligned_float32_is_copied_aligned_and_aligned_float32_is_not():
    rng = np.random.default_rng(5)
    outcomes = set()
    for batch_size in range(1, 9):
        message, pixels, _ = make_batch(rng, pb.DTYPE_FLOAT32, shape=(batch_size, 2, 3, 4))
        raw = message.SerializeToString()
        _, (offset, _), _ = split_tensors(raw)
        batch = decode_batch(raw)
        assert batch.image.flags.aligned and np.array_equal(batch.image, pixels)
        aligned_in_place = np.frombuffer(raw, dtype=np.uint8)[offset:].ctypes.data % 4 == 0
        outcomes.add(aligned_in_place)
        assert (memory_owner(batch.image) is raw) == aligned_in_place
    assert outcomes == {True, False}, "both cases occurred"


def _varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number, data):
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def test_a_float32_image_padded_as_the_server_pads_it_for_grpcio_is_a_view_and_the_padding_is_dropped():
    rng = np.random.default_rng(6)
    paddings = set()
    # Image prefixes of 2 to 5 bytes: padding fields of 2, 5, none and 3 bytes.
    for shape in ((1, 2, 2, 2), (3, 4, 6, 8), (40, 4, 6, 8), (4, 16, 96, 96)):
        message, pixels, labels = make_batch(rng, pb.DTYPE_FLOAT32, shape=shape)
        image_field = _field(6, message.image)
        head = pb.Batch(epoch=message.epoch, step=message.step, shape=message.shape, dtype=message.dtype,
                        samples=message.samples).SerializeToString()
        # The server's layout for a message at byte 0: padding (2, 3, 5 bytes or none), image, mask, the rest.
        prefix = len(image_field) - len(message.image)
        shortfall = -prefix % 4
        padding = b"" if shortfall == 0 else _field(12, bytes(shortfall - 2 if shortfall >= 2 else 3))
        raw = padding + image_field + _field(7, message.mask) + head
        paddings.add(len(padding))
        batch = decode_batch(raw)
        assert memory_owner(batch.image) is raw, f"shape {shape}: a view, not a copy"
        assert np.shares_memory(batch.image, np.frombuffer(raw, dtype=np.uint8))
        assert np.array_equal(batch.image, pixels) and np.array_equal(batch.mask, labels)
        rest, _, _ = split_tensors(raw)
        assert rest == head, "the padding field is dropped with the tensors"
    assert paddings == {0, 2, 3, 5}, f"the sizes tried gave paddings of {sorted(paddings)} bytes only"


def test_bytes_that_do_not_parse_are_a_malformed_batch():
    with pytest.raises(MalformedBatch, match="does not parse as voxelfeed.v1.Batch"):
        decode_batch(b"\x42\x01\xff")  # field 8 (samples) holding a truncated message


def test_samples_carry_the_echoed_augmentation_background_and_label():
    info = [
        pb.SampleInfo(index=1, series_uid="a", mode=pb.CROP_MODE_LABEL, origin=[0, 0, 0], label=3,
                      augmentation=pb.AugmentationInfo(flipped_axes=[0, 2], rotate90=1, gamma=0.75,
                                                       noise_std=0.125, noise_seed=9)),
        pb.SampleInfo(index=2, series_uid="a", mode=pb.CROP_MODE_NEGATIVE, origin=[0, 0, 0],
                      background_draws=32, background_missed=True),
    ]
    raw = pb.Batch(shape=[2, 1, 1, 1], dtype=pb.DTYPE_UINT8, image=b"\x01\x02", samples=info).SerializeToString()
    first, second = decode_batch(raw).samples
    assert first.mode == "label" and first.label == 3
    augmentation = first.augmentation
    assert augmentation.flipped_axes == (0, 2) and augmentation.rotate90 == 1 and augmentation.noise_seed == 9
    assert augmentation.gamma == 0.75 and augmentation.noise_std == 0.125
    assert augmentation.scale is None and augmentation.shift is None
    assert second.augmentation is None and second.mode == "negative"
    assert second.background_draws == 32 and second.background_missed
