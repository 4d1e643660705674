"""Model outputs -> costs (asot.scores): each kind, the transpose flag, and input validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from asot.scores import PROB_FLOOR, check_scores, softmax, to_cost


def _probs(n: int = 6, k: int = 3, seed: int = 0, dtype=np.float64) -> np.ndarray:
    x = np.random.default_rng(seed).random((n, k)) + 0.05
    return (x / x.sum(axis=1, keepdims=True)).astype(dtype)


def test_prob_one_minus_is_the_default():
    p = _probs()
    np.testing.assert_allclose(to_cost(p, "prob"), 1.0 - p)


def test_prob_neg_log_is_floored():
    p = np.array([[1.0, 0.0], [0.25, 0.75]])
    cost = to_cost(p, "prob", prob_cost="neg-log")
    np.testing.assert_allclose(cost, [[0.0, -np.log(PROB_FLOOR)], [-np.log(0.25), -np.log(0.75)]])
    assert np.isfinite(cost).all()


def test_logit_is_softmax_then_prob_cost():
    logits = np.random.default_rng(1).normal(size=(5, 4)) * 10
    expected = softmax(logits.copy())
    np.testing.assert_allclose(expected.sum(axis=1), 1.0)
    np.testing.assert_allclose(to_cost(logits, "logit"), 1.0 - expected)
    # -log softmax computed exactly, even for extreme logits
    np.testing.assert_allclose(to_cost(logits, "logit", prob_cost="neg-log"), -np.log(expected), rtol=1e-10, atol=1e-12)
    huge = np.array([[1000.0, 0.0]])
    np.testing.assert_allclose(to_cost(huge, "logit", prob_cost="neg-log"), [[0.0, 1000.0]])


def test_affinity_is_one_minus_and_keeps_float32():
    a = np.random.default_rng(2).uniform(-1, 1, size=(7, 3)).astype(np.float32)
    cost = to_cost(a, "affinity")
    assert cost.dtype == np.float32
    np.testing.assert_array_equal(cost, np.float32(1.0) - a)  # bit-identical to `1 - affinity`


def test_cost_is_copied_as_is_and_integers_become_float64():
    c = np.arange(6).reshape(3, 2)
    out = to_cost(c, "cost")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, c)
    f = np.ones((2, 2), dtype=np.float32)
    out = to_cost(f, "cost")
    out[0, 0] = 5
    assert f[0, 0] == 1  # a copy


def test_torch_input_is_accepted():
    p = torch.tensor(_probs())
    np.testing.assert_allclose(to_cost(p, "prob"), 1.0 - p.numpy())


@pytest.mark.parametrize("kind", ["prob", "logit", "affinity", "cost"])
def test_transpose_reads_classes_by_frames(kind):
    x = _probs(n=9, k=4)
    np.testing.assert_array_equal(to_cost(x.T, kind, transpose=True), to_cost(x, kind))
    assert to_cost(x.T, kind, transpose=True).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros(5), "expected a 2-D array"),
        (np.zeros((1, 5, 3)), "drop the leading batch dimension"),
        (np.zeros((2, 3, 4, 5)), "4 dimension"),
        (np.zeros((0, 3)), "at least one frame"),
    ],
)
def test_wrong_shape_names_the_input(array, message):
    with pytest.raises(ValueError, match=message) as info:
        to_cost(array, "cost", name="scores/video7.npy")
    assert str(info.value).startswith("scores/video7.npy:")


@pytest.mark.parametrize("kind", ["prob", "logit", "affinity", "cost"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_refused(kind, bad):
    x = _probs()
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"v\.npy: contains (NaN|Inf).*frame 3, class 1"):
        to_cost(x, kind, name="v.npy")


def test_negative_probabilities_are_refused_with_a_hint():
    p = _probs()
    p[2, 0] = -0.1
    with pytest.raises(ValueError, match=r"out\.npz\[v1\]: probabilities must be non-negative.*frame 2, class 0.*--kind logit"):
        to_cost(p, "prob", name="out.npz[v1]")


def test_probabilities_above_one_are_refused():
    p = np.array([[1.5, -0.0]])
    with pytest.raises(ValueError, match="must be <= 1"):
        to_cost(p, "prob")


def test_rows_must_sum_to_one():
    p = _probs()
    p[4] *= 0.5
    with pytest.raises(ValueError, match=r"must sum to 1.*1 of 6 rows.*frame 4"):
        to_cost(p, "prob", name="x")


def test_transposed_probabilities_get_a_transpose_hint():
    p = _probs(n=4, k=6)  # rows sum to 1; as given transposed, columns do
    with pytest.raises(ValueError, match="--transpose"):
        to_cost(p.T, "prob")


def test_small_rounding_in_probabilities_is_tolerated():
    p = _probs(dtype=np.float32)
    p[0] *= 1.0 + 5e-4
    assert to_cost(p, "prob").dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [({"kind": "probs"}, "unknown kind"), ({"kind": "prob", "prob_cost": "log"}, "prob_cost")])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        to_cost(_probs(), **kwargs)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        check_scores(np.array([["a", "b"]]), "cost")
    with pytest.raises(TypeError, match="numeric"):
        check_scores(np.ones((2, 2), dtype=bool), "cost")


@pytest.mark.parametrize("prob_cost", ["one-minus", "neg-log"])
def test_minus_inf_logits_are_masked_classes(prob_cost):
    logits = np.random.default_rng(0).normal(size=(30, 4))
    logits[:, 3] = -np.inf  # class 3 impossible
    cost = to_cost(logits, "logit", prob_cost=prob_cost)
    assert np.isfinite(cost).all()
    expected = to_cost(logits[:, :3], "logit", prob_cost=prob_cost)
    np.testing.assert_allclose(cost[:, :3], expected)  # the other classes are as if class 3 did not exist
    assert (cost[:, 3] >= expected.max()).all()
    logits[5] = -np.inf
    with pytest.raises(ValueError, match="every logit of frame 5 is -inf"):
        to_cost(logits, "logit", prob_cost=prob_cost)
