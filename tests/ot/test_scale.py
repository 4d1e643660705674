"""The label-free segment-scale rule tracks the true segment length (radius="auto" groundwork)."""

from __future__ import annotations

import numpy as np
import pytest

from asot.ot.scale import segment_scale


def piecewise_sequence(seed: int, seg_len: int, n_segments: int = 40, n_states: int = 6, dim: int = 16,
                       noise: float = 1.0, jitter: float = 0.3):
    """Recurring states (like ActRecTut), segment lengths uniform in seg_len * [1 - jitter, 1 + jitter]."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((n_states, dim))
    lengths = np.maximum(1, (seg_len * (1 + jitter * rng.uniform(-1, 1, n_segments))).astype(int))
    states, previous = [], -1
    for length in lengths:
        state = rng.integers(n_states)
        while state == previous:
            state = rng.integers(n_states)
        states += [state] * int(length)
        previous = state
    states = np.asarray(states)
    return prototypes[states] + noise * rng.standard_normal((len(states), dim)), lengths.mean()


@pytest.mark.parametrize("seg_len", [10, 20, 50, 100, 200])
@pytest.mark.parametrize("noise", [0.5, 1.5])
def test_scale_tracks_true_segment_length_within_factor_two(seg_len, noise):
    x, true_mean = piecewise_sequence(seg_len, seg_len, noise=noise)
    scale = segment_scale(x)
    assert scale is not None
    assert true_mean / 2 <= scale <= 2 * true_mean, (scale, true_mean)


def test_rule_is_deterministic_and_falls_back_without_structure():
    x, _ = piecewise_sequence(0, 50)
    assert segment_scale(x) == segment_scale(x.copy())
    constant = np.ones((100, 4))
    assert segment_scale(constant) is None
    assert segment_scale(np.ones((3, 2))) is None  # too short


def test_bad_input():
    with pytest.raises(ValueError, match="expected a \\(N, D\\) sequence"):
        segment_scale(np.ones(10))
    with pytest.raises(ValueError, match="NaN"):
        segment_scale(np.full((10, 2), np.nan))


def test_segment_count():
    from asot.ot.scale import count_segments

    once = np.repeat([0, 1, 2, 3], 50)
    recurring = np.tile(np.repeat([0, 1, 2], 10), 6)
    assert count_segments(once) == 4
    assert count_segments(recurring) == 18
    assert count_segments(np.r_[np.zeros(50), [1], np.zeros(49)], min_length=4) == 2  # short blips not counted
