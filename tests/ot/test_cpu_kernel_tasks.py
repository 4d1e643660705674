"""How the fused CPU kernel splits a pass over threads does not change its result."""

import numpy as np
import pytest
import torch

import asot
from asot.ot import _cpu_kernel

pytestmark = pytest.mark.skipif(not _cpu_kernel.AVAILABLE, reason="numba is not installed")


def _solve_on(threads, cost, mask, config):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        return asot.solve(cost, mask=mask, config=config, backend="cpu-kernel")
    finally:
        torch.set_num_threads(before)


def test_a_small_pass_runs_on_the_calling_thread_with_the_threaded_result(monkeypatch):
    """Below MIN_PARALLEL_WORK values a pass is one task; forcing the pool gives the same bits."""
    rng = np.random.default_rng(3)
    cost = rng.uniform(0, 2, size=(3, 200, 5)).astype(np.float32)
    mask = np.arange(200)[None, :] < np.array([200, 150, 90])[:, None]
    lengths = mask.sum(1)
    args = (cost, lengths, np.full(3, 8), np.full(3, 0.04))
    options = dict(alpha=0.3, eps=0.07, lambda_actions=0.05, curvature=0.12, n_iters=1, keep_iterates=False, n_threads=2)
    assert int(lengths.sum()) * 5 < _cpu_kernel.MIN_PARALLEL_WORK
    assert _cpu_kernel.KernelIterations(*args, **options).n_tasks == 1
    for tol in (None, 1e-5):
        config = asot.SolverConfig(tol=tol, n_iters=30)
        serial = _solve_on(2, cost, mask, config)
        with monkeypatch.context() as patch:
            patch.setattr(_cpu_kernel, "MIN_PARALLEL_WORK", 0)
            assert _cpu_kernel.KernelIterations(*args, **options).n_tasks == 2
            threaded = _solve_on(2, cost, mask, config)
        assert serial.n_iters == threaded.n_iters
        for field in ("coupling", "labels", "objective", "converged", "step_size"):
            assert torch.equal(getattr(serial, field), getattr(threaded, field)), field


@pytest.mark.parametrize("threads", [1, 2])
def test_zero_iterations_with_the_automatic_step_give_the_starting_objective(threads, monkeypatch):
    """n_iters = 0: no step is taken (step 0), the trace holds F of the uniform start only."""
    monkeypatch.setattr(_cpu_kernel, "MIN_PARALLEL_WORK", 0)
    rng = np.random.default_rng(5)
    cost = rng.uniform(0, 2, size=(2, 64, 4))
    mask = np.ones((2, 64), dtype=bool)
    config = asot.SolverConfig(n_iters=0)
    fused = _solve_on(threads, cost, mask, config)
    plain = asot.solve(cost, mask=mask, config=config, backend="torch")
    assert fused.n_iters == 0 and fused.objective.shape == (2, 1)
    np.testing.assert_allclose(fused.objective.numpy(), plain.objective.numpy(), rtol=1e-10)
    np.testing.assert_allclose(fused.coupling.numpy(), 1.0 / 4)
    assert (fused.step_size == 0).all()
