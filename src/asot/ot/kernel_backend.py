"""The fused CPU kernel as a numpy backend of the solver: ASOT on a numpy batch, without torch.

:class:`asot.ASOTSolver` runs every CPU problem the kernel can solve through :func:`solve_batch`
and wraps its arrays as tensors; :class:`asot.decoders.ASOTDecoder` calls it directly on numpy
input, so ``asot segment`` and ``asot.decode`` on the CPU never import torch (about 220 MB of
resident memory and 2-3 s of start-up). One implementation either way: the radius policy
(:class:`asot.ot.radius.RadiusPolicy`), the iteration loop (:func:`asot.ot.iteration.iterate`)
and the kernel (:class:`asot.ot._cpu_kernel.KernelIterations`).

The variants it covers (:func:`applies`): rows constrained (``p_i = 1/N_b``), the action marginal
unbalanced (``lambda_actions``), any ``alpha`` including 0; everything else goes to the torch
path of :mod:`asot.ot.solver`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from asot._threads import default_threads
from asot.ot import _cpu_kernel
from asot.ot.checks import check_cost_range
from asot.ot.config import SolverConfig
from asot.ot.iteration import curvature, iterate
from asot.ot.radius import DEFAULT_RADIUS, RadiusPolicy, structure_band

__all__ = ["KernelSolution", "applies", "compile_in_background", "prepare", "solve_batch"]


@dataclass(frozen=True)
class KernelSolution:
    """The numpy fields of :class:`asot.ASOTResult` for a batch ``(B, N, K)``: ``coupling``
    ``(B, N, K)`` (``N_b T``, 0 on padding), ``labels`` ``(B, N)`` int64 (-1 on padding),
    ``objective`` ``(B, iterations_run + 1)``, ``converged`` ``(B,)`` bool, ``step_size`` ``(B,)``."""

    coupling: np.ndarray
    labels: np.ndarray
    objective: np.ndarray
    iterations_run: int
    converged: np.ndarray
    step_size: np.ndarray


def applies(config: SolverConfig) -> bool:
    """Whether the kernel solves ``config``'s variant (numba installed, rows constrained,
    actions unbalanced); the device and autograd conditions are the caller's."""
    return _cpu_kernel.AVAILABLE and not config.unbalanced_frames and config.unbalanced_actions


def prepare(cost: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A float32/float64 batch ``(B, N, K)`` as the kernel reads it: C-contiguous, native byte
    order, padding rows zero (copied only where one of these does not hold), its valid values
    checked like :func:`asot.ot.problem.as_problem` checks them (finite, far from overflow)."""
    cost = np.asarray(cost)
    if cost.dtype.kind != "f" or cost.dtype.itemsize not in (4, 8) or cost.ndim != 3:
        raise TypeError(f"cost: expected a (B, N, K) float32 or float64 array, got {cost.dtype} of shape {cost.shape}")
    if not cost.dtype.isnative:
        cost = cost.astype(cost.dtype.newbyteorder("="))
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < cost.shape[1]).any():
        valid = np.arange(cost.shape[1])[None, :] < lengths[:, None]
        cost = np.where(valid[..., None], cost, cost.dtype.type(0))
    cost = np.ascontiguousarray(cost)
    check_cost_range(float(cost.min()), float(cost.max()), cost.dtype)
    return cost


def solve_batch(cost: np.ndarray, lengths: np.ndarray, config: SolverConfig, radii: Any = None,
                n_threads: int | None = None) -> KernelSolution:  # fmt: skip
    """ASOT of every video of a prepared batch (:func:`prepare`) on the fused kernel.

    ``lengths``: ``(B,)`` frames per video; ``radii``: per-video radii overriding the config's
    (a tuple of ``B`` fractions), else ``config.radius`` (``"auto"``: measured on each video's
    cost rows and its labels at the paper's radius, :class:`asot.ot.radius.RadiusPolicy`);
    ``n_threads``: the kernel's threads (default :func:`asot._threads.default_threads`).
    """
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    n_threads = default_threads() if n_threads is None else int(n_threads)
    policy = RadiusPolicy.of(config, radii)
    if policy.measured:
        rows = [cost[b, :n] for b, n in enumerate(lengths.tolist())]

        def label() -> list[np.ndarray]:
            at_default = solve_batch(cost, lengths, config.replace(radius=DEFAULT_RADIUS), None, n_threads)
            return [at_default.labels[b, :n] for b, n in enumerate(lengths.tolist())]

        radii = policy.resolve(rows, label).value
    widths, band = structure_band(lengths, config.radius, config.radius_frames, radii)
    kernel = _cpu_kernel.KernelIterations(
        cost, lengths, np.asarray(widths, dtype=np.int64), np.asarray(band), alpha=config.alpha, eps=config.eps,
        lambda_actions=config.lambda_actions, curvature=curvature(config), n_iters=config.n_iters,
        keep_iterates=config.tol is not None, n_threads=n_threads,
    )  # fmt: skip
    converged = np.zeros(len(lengths), dtype=np.bool_)
    _, n_run, converged, step = iterate(kernel, config, converged, float(np.finfo(np.float64).tiny))
    coupling, labels = kernel.coupling_and_labels()
    step = np.zeros(len(lengths)) if step is None else step
    return KernelSolution(coupling, labels, np.ascontiguousarray(kernel.trace[: n_run + 1].T).astype(coupling.dtype), n_run,
                          converged, np.asarray(step).astype(coupling.dtype))  # fmt: skip


def compile_in_background(dtypes: tuple[Any, ...] = (np.float32,)) -> threading.Thread | None:
    """Compile the kernel for ``dtypes`` in a daemon thread, so that a command's first solve
    does not wait for all of it; ``None`` without numba.

    numba compiles on first use (about 10 s per dtype with a cold cache, well under a second
    from a warm one); its LLVM passes release the GIL, so the compilation overlaps with what a
    command does before its first solve (imports, loading, k-means). A solve that starts while
    the thread compiles waits for it (numba's compiler lock) and then uses its result. The
    thread solves one tiny problem per dtype with the same argument types as any other solve,
    and compiles the loop of the kernel's helper threads for them (when there are several).
    """
    if not _cpu_kernel.AVAILABLE:
        return None

    def compile_kernel() -> None:
        config = SolverConfig(radius=DEFAULT_RADIUS)
        for dtype in dtypes:
            cost = np.full((1, 8, 2), 0.5, dtype=dtype)
            solve_batch(cost, np.array([8]), config, n_threads=1)
            if default_threads() > 1:  # the team helpers' loop too (a problem this small has no team)
                _cpu_kernel.KernelIterations(
                    cost, np.array([8]), np.array([1]), np.array([0.5]), alpha=config.alpha, eps=config.eps,
                    lambda_actions=config.lambda_actions, curvature=1.0, n_iters=1, keep_iterates=False, n_threads=1,
                ).compile_team_loop()  # fmt: skip

    thread = threading.Thread(target=compile_kernel, name="asot-kernel-compile", daemon=True)
    thread.start()
    return thread
