"""Decoders (asot.decoders): one interface, batching, and each decoder's defining property."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import asot
from asot.decoders import (
    DECODERS,
    DEFAULT_DECODE_CONFIG,
    ArgmaxDecoder,
    ASOTDecoder,
    MedianDecoder,
    SinkhornDecoder,
    ViterbiDecoder,
    decode,
    estimate_order,
    get_decoder,
    mode_filter,
    pad_batch,
    viterbi_ordered,
)


def _blocky_cost(seed: int = 0, lengths=(30, 20, 40), k: int = 4, noise: float = 0.35, order=None) -> tuple[np.ndarray, np.ndarray]:
    """Cost of a video whose true classes come in blocks, plus per-frame noise."""
    rng = np.random.default_rng(seed)
    classes = list(range(len(lengths))) if order is None else list(order)
    gt = np.repeat(classes, lengths)
    cost = 0.8 + noise * rng.standard_normal((gt.size, k))
    cost[np.arange(gt.size), gt] -= 0.6
    return cost, gt


def _segments(labels: np.ndarray) -> int:
    return 1 + int(np.count_nonzero(np.diff(labels)))


# -- the common interface -------------------------------------------------------------------


def test_registry_lists_every_decoder():
    assert list(DECODERS) == ["asot", "argmax", "sinkhorn", "viterbi", "median"]
    for name in DECODERS:
        assert get_decoder(name).name == name
    with pytest.raises(ValueError, match="unknown decoder 'hmm'"):
        get_decoder("hmm")


@pytest.mark.parametrize("name", list(DECODERS))
def test_batched_with_mask_equals_one_video_at_a_time(name):
    rng = np.random.default_rng(3)
    videos = [rng.random((n, 5)) for n in (40, 23, 31)]
    padded, mask = pad_batch(videos)
    decoder = get_decoder(name)
    out = decoder.decode(padded, mask)
    assert out.labels.shape == (3, 40) and out.labels.dtype == np.int64
    for b, v in enumerate(videos):
        n = v.shape[0]
        single = decoder.decode(v)
        np.testing.assert_array_equal(out.labels[b, :n], single.labels)
        assert (out.labels[b, n:] == -1).all()
        if decoder.has_coupling:
            np.testing.assert_allclose(out.coupling[b, :n], single.coupling, atol=1e-6)
            row_tol = SinkhornDecoder().tol if name == "sinkhorn" else 1e-6  # sinkhorn: rows within its tol
            np.testing.assert_allclose(out.coupling[b, :n].sum(axis=1), 1.0, atol=row_tol)
            assert (out.coupling[b, n:] == 0).all()
        else:
            assert out.coupling is None and single.coupling is None


@pytest.mark.parametrize("name", list(DECODERS))
def test_decode_many_keeps_input_order_across_batches_and_class_counts(name):
    rng = np.random.default_rng(4)
    videos = [rng.random((n, k)) for n, k in [(30, 4), (12, 3), (25, 4), (40, 3), (18, 4)]]
    decoder = get_decoder(name)
    seen = []
    many = decoder.decode_many(videos, batch_size=2, callback=lambda i, d: seen.append(i))
    assert sorted(seen) == list(range(5))
    for v, d in zip(videos, many):
        np.testing.assert_array_equal(d.labels, decoder.decode(v).labels)
    with pytest.raises(ValueError, match="batch_size"):
        decoder.decode_many(videos, batch_size=0)


def test_callable_and_functional_forms_agree():
    cost, _ = _blocky_cost()
    np.testing.assert_array_equal(ArgmaxDecoder()(cost), decode(cost, "argmax"))
    np.testing.assert_array_equal(decode(cost, "median", window=5), MedianDecoder(5)(cost))


def test_torch_input_and_bad_input():
    cost, _ = _blocky_cost()
    np.testing.assert_array_equal(decode(torch.tensor(cost), "viterbi"), decode(cost, "viterbi"))
    with pytest.raises(ValueError, match="expected shape"):
        decode(np.zeros(4), "argmax")
    bad = cost.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        decode(bad, "median")
    with pytest.raises(ValueError, match="mask"):
        decode(cost[None], "argmax", mask=np.zeros((1, cost.shape[0]), bool))


# -- each decoder ---------------------------------------------------------------------------


def test_argmax_is_the_per_frame_minimum_cost():
    cost = np.random.default_rng(5).random((50, 6))
    np.testing.assert_array_equal(decode(cost, "argmax"), cost.argmin(axis=1))


def test_asot_decoder_is_the_solver_with_eval_defaults():
    cost, gt = _blocky_cost(noise=0.5)
    out = ASOTDecoder().decode(cost)
    ref = asot.solve(cost, config=DEFAULT_DECODE_CONFIG)
    np.testing.assert_array_equal(out.labels, ref.labels.numpy())
    np.testing.assert_allclose(out.coupling, ref.coupling.numpy())
    # temporally consistent: far fewer segments than per-frame argmax
    assert _segments(out.labels) < _segments(cost.argmin(axis=1))
    assert ASOTDecoder(eps=0.02).config == DEFAULT_DECODE_CONFIG.replace(eps=0.02)
    with pytest.raises(TypeError, match="SolverConfig"):
        ASOTDecoder(config={"eps": 0.1})


def test_sinkhorn_equipartitions_frames_over_classes():
    rng = np.random.default_rng(6)
    cost = rng.random((60, 4))
    cost[:, 0] -= 0.5  # argmax would give almost every frame to class 0
    out = SinkhornDecoder(eps=0.05, tol=1e-9, n_iters=5000).decode(cost)
    np.testing.assert_allclose(out.coupling.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out.coupling.sum(axis=0), 60 / 4, rtol=1e-6)
    assert np.bincount(out.labels, minlength=4).min() >= 10  # balanced hard labels too
    assert np.bincount(cost.argmin(axis=1), minlength=4)[0] > 30
    with pytest.raises(ValueError, match="eps"):
        SinkhornDecoder(eps=0)


def test_sinkhorn_with_large_eps_is_near_uniform():
    cost = np.random.default_rng(7).random((20, 3))
    out = SinkhornDecoder(eps=100.0).decode(cost)
    np.testing.assert_allclose(out.coupling, 1 / 3, atol=0.01)


def _brute_force_ordered(cost, order, allow_skip):
    n, m = cost.shape[0], len(order)
    best = np.inf
    for states in itertools.product(range(m), repeat=n):
        if any(b < a for a, b in zip(states, states[1:])):
            continue
        if not allow_skip and (states[0] != 0 or states[-1] != m - 1 or any(b - a > 1 for a, b in zip(states, states[1:]))):
            continue
        best = min(best, sum(cost[i, order[s]] for i, s in enumerate(states)))
    return best


def test_viterbi_is_the_exact_minimum_over_ordered_paths():
    rng = np.random.default_rng(8)
    for _ in range(60):
        n, k = int(rng.integers(1, 7)), int(rng.integers(1, 5))
        cost = rng.random((n, k))
        order = [int(c) for c in rng.permutation(k)[: rng.integers(1, k + 1)]]
        for allow_skip in (True, False):
            if not allow_skip and n < len(order):
                continue
            labels = viterbi_ordered(cost, order, allow_skip)
            total = cost[np.arange(n), labels].sum()
            assert total == pytest.approx(_brute_force_ordered(cost, order, allow_skip), abs=1e-12)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(1, 60),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
def test_viterbi_visits_each_class_once_in_order(n, k, seed, allow_skip):
    rng = np.random.default_rng(seed)
    cost = rng.random((n, k))
    order = [int(c) for c in rng.permutation(k)]
    if not allow_skip and n < k:
        with pytest.raises(ValueError, match="without skipping"):
            viterbi_ordered(cost, order, allow_skip)
        return
    labels = viterbi_ordered(cost, order, allow_skip)
    runs = [int(labels[0])] + [int(b) for a, b in zip(labels, labels[1:]) if a != b]
    assert len(runs) == len(set(runs))  # at most one segment per class
    positions = [order.index(c) for c in runs]
    assert positions == sorted(positions)
    if not allow_skip:
        assert runs == order


def test_viterbi_recovers_the_ordered_blocks_and_estimates_the_order():
    cost, gt = _blocky_cost(seed=9, lengths=(30, 25, 35, 20), k=5, order=(3, 0, 4, 1))
    assert [c for c in estimate_order(cost) if c != 2] == [3, 0, 4, 1]  # class 2 is absent: noise only
    labels = ViterbiDecoder().decode(cost).labels
    assert _segments(labels) <= 5
    assert (labels == gt).mean() > 0.9
    # a wrong fixed order cannot produce the blocks; no-skip forces every class in
    forced = ViterbiDecoder(order=[0, 1, 2, 3, 4], allow_skip=False).decode(cost).labels
    runs = [int(forced[0])] + [int(b) for a, b in zip(forced, forced[1:]) if a != b]
    assert runs == [0, 1, 2, 3, 4]


def test_estimate_order_by_mean_relative_time():
    cost = np.ones((10, 4))
    cost[[0, 1, 9], 2] = 0  # class 2: mean time (0.05 + 0.15 + 0.95) / 3
    cost[[2, 3], 0] = 0  # class 0 early
    cost[[4, 5, 6, 7, 8], 1] = 0  # class 1 middle; class 3 never argmax -> left out
    assert estimate_order(cost) == [0, 2, 1]
    # pooled over videos of different lengths (relative time)
    a = np.ones((4, 2))
    a[:2, 1] = 0
    a[2:, 0] = 0
    b = np.ones((8, 2))
    b[:, 0] = 0
    assert estimate_order([a, b]) == [1, 0]


def test_viterbi_global_order_from_fit():
    first, _ = _blocky_cost(seed=10, order=(2, 0, 1))
    second, _ = _blocky_cost(seed=11, order=(2, 0, 1))
    decoder = ViterbiDecoder(order="global").fit([first, second])
    assert [c for c in decoder.order_ if c < 3] == [2, 0, 1]
    assert _segments(decoder(first)) <= 4
    with pytest.raises(ValueError, match="order"):
        ViterbiDecoder(order="sometimes")
    with pytest.raises(ValueError, match="out of range"):
        ViterbiDecoder(order=[0, 7])(first)


def test_mode_filter_hand_example():
    labels = np.array([0, 0, 1, 0, 0, 2, 2, 2, 1, 2, 2])
    np.testing.assert_array_equal(mode_filter(labels, 3), [0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2])
    np.testing.assert_array_equal(mode_filter(labels, 1), labels)
    # ties keep the frame's own label: window 3 over [0, 1] at the edge is a 1-1 tie
    np.testing.assert_array_equal(mode_filter(np.array([0, 1]), 3), [0, 1])
    with pytest.raises(ValueError, match="odd"):
        mode_filter(labels, 4)


def test_median_decoder_removes_short_flips_only():
    cost, gt = _blocky_cost(seed=12, noise=0.0)
    labels = gt.copy()
    cost[[10, 11], 3] = -1  # a 2-frame flip to class 3
    assert _segments(decode(cost, "argmax")) == _segments(gt) + 2
    np.testing.assert_array_equal(MedianDecoder(window=7)(cost), labels)
    with pytest.raises(ValueError, match="odd"):
        MedianDecoder(window=0)
