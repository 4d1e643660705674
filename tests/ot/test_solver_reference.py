"""The solver reproduces the published implementation's outputs (../shared/reference)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import asot
from conftest import require_shared

CASES = [
    "unbalanced_train_defaults",
    "unbalanced_eval_small_eps",
    "unbalanced_with_temporal_prior",
    "no_gw_alpha0",
    "balanced_sinkhorn_1_inner",
    "balanced_sinkhorn_10_inner",
    "unbalanced_frames_only",
    "fully_unbalanced_manual_step",
    "uniform_random_cost",
    "float32_n4096_k19",
    "fifty_iterations",
    "real_desktop_assembly_2020-04-19_14-03-25",
    "real_breakfast_P36_webcam01_P36_salat",
]


def config_from_reference(params: dict) -> asot.SolverConfig:
    """Translate the published implementation's vocabulary into a SolverConfig."""
    outer, inner = params["n_iters"]
    return asot.SolverConfig(
        eps=params["eps"],
        alpha=params["alpha"],
        radius=params["radius"],
        lambda_actions=params["lambda_actions"],
        lambda_frames=params["lambda_frames"],
        unbalanced_actions=params["ub_actions"],
        unbalanced_frames=params["ub_frames"],
        n_iters=outer,
        sinkhorn_iters=inner,
        step_size=params.get("step_size"),
    )


def test_every_reference_case_is_listed():
    index = json.loads(require_shared("reference", "index.json").read_text())
    assert sorted(case["case"] for case in index) == sorted(CASES)


@pytest.mark.parametrize("iterate", ["default", "log-t-alone"])
@pytest.mark.parametrize("case", CASES)
def test_reference_case(case, iterate, monkeypatch):
    """Every case, with the CPU kernel's iterate as it is chosen for the case's size and, forced,
    held as log T alone (the mode of iterates of IN_PLACE_BYTES and more)."""
    if iterate == "log-t-alone":
        from asot.ot import _cpu_kernel

        monkeypatch.setattr(_cpu_kernel, "IN_PLACE_BYTES", 0)
    data = np.load(require_shared("reference", f"{case}.npz"))
    params = json.loads(str(data["params"]))
    cost = data["cost"]
    assert str(cost.dtype) == params["dtype"]
    result = asot.solve(cost, config=config_from_reference(params))
    coupling = result.coupling.numpy()
    tolerance = 1e-5 if params["dtype"] == "float64" else 1e-4
    assert coupling.dtype == cost.dtype
    np.testing.assert_allclose(coupling, data["coupling"], atol=tolerance, rtol=0)
    labels = result.labels.numpy()
    differ = np.flatnonzero(labels != data["labels"])
    # a differing label is only acceptable where the two actions tie within rounding
    rows = np.arange(len(labels))
    gap = np.abs(data["coupling"][differ, labels[differ]] - data["coupling"][differ, data["labels"][differ]])
    assert np.all(gap <= tolerance), f"labels differ at frames {differ[:10]} without a tie"
    assert len(rows) == cost.shape[0]
    assert result.objective.shape == (params["n_iters"][0] + 1,)
    assert np.isfinite(result.objective.numpy()).all()
