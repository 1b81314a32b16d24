"""importance_map: nnU-Net's Gaussian, checked against scipy's gaussian_filter of a delta."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from voxelfeed.tiles import importance_map


def nnunet_gaussian(tile_size):
    """nnU-Net's recipe, with scipy: a delta at T // 2, filtered with sigma T / 8, max 1, zeros lifted."""
    delta = np.zeros(tile_size)
    delta[tuple(t // 2 for t in tile_size)] = 1
    smooth = gaussian_filter(delta, [t / 8 for t in tile_size], 0, mode="constant", cval=0)
    smooth /= smooth.max()
    smooth[smooth == 0] = smooth[smooth != 0].min()
    return smooth


@pytest.mark.parametrize("tile_size", [(16, 96, 96), (8, 8, 8), (5, 12, 7), (1, 2, 3), (64, 16, 33)])
def test_the_gaussian_equals_scipys_filtered_delta(tile_size):
    ours = importance_map(tile_size, "gaussian")
    reference = nnunet_gaussian(tile_size)
    assert ours.shape == tuple(tile_size) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, rtol=2e-6, atol=1e-30)


def test_the_gaussian_peaks_at_the_centre_is_symmetric_and_positive():
    weights = importance_map((16, 96, 96))
    assert weights.max() == 1 and weights[8, 48, 48] == 1
    assert (weights > 0).all()
    # Symmetric about T // 2 on each axis (index c - d equals c + d wherever both exist).
    assert np.array_equal(weights[8 - 5], weights[8 + 5])
    assert np.array_equal(weights[:, 48 - 30], weights[:, 48 + 30])
    # Separable: the map is the outer product of its centre lines.
    outer = weights[:, 48, 48][:, None, None] * weights[8, :, 48][None, :, None] * weights[8, 48, :][None, None, :]
    np.testing.assert_allclose(weights, outer, rtol=1e-6)
    # sigma = T / 8 on each axis: at one sigma from the centre the weight is exp(-1/2).
    np.testing.assert_allclose(weights[8, 48 + 12, 48], np.exp(-0.5), rtol=1e-6)
    np.testing.assert_allclose(weights[8 + 2, 48, 48], np.exp(-0.5), rtol=1e-6)


def test_constant_weights_are_all_one():
    assert np.array_equal(importance_map((3, 4, 5), "constant"), np.ones((3, 4, 5), np.float32))


@pytest.mark.parametrize(
    ("tile_size", "weighting", "message"),
    [
        ((16, 96), "gaussian", "tile_size is (16, 96); give 3 integers >= 1"),
        ((16, 0, 96), "gaussian", "tile_size is (16, 0, 96)"),
        ((16, 96, 96), "median", "weighting is 'median'; use 'gaussian' (nnU-Net) or 'constant'"),
    ],
)
def test_bad_arguments_are_refused_naming_the_value(tile_size, weighting, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        importance_map(tile_size, weighting)
