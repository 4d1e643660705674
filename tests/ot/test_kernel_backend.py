"""The fused kernel's numpy backend: the decoder's torch-free path gives the solver's result,
rejects what the solver rejects, and ``asot segment`` runs without torch."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import asot
from asot.decoders import ASOTDecoder
from asot.ot import _cpu_kernel, kernel_backend
from asot.ot.config import SolverConfig
from asot.presets import DEFAULT_DECODE_CONFIG

pytestmark = pytest.mark.skipif(not _cpu_kernel.AVAILABLE, reason="numba is not installed")

CONFIGS = {
    "decode defaults": DEFAULT_DECODE_CONFIG,
    "training defaults": SolverConfig(),
    "measured radius": DEFAULT_DECODE_CONFIG.replace(radius="auto"),
    "alpha 0": SolverConfig(alpha=0.0),
    "early stop": SolverConfig(tol=1e-4, n_iters=60),
    "radius in frames": SolverConfig(radius_frames=3),
}


def _costs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    cost = rng.random((3, 90, 5)).astype(dtype)
    lengths = np.array([90, 61, 17])
    mask = np.arange(90)[None, :] < lengths[:, None]
    cost[~mask] = 7.0  # padding values the solve must ignore
    return cost, mask


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decoder_numpy_path_is_the_solver_result(name, dtype):
    config = CONFIGS[name]
    cost, mask = _costs(dtype)
    decoded = ASOTDecoder(config).decode(cost, mask)
    result = asot.solve(cost, mask, config)  # the torch entry point, on the same kernel
    np.testing.assert_array_equal(decoded.labels, result.labels.numpy())
    np.testing.assert_array_equal(decoded.coupling, result.coupling.numpy())
    assert decoded.coupling.dtype == dtype and decoded.labels.dtype == np.int64
    assert (decoded.labels[~mask] == -1).all() and (decoded.coupling[~mask] == 0).all()
    one = ASOTDecoder(config).decode(cost[1, :61])  # one video, unbatched
    np.testing.assert_array_equal(one.labels, asot.solve(cost[1, :61], config=config).labels.numpy())


def test_decoder_numpy_path_needs_no_torch_call(monkeypatch):
    """The CPU numpy input never reaches :func:`asot.solve` (which would build torch tensors)."""
    import asot.ot.solver as solver

    def fail(*args, **kwargs):
        raise AssertionError("asot.solve was called")

    monkeypatch.setattr(solver, "solve", fail)
    cost, mask = _costs(np.float32)
    assert ASOTDecoder().decode(cost, mask).labels.shape == (3, 90)
    balanced = DEFAULT_DECODE_CONFIG.replace(unbalanced_actions=False)  # not a kernel variant: the torch path
    assert not kernel_backend.applies(balanced)
    with pytest.raises(AssertionError, match="asot.solve was called"):
        ASOTDecoder(balanced).decode(cost, mask)


@pytest.mark.parametrize(("value", "message"), [(np.nan, "NaN or Inf"), (np.inf, "NaN or Inf"), (3e37, "would overflow")])
def test_decoder_numpy_path_rejects_what_the_solver_rejects(value, message):
    cost, mask = _costs(np.float32)
    cost[0, 5, 2] = value
    with pytest.raises(ValueError, match=message):
        ASOTDecoder().decode(cost, mask)
    with pytest.raises(ValueError, match=message):
        asot.solve(cost, mask, DEFAULT_DECODE_CONFIG)
    cost, mask = _costs(np.float32)
    cost[2, 50, 1] = value  # on padding: ignored by both
    np.testing.assert_array_equal(ASOTDecoder().decode(cost, mask).labels, asot.solve(cost, mask, DEFAULT_DECODE_CONFIG).labels.numpy())


def test_prepare_copies_only_what_it_must():
    cost = np.random.default_rng(1).random((2, 30, 4)).astype(np.float32)
    assert kernel_backend.prepare(cost, np.array([30, 30])) is cost  # contiguous, native, no padding
    swapped = cost.astype(cost.dtype.newbyteorder(">"))
    prepared = kernel_backend.prepare(swapped, np.array([30, 12]))
    assert prepared.dtype.isnative and prepared.flags.c_contiguous
    assert (prepared[1, 12:] == 0).all() and np.array_equal(prepared[0], cost[0])
    with pytest.raises(TypeError, match=r"\(B, N, K\) float32 or float64"):
        kernel_backend.prepare(cost.astype(np.int64), np.array([30, 30]))


def test_segment_command_runs_without_torch(tmp_path):
    """``asot segment`` on the CPU with torch made unimportable: the same labels as in-process."""
    cost = np.random.default_rng(2).random((400, 6)).astype(np.float32)
    np.save(tmp_path / "video.npy", cost)
    script = (
        "import sys; sys.modules['torch'] = None\n"  # any `import torch` now fails
        "from asot.cli import main\n"
        f"sys.argv = ['asot', 'segment', {str(tmp_path / 'video.npy')!r}, '--kind', 'cost', '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert sys.modules['torch'] is None\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from asot.io.labels import read_labels

    np.testing.assert_array_equal(read_labels(tmp_path / "out" / "video"), ASOTDecoder().decode(cost).labels)


@pytest.mark.skipif(not _cpu_kernel.AVAILABLE, reason="numba is not installed")
def test_compiling_in_the_background_leaves_every_solve_the_same(tmp_path):
    """With an empty numba cache, the background compilation finishes, and a solve started while
    it runs waits for it and gives the same result as a solve without it."""
    code = (
        "import numpy as np\n"
        "from asot.ot import kernel_backend\n"
        "from asot.ot.config import SolverConfig\n"
        "cost = np.random.default_rng(0).random((2, 300, 5)).astype(np.float32)\n"
        "thread = kernel_backend.compile_in_background()\n"
        "assert thread is not None and thread.name == 'asot-kernel-compile' and thread.daemon\n"
        "during = kernel_backend.solve_batch(cost, np.array([300, 250]), SolverConfig())\n"
        "thread.join(600)\n"
        "assert not thread.is_alive()\n"
        "after = kernel_backend.solve_batch(cost, np.array([300, 250]), SolverConfig())\n"
        "assert (during.labels == after.labels).all() and np.array_equal(during.coupling, after.coupling)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]
