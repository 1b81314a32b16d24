"""Requests from keyword arguments: the documented defaults, and every problem named at once."""

import numpy as np
import pytest

from voxelfeed import FeedError
from voxelfeed._gen.voxelfeed.v1 import voxelfeed_pb2 as pb
from voxelfeed.requests import sample_request, stream_request, trainer_stats


def test_defaults_are_the_documented_ones_not_proto_zeros():
    request = stream_request(crop_size=(16, 96, 96), batch_size=4)
    assert list(request.crop_size) == [16, 96, 96]
    assert request.world_size == 1 and request.rank_groups == 1 and request.step_stride == 1
    assert request.dtype == pb.DTYPE_UINT8 and request.include_mask is False
    assert not request.HasField("sampling") and not request.HasField("split")


def test_fields_are_set_as_given():
    request = stream_request(
        crop_size=np.array([8, 16, 16]).tolist(), batch_size=np.int64(2), seed=2**64 - 1, epoch=3, rank=1,
        world_size=2, dtype="float32", include_mask=True, sampling={"jitter_prob": 1.0, "negative_prob": 0.0,
        "center_prob": 0.0}, split={"holdout_fraction": 0.25, "part": "holdout"}, start_step=5, max_steps=7,
        step_stride=3,
    )
    assert request.seed == 2**64 - 1 and request.batch_size == 2 and request.dtype == pb.DTYPE_FLOAT32
    assert request.sampling.jitter_prob == 1.0 and request.split.part == pb.SPLIT_PART_HOLDOUT
    assert (request.start_step, request.max_steps, request.step_stride) == (5, 7, 3)


def test_every_problem_is_named_in_one_error():
    with pytest.raises(FeedError) as caught:
        stream_request(crop_size=(16, 96), batch_size=-1, dtype="float16", rank=True, sampling={"jitter": 1},
                       split={"part": "test"})
    error = caught.value
    assert error.code == "INVALID_ARGUMENT"
    for text in ("crop_size is (16, 96); give 3 sizes", "batch_size is -1", "dtype is 'float16'",
                 "rank is True", "sampling has unknown fields ['jitter']", "split part is 'test'"):
        assert text in error.details, text
    assert str(error).startswith("invalid stream request: ")


def test_sample_and_stats_requests():
    assert sample_request(crop_size=(4, 8, 8), index=9).index == 9
    with pytest.raises(FeedError, match="index is -2"):
        sample_request(crop_size=(4, 8, 8), index=-2)
    stats = trainer_stats(job="j", rank=1, world_size=2, step=5, gpu_idle_seconds=1.5, backend="cpu")
    assert (stats.rank, stats.step, stats.gpu_idle_seconds) == (1, 5, 1.5)
    with pytest.raises(FeedError, match=r"job is ''.*gpu_idle_seconds is -1"):
        trainer_stats(job="", rank=0, step=0, gpu_idle_seconds=-1)


def test_wrong_types_are_named_not_raised_raw():
    with pytest.raises(FeedError) as caught:
        stream_request(crop_size=(8, 16, 16), batch_size=2, sampling={"negatives_per_epoch": "60", "pad_value": None},
                       split="train")
    for text in ("sampling.negatives_per_epoch is '60'", "sampling.pad_value is None", "split is 'train'"):
        assert text in caught.value.details, text
    with pytest.raises(FeedError, match=r"split has unknown keys \['parts'\]"):
        stream_request(crop_size=(8, 16, 16), batch_size=2, split={"parts": "train"})
    with pytest.raises(FeedError, match="loss is None.*backend is 3"):
        trainer_stats(job="j", rank=0, step=1, loss=None, backend=3)


def test_a_numpy_crop_size_is_three_sizes():
    assert list(stream_request(crop_size=np.array([8, 16, 16]), batch_size=1).crop_size) == [8, 16, 16]


def test_a_tiles_request_fills_the_documented_defaults():
    from voxelfeed.requests import tiles_request

    request = tiles_request(tile_size=(16, 96, 96))
    assert list(request.tile_size) == [16, 96, 96] and list(request.series_uids) == []
    assert list(request.overlap) == []  # the server's default: 0.5 on every axis
    assert request.batch_size == 1 and request.dtype == pb.DTYPE_UINT8 and request.include_mask is False
    assert (request.pad_value, request.start_series, request.start_tile) == (0, 0, 0)
    assert not request.HasField("split")
    named = tiles_request(tile_size=np.array([8, 8, 8]), series_uids=("b.2", "a.1"), overlap=(0.25, 0.5, 0),
                          batch_size=np.int32(6), dtype="float32", include_mask=True, pad_value=170.0,
                          start_series=1, start_tile=2**40, dataset="luna")
    assert list(named.series_uids) == ["b.2", "a.1"] and list(named.overlap) == [0.25, 0.5, 0]
    assert (named.batch_size, named.dtype, named.pad_value) == (6, pb.DTYPE_FLOAT32, 170)
    assert (named.start_series, named.start_tile, named.dataset) == (1, 2**40, "luna")
    split = tiles_request(tile_size=(8, 8, 8), overlap=0.5, split={"holdout_fraction": 0.2, "part": "holdout"})
    assert list(split.overlap) == [0.5] and split.split.part == pb.SPLIT_PART_HOLDOUT


def test_every_problem_of_a_tiles_request_is_named_in_one_error():
    from voxelfeed.requests import tiles_request

    with pytest.raises(FeedError) as caught:
        tiles_request(tile_size=(16, 0, 96), series_uids=["a", "a", ""], split={"part": "train"}, overlap=(0.5, 1),
                      batch_size=0, pad_value=12.5, dtype="float16", start_tile=-1)
    error = caught.value
    assert error.code == "INVALID_ARGUMENT" and str(error).startswith("invalid tiles request: ")
    for text in ("series_uids holds ''", "series_uids names ['a'] more than once",
                 "series_uids and split are both given", "batch_size is 0; use an integer from 1",
                 "tile_size is (16, 0, 96); every size must be at least 1", "pad_value is 12.5",
                 "dtype is 'float16'", "overlap is (0.5, 1); give a share of the tile from 0 to below 1",
                 "start_tile is -1"):
        assert text in error.details, text
    with pytest.raises(FeedError, match=r"series_uids is 'a.1'; give a list"):
        tiles_request(tile_size=(8, 8, 8), series_uids="a.1")


def test_sampling_takes_augmentation_background_share_and_labels():
    request = stream_request(
        crop_size=(16, 96, 96), batch_size=4,
        sampling={"augmentation": {"preset": "nnunet", "flip_axes": [1, 2], "gaussian_noise_prob": 0.2},
                  "avoid_foreground": True, "background_max_draws": 64, "foreground_share": 0.33,
                  "keep_labels": True, "label_ratios": [0, 1, 2]})
    sampling = request.sampling
    assert sampling.augmentation.preset == pb.AUGMENTATION_PRESET_NNUNET
    assert list(sampling.augmentation.flip_axes) == [1, 2]
    assert abs(sampling.augmentation.gaussian_noise_prob - 0.2) < 1e-7
    assert sampling.avoid_foreground and sampling.background_max_draws == 64 and sampling.keep_labels
    assert abs(sampling.foreground_share - 0.33) < 1e-7 and list(sampling.label_ratios) == [0, 1, 2]


def test_bad_newer_sampling_options_are_named():
    with pytest.raises(FeedError) as raised:
        stream_request(crop_size=(16, 96, 96), batch_size=4,
                       sampling={"augmentation": {"preset": "monai", "flip_axes": "12", "gamma": 1},
                                 "avoid_foreground": 1, "label_ratios": [1, "x"]})
    message = str(raised.value)
    for fragment in ("sampling.augmentation has unknown fields ['gamma']",):
        assert fragment in message, message
    with pytest.raises(FeedError) as raised:
        stream_request(crop_size=(16, 96, 96), batch_size=4,
                       sampling={"augmentation": {"preset": "monai", "flip_axes": "12"},
                                 "avoid_foreground": 1, "label_ratios": [1, "x"]})
    message = str(raised.value)
    for fragment in ("sampling.augmentation.preset is 'monai'", "sampling.augmentation.flip_axes is '12'",
                     "sampling.avoid_foreground is 1; use True or False", "sampling.label_ratios is [1, 'x']"):
        assert fragment in message, message
