"""The minimum-run filter (asot.runs.min_run): short runs merged into a neighbour, shortest first."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.runs import min_run, min_run_length, run_length_encode


def test_min_run_length_rounds_half_up_and_is_at_least_one():
    assert min_run_length(1000, 0.0) == 1
    assert min_run_length(1000, 0.0025) == 3  # 2.5 -> 3, not banker's 2
    assert min_run_length(10, 0.01) == 1
    assert min_run_length(4000, 0.01) == 40
    for bad in (-0.1, 1.0, True, "0.1", float("nan")):
        with pytest.raises(ValueError, match=r"^min-run fraction: expected a number in \[0, 1\), got"):
            min_run_length(10, bad)


def test_hand_cases():
    x = np.array([0] * 10 + [1] * 2 + [0] * 3 + [2] + [1] * 20)  # N 36, f 0.1: L 4
    # shortest first: the 2 (1 frame) joins its longer neighbour (1 x 20), then 1 1 falls between two 0 runs: one run
    assert min_run(x, 0.1).tolist() == [0] * 15 + [1] * 21
    assert min_run(x, 0.0).tolist() == x.tolist()
    assert min_run(np.array([3, 3, 1]), 0.5).tolist() == [3, 3, 3]  # an edge run has one neighbour
    assert min_run(np.array([4, 5]), 0.9).tolist() == [5, 5]  # shorter than L: one run (the earliest shortest run goes first)
    assert min_run(np.zeros(0, dtype=np.int64), 0.5).tolist() == []


def test_the_cost_chooses_the_neighbour():
    x = np.array([0] * 10 + [1] * 2 + [2] * 20)
    cost = np.ones((32, 3))
    cost[10:12, 0] = 0.0  # the short run's frames fit action 0 better than the longer neighbour 2
    assert min_run(x, 0.1, cost).tolist() == [0] * 12 + [2] * 20
    assert min_run(x, 0.1).tolist() == [0] * 10 + [2] * 22  # without costs: the longer neighbour
    with pytest.raises(ValueError, match=r"^cost: expected shape \(32, K\) for 32 frames, got \(31, 3\)$"):
        min_run(x, 0.1, cost[:31])
    with pytest.raises(ValueError, match=r"^labels: expected ids in \[0, 2\)"):
        min_run(x, 0.1, cost[:, :2])


def test_long_flicker_is_fast_and_deterministic():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 50_000)
    a, b = min_run(x, 0.01), min_run(x.copy(), 0.01)
    assert np.array_equal(a, b) and run_length_encode(a).lengths.min() >= 500


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=60), st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9]), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_properties(labels, fraction, with_cost, seed):
    x = np.asarray(labels, dtype=np.int64)
    cost = np.random.default_rng(seed).random((x.size, 4)) if with_cost else None
    y = min_run(x, fraction, cost)
    length = min_run_length(x.size, fraction)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert set(y.tolist()) <= set(x.tolist())  # labels of the input only
    runs = run_length_encode(y)
    if x.size >= length:
        assert runs.lengths.size == 0 or runs.lengths.min() >= length
    else:
        assert runs.labels.size <= 1  # a video shorter than L is one run
    assert np.array_equal(min_run(y, fraction, cost), y)  # idempotent
    if length == 1:
        assert np.array_equal(y, x)
