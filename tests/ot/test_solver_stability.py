"""The automatic step keeps mirror descent stable (large lambda, free frame masses), and an
unstable fixed step is refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import require_shared
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import asot
from asot.cli import app
from asot.decoders import DEFAULT_DECODE_CONFIG
from asot.ot.iteration import STEP_SCALE, automatic_step, curvature

runner = CliRunner()
DA = ("data", "asot_examples", "affinity", "2020-04-19_14-03-25.npy")


def _da_cost() -> np.ndarray:
    return (1.0 - np.load(require_shared(*DA))).astype(np.float32)


def _segment(tmp_path, *flags):
    out = tmp_path / "out"
    result = runner.invoke(app, ["segment", str(require_shared(*DA)), "--kind", "affinity", "--out", str(out),
                                 "--no-progress", *map(str, flags)])
    return result, out


def test_step_rule_is_the_published_one_where_that_is_stable():
    g_max = np.array([0.5, 1.0, 3.0])
    for lam in (0.0, 0.05, 0.1):
        config = asot.SolverConfig(eps=0.07, lambda_actions=lam)
        step = automatic_step(g_max, curvature(config))
        published = STEP_SCALE / g_max
        stable = published * curvature(config) <= 1.0
        np.testing.assert_array_equal(step[stable], published[stable])
        assert np.all(step * curvature(config) <= 1.0 + 1e-12)


@pytest.mark.parametrize("backend", ["cpu-kernel", "torch"])
def test_large_lambda_keeps_several_classes_and_descends(backend):
    """lambda_actions = 10 with the automatic step: the objective fell then rose 60x and every
    frame got one class (the step was s = 4 / max G with s * lambda = 3.5)."""
    cost = _da_cost()
    result = asot.solve(cost, config=DEFAULT_DECODE_CONFIG.replace(lambda_actions=10.0), backend=backend)
    objective = result.objective.numpy()
    assert objective[-1] < objective[0]
    assert np.all(np.diff(objective) <= 1e-6 * np.abs(objective[:-1]).max())  # monotone, up to rounding
    assert len(np.unique(result.labels.numpy())) > 5
    assert float(result.step_size) * (DEFAULT_DECODE_CONFIG.eps + 10.0) <= 1.0 + 1e-6


def test_cli_lambda_actions_10_does_not_collapse_to_one_class(tmp_path):
    result, out = _segment(tmp_path, "--lambda-actions", "10")
    assert result.exit_code == 0, result.output
    labels = (out / "2020-04-19_14-03-25").read_text().split()
    assert len(labels) == 745
    assert len(set(labels)) > 5


def test_unbalanced_frames_with_the_automatic_step_converges():
    """Free frame masses: the automatic step sent the mass to 0 or to the cap (objective 0.53 ->
    46,000); it now backs off when the objective rises."""
    cost = _da_cost()
    for config in (asot.SolverConfig(eps=0.043, alpha=0.06, lambda_frames=10.0, unbalanced_frames=True),
                   asot.SolverConfig(eps=0.152, alpha=0.15, lambda_actions=0.0, lambda_frames=10.0, unbalanced_frames=True),
                   asot.SolverConfig(eps=0.37, alpha=0.91, lambda_actions=0.0, lambda_frames=1.0, unbalanced_frames=True)):
        result = asot.solve(cost, config=config)
        objective = result.objective.numpy()
        assert np.isfinite(objective).all() and objective[-1] < objective[0], config
        rows = result.coupling.sum(dim=1).numpy()
        assert 0.05 < rows.mean() < 2.0, (config, rows.mean())


def test_cli_unbalanced_frames_without_step_size_keeps_the_mass(tmp_path):
    result, out = _segment(tmp_path, "--unbalanced-frames", "--lambda-frames", "10", "--eps", "0.043",
                           "--alpha", "0.06", "--save-coupling")
    assert result.exit_code == 0, result.output
    coupling = np.load(out / "couplings" / "2020-04-19_14-03-25.npy")
    assert np.isfinite(coupling).all()
    assert 0.05 < coupling.sum(axis=1).mean() < 2.0  # was 264 (every entry at the cap)


def test_an_unstable_step_size_is_refused():
    with pytest.raises(ValueError, match=r"SolverConfig.step_size: 1000 .*step_size < 16\.67"):
        asot.SolverConfig(step_size=1000.0)
    asot.SolverConfig(step_size=16.0)  # below 2 / (eps + lambda_actions) = 16.67
    asot.SolverConfig(step_size=1000.0, unbalanced_actions=False)  # balanced: no mirror step is taken
    with pytest.raises(ValueError, match="lambda_frames"):
        asot.SolverConfig(step_size=10.0, unbalanced_frames=True)


def test_cli_step_size_1000_on_float32_is_a_clear_error(tmp_path):
    """It was a ZeroDivisionError traceback from the fused kernel (float32 overflowed)."""
    result, out = _segment(tmp_path, "--step-size", "1000")
    assert result.exit_code == 2
    assert "--step-size" in result.output and "step_size < " in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ZeroDivisionError)
    assert not out.exists()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 300), k=st.integers(2, 20),
       lam=st.one_of(st.floats(0.0, 1.0), st.floats(1.0, 1e6)), eps=st.floats(0.005, 1.0), alpha=st.floats(0.0, 1.0),
       variant=st.sampled_from(["actions", "frames", "both"]), dtype=st.sampled_from([np.float32, np.float64]))
def test_automatic_step_never_ends_above_the_uniform_start(seed, n, k, lam, eps, alpha, variant, dtype):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(-1.0, 2.0, size=(n, k)).astype(dtype)
    config = asot.SolverConfig(eps=eps, alpha=alpha, lambda_actions=lam, unbalanced_actions=variant != "frames",
                               unbalanced_frames=variant != "actions")
    result = asot.solve(cost, config=config)
    objective = result.objective.numpy().astype(np.float64)
    assert np.isfinite(objective).all() and torch.isfinite(result.coupling).all()
    # below the uniform coupling's objective, up to rounding where uniform is already optimal
    rounding = (1e-5 if dtype == np.float32 else 1e-9) * max(1.0, abs(objective[0]))
    assert objective[-1] <= objective[0] + rounding
