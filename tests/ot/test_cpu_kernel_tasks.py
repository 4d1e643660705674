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
    """Below MIN_PARALLEL_WORK values a pass is one task; forcing the team gives the same bits."""
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


@pytest.mark.parametrize("threads", [1, 2])
def test_float32_arithmetic_matches_the_torch_path_on_long_videos_cut_into_many_chunks(threads, monkeypatch):
    """float32 costs run float32 arithmetic; long videos are cut into chunks the threads claim as
    they go (each restarting its window sum): the coupling matches the torch path within the
    float32 reference tolerance, and the labels wherever the torch path's top two actions do not tie."""
    monkeypatch.setattr(_cpu_kernel, "MIN_CHUNK", 64)
    monkeypatch.setattr(_cpu_kernel, "CHUNKS_PER_THREAD", 4)
    rng = np.random.default_rng(11)
    cost = rng.uniform(0, 2, size=(2, 3000, 19)).astype(np.float32)
    mask = np.arange(3000)[None, :] < np.array([3000, 2100])[:, None]
    config = asot.SolverConfig(alpha=0.3, eps=0.07, radius=0.04, lambda_actions=0.05)
    lengths = mask.sum(1)
    widths = np.maximum(1, (lengths * 0.04).astype(np.int64))
    kernel = _cpu_kernel.KernelIterations(cost, lengths, widths, np.full(2, 0.04), alpha=0.3, eps=0.07,
                                          lambda_actions=0.05, curvature=0.12, n_iters=1, keep_iterates=False,
                                          n_threads=threads)
    assert kernel.constants.dtype == np.float32
    assert (len(kernel.chunk_video) > 2 * threads) == (threads > 1)  # several chunks per thread
    fused = _solve_on(threads, cost, mask, config)
    plain = asot.solve(cost, mask=mask, config=config, backend="torch")
    assert fused.coupling.dtype == torch.float32
    np.testing.assert_allclose(fused.coupling.numpy(), plain.coupling.numpy(), atol=1e-4)
    np.testing.assert_allclose(fused.objective.numpy(), plain.objective.numpy(), rtol=1e-5)
    top2 = np.sort(plain.coupling.numpy(), axis=2)[..., -2:]
    clear = mask & (top2[..., 1] - top2[..., 0] > 1e-4)
    np.testing.assert_array_equal(fused.labels.numpy()[clear], plain.labels.numpy()[clear])


def test_the_pass_result_does_not_depend_on_which_thread_claims_which_chunk(monkeypatch):
    """Many chunks, claimed by two threads in whatever order they get to them, or all by the
    calling thread (the same chunks): bit-identical results."""
    monkeypatch.setattr(_cpu_kernel, "MIN_CHUNK", 32)
    rng = np.random.default_rng(12)
    cost = rng.uniform(0, 2, size=(3, 2000, 7)).astype(np.float32)
    mask = np.arange(2000)[None, :] < np.array([2000, 1500, 700])[:, None]
    config = asot.SolverConfig(n_iters=25)
    threaded = _solve_on(2, cost, mask, config)
    with monkeypatch.context() as patch:  # same chunks (they depend on the thread count only), one task
        patch.setattr(_cpu_kernel, "MIN_PARALLEL_WORK", 10**9)
        serial = _solve_on(2, cost, mask, config)
    for field in ("coupling", "labels", "objective", "step_size"):
        assert torch.equal(getattr(serial, field), getattr(threaded, field)), field


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_iterate_from_log_t_alone_with_halos_at_the_cuts_matches_the_torch_path(threads, monkeypatch):
    """A large iterate is held as log T alone (forced here: IN_PLACE_BYTES = 0), updated in place;
    a video cut into chunks reads its neighbours' rows from the halo snapshot. With wide windows
    (``w`` rows each side of every cut) the float64 result is the torch path's to 1e-9, and the
    same as with T stored (the default below IN_PLACE_BYTES) and as the double-buffered iterate
    (``tol`` so small that nothing converges)."""
    monkeypatch.setattr(_cpu_kernel, "MIN_CHUNK", 16)
    monkeypatch.setattr(_cpu_kernel, "MIN_PARALLEL_WORK", 0)
    rng = np.random.default_rng(21)
    cost = rng.uniform(0, 2, size=(2, 900, 6))
    mask = np.arange(900)[None, :] < np.array([900, 200])[:, None]
    config = asot.SolverConfig(alpha=0.4, eps=0.06, radius=0.05, n_iters=30)
    stored = _solve_on(threads, cost, mask, config)
    monkeypatch.setattr(_cpu_kernel, "IN_PLACE_BYTES", 0)
    lengths = mask.sum(1)
    widths = np.maximum(1, (lengths * 0.05).astype(np.int64))
    kernel = _cpu_kernel.KernelIterations(cost, lengths, widths, np.full(2, 0.05), alpha=0.4, eps=0.06,
                                          lambda_actions=0.05, curvature=0.11, n_iters=1, keep_iterates=False,
                                          n_threads=threads)
    assert kernel.from_log
    assert (len(kernel.chunk_video) > 2 and kernel.halo.shape[0] > 0) == (threads > 1)  # the long video cut, with halos
    fused = _solve_on(threads, cost, mask, config)
    plain = asot.solve(cost, mask=mask, config=config, backend="torch")
    np.testing.assert_allclose(fused.coupling.numpy(), plain.coupling.numpy(), atol=1e-9)
    np.testing.assert_allclose(fused.objective.numpy(), plain.objective.numpy(), rtol=1e-8, atol=1e-9)
    for other in (stored, _solve_on(threads, cost, mask, config.replace(tol=1e-300))):
        assert other.n_iters == fused.n_iters
        np.testing.assert_allclose(other.coupling.numpy(), fused.coupling.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_array_equal(other.labels.numpy(), fused.labels.numpy())
    assert (fused.labels.numpy()[~mask] == -1).all() and (fused.coupling.numpy()[~mask] == 0).all()


def test_the_iterate_from_log_t_alone_in_float32_matches_the_torch_path(monkeypatch):
    """float32, log T alone, two threads, a long video cut in two: within the float32 tolerance."""
    monkeypatch.setattr(_cpu_kernel, "IN_PLACE_BYTES", 0)
    monkeypatch.setattr(_cpu_kernel, "MIN_PARALLEL_WORK", 0)
    rng = np.random.default_rng(22)
    cost = rng.uniform(0, 2, size=(1, 6000, 10)).astype(np.float32)
    mask = np.ones((1, 6000), dtype=bool)
    config = asot.SolverConfig()
    fused = _solve_on(2, cost, mask, config)
    plain = asot.solve(cost, mask=mask, config=config, backend="torch")
    np.testing.assert_allclose(fused.coupling.numpy(), plain.coupling.numpy(), atol=1e-4)
    np.testing.assert_allclose(fused.objective.numpy(), plain.objective.numpy(), rtol=1e-5)


def test_the_vectorised_row_normalisers_match_libm_log_and_division():
    """The kernel's own log of the row sums (bits + atanh series) is within 4 ulp of numpy's log,
    with the rows' exp offsets (block max or own max) taken off the shift."""
    rng = np.random.default_rng(0)
    sums = np.concatenate([1.0 + rng.random(4000) * 60.0, [1.0, 2.0, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0), 0.3, 1e-300, 1e300]])
    n, p = 777, 1.0 / 777
    for offsets in (np.zeros(sums.size), rng.uniform(-30.0, 5.0, sums.size)):
        for dtype in (np.float64, np.float32):
            shift = np.empty(sums.size, dtype)
            scale = np.empty(sums.size, dtype)
            _cpu_kernel._row_normalisers(sums, sums.size, p, -np.log(n), offsets, shift, scale)
            expected_shift = (-np.log(n) - np.log(sums) - offsets).astype(dtype)
            # in ulps of the largest term (the difference of terms can cancel to near 0)
            size = np.maximum(np.abs(expected_shift), np.abs(offsets).astype(dtype))
            ulps = np.abs(shift.astype(np.float64) - expected_shift) / np.spacing(size)
            assert ulps.max() <= 4
            np.testing.assert_array_equal(scale, (p / sums).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_vectorised_exp_is_within_one_ulp_and_flushes_below_the_floor(dtype):
    """``exp(x - offset)``: float32 within 1 ulp of the exact value (degree-7 polynomial), float64
    within 1e-11; 0 below the floor (-87 / -708), never a subnormal."""
    from numba import njit

    exp_block = njit(lambda x, out, m, k, offset: _cpu_kernel._exp_block(x, out, m, k, offset))
    rng = np.random.default_rng(3)
    floor = -87.0 if dtype == np.float32 else -708.0
    x = np.concatenate([-rng.exponential(8.0, 20000), [0.0, -1e-30, floor + 0.1, floor - 0.1, -1e4]]).astype(dtype)
    k = _cpu_kernel._constants(dtype, 0.3, 0.07)
    for offset in (0.0, -2.5):
        shifted = x + dtype(offset)
        out = np.empty_like(x)
        exp_block(shifted, out, x.size, k, dtype(offset))
        u = shifted - dtype(offset)  # the kernel's argument, rounded as it rounds it
        exact = np.exp(u.astype(np.float64))
        kept = u >= floor
        assert (out[~kept] == 0).all() and (out[kept] >= np.finfo(dtype).tiny).all()
        rel = np.abs(out[kept] - exact[kept]) / exact[kept]
        assert rel.max() <= (np.finfo(np.float32).eps if dtype == np.float32 else 1e-11)


def test_a_row_far_below_its_blocks_max_is_shifted_by_its_own_max():
    """One block holds rows whose x differ by far more than float32's range of exp: each row of the
    new iterate still sums to p and matches the torch path (the fallback of the block-max shift)."""
    rng = np.random.default_rng(8)
    cost = rng.uniform(0, 2, size=(1, 64, 6)).astype(np.float32)
    cost[0, 1::2] += 200.0  # every other row 200 higher: with step 1 its x falls ~200 below its neighbours'
    mask = np.ones((1, 64), dtype=bool)
    config = asot.SolverConfig(alpha=0.0, lambda_actions=0.05, n_iters=5, step_size=1.0)
    fused = _solve_on(1, cost, mask, config)
    plain = asot.solve(cost, mask=mask, config=config, backend="torch")
    np.testing.assert_allclose(fused.coupling.numpy().sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(fused.coupling.numpy(), plain.coupling.numpy(), atol=1e-4)
