"""Solver configuration: one frozen, validated dataclass shared by library, CLI and presets.

Symbols map to ``../shared/spec/ASOT.md`` section 1 and 3:

========================  =================  ==========================================
field                     paper symbol       meaning
========================  =================  ==========================================
``eps``                   epsilon            entropy weight
``alpha``                 alpha              structure (Gromov-Wasserstein) weight
``radius``                r                  structure half-width as a fraction of N, or "auto"
``radius_frames``         w                  structure half-width in frames (overrides r)
``lambda_actions``        lambda             KL weight on the action (column) marginal
``lambda_frames``         lambda_frames      KL weight on the frame (row) marginal
``unbalanced_actions``    --                 KL penalty instead of a hard column constraint
``unbalanced_frames``     --                 KL penalty instead of a hard row constraint
``n_iters``               --                 outer mirror-descent iterations: all of them, or
                                             fewer when ``tol`` stops early (a maximum; the
                                             count run is ``ASOTResult.iterations_run``)
``sinkhorn_iters``        --                 inner Sinkhorn iterations per step (balanced
                                             variant; always all of them)
``step_size``             s                  mirror step; ``None`` = 4 / max(max G, 4 L) from the
                                             first gradient ``G`` (:mod:`asot.ot.iteration`)
``tol``                   --                 optional early stop on relative objective change
``detach``                --                 solve without autograd (``False``: differentiable;
                                             the automatic step is not differentiated)
========================  =================  ==========================================
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from asot.ot.iteration import curvature
from asot.ot.radius import DEFAULT_RADIUS, check_radius

__all__ = ["SolverConfig", "from_known_fields"]


def _check_known_fields(cls: type, names: Any, error: type[Exception]) -> None:
    """Raise ``error`` naming the keys of ``names`` that are not fields of dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise error(f"{cls.__name__}: unknown field(s) {unknown}; known fields are {sorted(known)}")


def from_known_fields(cls: type, data: dict[str, Any]):
    """``cls(**data)`` for a dataclass, with a clear error naming unknown keys."""
    _check_known_fields(cls, data, ValueError)
    return cls(**data)


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"SolverConfig.{name}: expected a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"SolverConfig.{name}: expected a finite number, got {value!r}")
    return value


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"SolverConfig.{name}: expected an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"SolverConfig.{name}: expected an integer >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class SolverConfig:
    """Hyperparameters of the ASOT solver (spec sections 1-3).

    The structure half-width is ``w = max(1, floor(N r))`` per video by default; ``radius_frames``
    fixes ``w`` in frames and ``radius="auto"`` measures it per whole video (one policy for solve,
    segment and train: :mod:`asot.ot.radius`).

    The defaults are the paper's training settings (eps 0.07, alpha 0.3, r 0.04, lambda 0.05,
    unbalanced actions, 25 iterations). Use :meth:`replace` to derive variants::

        train = SolverConfig()
        evaluate = train.replace(eps=0.04, alpha=0.6, lambda_actions=0.01)

    Raises:
        ValueError / TypeError naming the field when a value is out of range or of the wrong type.
    """

    eps: float = 0.07
    alpha: float = 0.3
    radius: float | str = DEFAULT_RADIUS
    lambda_actions: float = 0.05
    lambda_frames: float = 0.1
    unbalanced_actions: bool = True
    unbalanced_frames: bool = False
    n_iters: int = 25
    sinkhorn_iters: int = 1
    step_size: float | None = None
    tol: float | None = None
    radius_frames: int | None = None
    detach: bool = True

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # numpy scalars (np.int64(5), np.float32(0.05)) as Python numbers
            value = getattr(self, field.name)
            if isinstance(value, np.generic):
                object.__setattr__(self, field.name, value.item())
        eps = _check_real("eps", self.eps)
        if eps <= 0:
            raise ValueError(f"SolverConfig.eps: expected eps > 0, got {eps}")
        alpha = _check_real("alpha", self.alpha)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"SolverConfig.alpha: expected 0 <= alpha <= 1, got {alpha}")
        check_radius(self.radius)
        for name in ("lambda_actions", "lambda_frames"):
            value = _check_real(name, getattr(self, name))
            if value < 0:
                raise ValueError(f"SolverConfig.{name}: expected a non-negative weight, got {value}")
        for name in ("unbalanced_actions", "unbalanced_frames", "detach"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"SolverConfig.{name}: expected a bool, got {getattr(self, name)!r}")
        _check_int("n_iters", self.n_iters, 0)
        _check_int("sinkhorn_iters", self.sinkhorn_iters, 1)
        if self.step_size is not None:
            step = _check_real("step_size", self.step_size)
            if step <= 0:
                raise ValueError(f"SolverConfig.step_size: expected a positive step or None, got {step}")
            limit = 2.0 / curvature(self)
            if not self.balanced and step >= limit:  # the balanced variant takes no mirror step
                terms = " + ".join(["eps"] + ["lambda_actions"] * self.unbalanced_actions
                                   + ["lambda_frames"] * self.unbalanced_frames)
                raise ValueError(f"SolverConfig.step_size: {step:g} makes the mirror step diverge; it needs "
                                 f"step_size * ({terms}) < 2, i.e. step_size < {limit:.4g} here "
                                 "(or omit it for the automatic step)")
        if self.tol is not None:
            tol = _check_real("tol", self.tol)
            if tol < 0:
                raise ValueError(f"SolverConfig.tol: expected tol >= 0 or None, got {tol}")
        if self.radius_frames is not None:
            _check_int("radius_frames", self.radius_frames, 1)

    @property
    def balanced(self) -> bool:
        """Hard constraints on both marginals (the "Balanced OT" ablation)."""
        return not self.unbalanced_actions and not self.unbalanced_frames

    def replace(self, **changes: Any) -> "SolverConfig":
        """A copy with some fields changed (validated again)."""
        _check_known_fields(type(self), changes, TypeError)  # a keyword argument: TypeError, as Python's own
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SolverConfig":
        return from_known_fields(cls, data)
