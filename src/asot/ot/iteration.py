r"""The mirror-descent iteration loop, shared by every solver backend (spec section 2).

:func:`iterate` owns everything about the iterations that does not depend on how one is
computed: the count, the first-iteration automatic step (:func:`automatic_step`), the
objective trace, the back-off of a video whose objective rises, the per-video early stop on
``tol`` with freezing of converged videos, and the buffer swap. A backend (the torch path in
:mod:`asot.ot.solver`, the fused kernel in :mod:`asot.ot._cpu_kernel`) supplies only:

* ``sweep(step, do_step) -> (objective, step)``: ``F`` at the current iterate (combined by
  :func:`objective_value`) and, when ``do_step``, the next iterate into its spare buffer; with
  ``step=None`` it takes the step from this pass's gradient by :func:`automatic_step`;
* ``keep(newly, converged)``: videos that converged keep the current iterate as the next one;
* ``advance()``: the next iterate becomes the current one (the buffer swap).

Per-video arrays are torch tensors or numpy arrays, whichever the backend uses.

The step rule. The published rule is ``s = 4 / max G`` (``G`` the first gradient, per video).
A mirror step ``log T <- log T - s G`` on the entropy and KL terms alone is the linear map
``d <- (1 - s L) d`` on a deviation ``d`` of ``log T`` from its fixed point, along the directions
those terms curve, with ``L = eps + lambda_actions [+ lambda_frames]`` (each KL of a marginal is
1-smooth relative to the entropy of ``T``, by the data-processing inequality
``KL(T'^T 1 || T^T 1) <= KL(T' || T)``). It converges without oscillating for ``s L <= 1``,
oscillates for ``1 < s L < 2`` and diverges for ``s L >= 2`` (``lambda_actions = 10`` gave
``s L = 3.5``). The automatic step is therefore

.. math:: s = \frac{4}{\max(\max_{ij} G_{ij},\ 4 L)} \le \frac{1}{L},

which is the published rule whenever ``max G >= 4 L`` (every published setting) and the
relative-smoothness step ``1 / L`` (monotone descent of the KL and entropy part) otherwise.
A fixed ``step_size`` must satisfy ``s L < 2`` (checked by :class:`asot.SolverConfig`).
With free frame masses (``unbalanced_frames``) the structure term grows with the mass and no
first-gradient bound covers it, so there the automatic step also backs off: when a video's
objective rises by more than rounding, its step is halved for the iterations that follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asot._arrays import is_tensor

__all__ = ["STEP_SCALE", "curvature", "automatic_step", "objective_value", "rise_tolerance", "iterate"]

#: multiplier of the automatic step size ``s = STEP_SCALE / max(max G, STEP_SCALE * L)``
STEP_SCALE = 4.0
#: a rise of the objective within this fraction of ``|F|`` is rounding, not divergence
RISE_RTOL = {4: 1e-4, 8: 1e-8}


def curvature(config) -> float:
    """``L = eps + lambda_actions [unbalanced actions] + lambda_frames [unbalanced frames]``:
    the curvature of the entropy and KL terms relative to the entropy of ``T``."""
    value = config.eps
    if config.unbalanced_actions:
        value += config.lambda_actions
    if config.unbalanced_frames:
        value += config.lambda_frames
    return value


def automatic_step(g_max: Any, curvature_value: float) -> Any:
    """``s = STEP_SCALE / max(g_max, STEP_SCALE * L)`` per video (see the module docstring)."""
    floor = STEP_SCALE * curvature_value
    if is_tensor(g_max):
        return STEP_SCALE / g_max.clamp_min(floor)
    return STEP_SCALE / np.maximum(g_max, floor)


def objective_value(alpha, eps, lambda_actions, lambda_frames, visual, structure, entropy, kl_actions, kl_frames):
    r"""``F = (1-alpha) <C,T> + alpha/2 <Cv(T Ca),T> - eps H(T) + lambda KL_actions + lambda_f KL_frames``.

    The per-video sums are the backend's; pass ``0`` (with a zero weight) for a term a variant
    does not have. Plain arithmetic, so it serves numbers, numpy arrays and tensors alike.
    """
    return ((1.0 - alpha) * visual + 0.5 * alpha * structure - eps * entropy
            + lambda_actions * kl_actions + lambda_frames * kl_frames)


def rise_tolerance(itemsize: int) -> float:
    """Relative rise of ``F`` still counted as rounding, for costs of ``itemsize`` bytes."""
    return RISE_RTOL.get(itemsize, 1e-8)


def _maximum(a: Any, b: Any) -> Any:
    """Element-wise ``max(a, b)`` of a tensor or array ``a`` and a like array or a number ``b``."""
    if is_tensor(a):
        return a.maximum(b) if is_tensor(b) else a.clamp_min(b)
    return np.maximum(a, b)


def iterate(backend: Any, config, converged: Any, tiny: float, back_off: bool = False, rise_rtol: float = 0.0):
    """Run the iterations on ``backend``; returns ``(trace, n_run, converged, step)``.

    ``trace`` lists ``F`` per iterate (``(B,)`` each, ``n_run + 1`` of them), ``converged`` is the
    ``(B,)`` bool array passed in, updated, and ``step`` the mirror step per video as the backend
    holds it (``None`` when no step was taken). The current iterate of ``backend`` at the end is
    the result. ``back_off`` halves the step of a video whose objective rose by more than
    ``rise_rtol * max(|F|)``.
    """
    step = None if config.step_size is None else backend.full_step(config.step_size)
    tol = config.tol
    trace = []
    n_run = 0
    for it in range(config.n_iters + 1):
        last = it == config.n_iters
        objective, step = backend.sweep(step, not last)
        trace.append(objective)
        if last:
            break
        if it > 0:
            prev = trace[-2]
            if back_off:
                slack = rise_rtol * _maximum(abs(prev), abs(objective))
                step = backend.halve_step(step, objective > prev + slack)
            if tol is not None:
                newly = (abs(objective - prev) <= tol * _maximum(abs(prev), tiny)) & ~converged
                converged = converged | newly
                if bool(converged.all()):
                    break  # the current iterate is the one the converged objective belongs to
                # a converged video keeps its iterate while the rest of the batch goes on, so a
                # video's result does not depend on what it is batched with
                backend.keep(newly, converged)
        backend.advance()
        n_run += 1
    return trace, n_run, converged, step
