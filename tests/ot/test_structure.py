"""The O(NK) structure product equals the dense ``Cv @ X`` (spec section 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.ot.radius import structure_band
from asot.ot.structure import batched_temporal_prior, dense_structure_matrix, structure_product, structure_radius, temporal_prior


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 300), k=st.integers(1, 8), radius=st.floats(0.001, 1.0))
def test_prefix_sum_product_equals_dense(seed, n, k, radius):
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, k)))
    w = structure_radius(n, radius)
    dense = dense_structure_matrix(n, w, radius) @ x
    np.testing.assert_allclose(structure_product(x, w, radius).numpy(), dense.numpy(), rtol=1e-10, atol=1e-10)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), b=st.integers(1, 4), n=st.integers(1, 100), k=st.integers(1, 5))
def test_per_video_widths_on_a_padded_batch(seed, b, n, k):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, n + 1, size=b)
    x = rng.standard_normal((b, n, k))
    x[np.arange(n)[None, :] >= lengths[:, None]] = 0.0
    widths = torch.tensor([structure_radius(int(length), 0.1) for length in lengths])
    out = structure_product(torch.from_numpy(x), widths, 0.1).numpy()
    for i, length in enumerate(lengths):
        dense = dense_structure_matrix(int(length), int(widths[i]), 0.1).numpy() @ x[i, :length]
        np.testing.assert_allclose(out[i, :length], dense, rtol=1e-10, atol=1e-10)


def test_radius_keeps_the_structure_term_for_short_videos():
    assert structure_radius(10, 0.04) == 1  # published code: floor(0.4) = 0, term silently dropped
    assert structure_radius(16000, 0.04) == 640
    assert structure_radius(100, 0.03) == 3
    assert structure_band([100, 50], 0.04, radius_frames=7) == ([7, 7], [0.07, 0.14])
    assert structure_band([100, 50], 0.04, radius_frames=7, radii=[0.1, 0.01]) == ([10, 1], [0.1, 0.01])


def test_float32_prefix_product_is_accurate_at_one_million_frames():
    n, k, radius = 1_000_000, 3, 0.04
    rng = np.random.default_rng(0)
    x64 = rng.random((n, k))
    x32 = torch.from_numpy(x64.astype(np.float32))
    w = structure_radius(n, radius)
    out = structure_product(x32, w, radius)
    assert out.dtype == torch.float32
    x_ref = x32.double().numpy()
    for i in rng.integers(0, n, size=40).tolist() + [0, n - 1, w, n - w - 1]:
        lo, hi = max(i - w, 0), min(i + w + 1, n)
        direct = (x_ref[lo:hi].sum(axis=0) - x_ref[i]) / radius  # float64, summed directly
        np.testing.assert_allclose(out[i].double().numpy(), direct, rtol=1e-5)


def test_batched_temporal_prior_uses_each_video_length():
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    prior = batched_temporal_prior(mask, 3, rho=0.2, dtype=torch.float64)
    torch.testing.assert_close(prior[0], temporal_prior(4, 3, 0.2, dtype=torch.float64))
    torch.testing.assert_close(prior[1, :2], temporal_prior(2, 3, 0.2, dtype=torch.float64))
    assert (prior[1, 2:] == 0).all()


def test_batched_centred_prior_uses_each_video_length():
    mask = torch.tensor([[True, True, True, True, True], [True, True, True, False, False]])
    prior = batched_temporal_prior(mask, 2, rho=0.5, centred=True, dtype=torch.float64)
    torch.testing.assert_close(prior[0], temporal_prior(5, 2, 0.5, centred=True, dtype=torch.float64))
    torch.testing.assert_close(prior[1, :3], temporal_prior(3, 2, 0.5, centred=True, dtype=torch.float64))
    assert (prior[1, 3:] == 0).all()


def test_centred_prior_values():
    # frames at (i + 1/2)/4 = 1/8, 3/8, 5/8, 7/8; actions at (j + 1/2)/2 = 1/4, 3/4
    expected = torch.tensor([[1, 5], [1, 3], [3, 1], [5, 1]], dtype=torch.float64) / 8
    torch.testing.assert_close(temporal_prior(4, 2, 1.0, centred=True, dtype=torch.float64), expected)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 400), k=st.integers(1, 12))
def test_centred_prior_is_symmetric_in_time_and_prefers_the_equal_parts(n, k):
    """Reversing time and the actions maps the centred prior onto itself (the paper's prior is
    not: it favours the last action), and its nearest action is the equal part that contains the
    frame's centre (up to ties on a part boundary)."""
    prior = temporal_prior(n, k, 1.0, centred=True, dtype=torch.float64)
    torch.testing.assert_close(prior, prior.flip(0).flip(1), rtol=0, atol=1e-12)
    part = np.minimum(((np.arange(n) + 0.5) * k / n).astype(np.int64), k - 1)
    rows = np.arange(n)
    best = prior.numpy().min(axis=1)
    np.testing.assert_allclose(prior.numpy()[rows, part], best, rtol=0, atol=1e-12)


def test_paper_prior_is_unchanged_and_not_symmetric():
    prior = temporal_prior(4, 2, 1.0, dtype=torch.float64)
    torch.testing.assert_close(prior, torch.tensor([[0, 2], [1, 1], [2, 0], [3, 1]], dtype=torch.float64) / 4)
    assert not torch.allclose(prior, prior.flip(0).flip(1))


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((np.zeros(10), 2, 0.2), ValueError, r"x must have shape \(N, K\) or \(B, N, K\)"),
        ((torch.zeros(10, 3, dtype=torch.int64), 2, 0.2), TypeError, "x must be a float tensor"),
        ((torch.zeros(10, 3), -1, 0.2), ValueError, "half_width w must be >= 0"),
        ((torch.zeros(10, 3), 2.0, 0.2), ValueError, "half_width must be an integer"),
        ((torch.zeros(2, 10, 3), torch.tensor([1, 2, 3]), 0.2), ValueError, "2 integers \\(one per video\\)"),
        ((torch.zeros(10, 3), 2, 0.0), ValueError, "radius r must be a positive number"),
        ((torch.zeros(2, 10, 3), 2, torch.tensor([0.1, -0.1])), ValueError, "radius r must be positive"),
    ],
)
def test_structure_product_checks_its_arguments(args, error, match):
    with pytest.raises(error, match=match):
        structure_product(*args)


def test_temporal_prior_checks_its_arguments():
    assert temporal_prior(np.int64(4), np.int64(2)).shape == (4, 2)  # numpy integers are integers
    with pytest.raises(ValueError, match="rho must be a finite non-negative number"):
        temporal_prior(4, 2, rho="a")
    with pytest.raises(TypeError, match="dtype must be a torch floating dtype"):
        temporal_prior(4, 2, dtype=torch.int64)
    with pytest.raises(TypeError, match="centred must be a bool"):
        temporal_prior(4, 2, centred="yes")
