"""The order-consistency signal of the data-driven prior weight (asot.training.order_prior)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asot.training.order_prior import action_positions, order_consistency


def _video(order, lengths):
    return np.concatenate([np.full(n, a) for a, n in zip(order, lengths)])


def test_one_order_is_fully_consistent_and_the_reversed_order_fully_inconsistent():
    same = [_video([0, 1, 2, 3], [10, 20, 30, 40]), _video([0, 1, 2, 3], [40, 30, 20, 10])]
    assert order_consistency(same) == pytest.approx(1.0)
    flipped = [_video([0, 1, 2, 3], [10] * 4), _video([3, 2, 1, 0], [10] * 4)]
    assert order_consistency(flipped) == pytest.approx(-1.0)


def test_too_few_shared_actions_or_tiny_runs_give_no_signal():
    assert order_consistency([_video([0, 1], [50, 50]), _video([0, 1], [30, 70])]) is None
    assert order_consistency([_video([0, 1, 2], [50, 50, 50])]) is None
    assert action_positions(_video([0, 1], [999, 1])) == {0: pytest.approx(499 / 999)}  # 1 frame < 2%


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(3, 8))
def test_renaming_the_actions_does_not_change_the_consistency(seed, k):
    rng = np.random.default_rng(seed)
    videos = [_video(rng.permutation(k), rng.integers(5, 40, k)) for _ in range(4)]
    names = rng.permutation(k)
    assert order_consistency([names[v] for v in videos]) == pytest.approx(order_consistency(videos))


def test_a_given_strong_prior_is_not_reported_as_a_retraining():
    """rho_auto with a preset weight already >= ORDERED_RHO: one training, recorded as kept."""
    from types import SimpleNamespace

    from asot.training.order_prior import ORDERED_RHO, fit_with_order_prior

    calls = []

    def fit(videos, preset, **kwargs):
        calls.append(preset.rho)
        preds = {f"v{i}": _video([0, 1, 2, 3], [10, 20, 30, 40]) for i in range(3)}
        return SimpleNamespace(module=SimpleNamespace(rho_used=preset.rho), predictions=preds, order_prior=None)

    preset = SimpleNamespace(rho_auto=True, rho=ORDERED_RHO)
    kept = fit_with_order_prior(fit, [], preset, activity="a")
    assert calls == [ORDERED_RHO] and kept.order_prior["retrained"] is False and kept.order_prior["consistency"] == 1.0
