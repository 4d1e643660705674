"""asot.ot: the optimal-transport core (the lowest layer; it imports nothing else of asot but
the array helpers ``asot._arrays`` and ``asot.runs``).

* :mod:`~asot.ot.config` -- :class:`SolverConfig`, the frozen, validated hyperparameters;
* :mod:`~asot.ot.problem` -- input validation: cost ``(B, N, K)`` plus a prefix frame mask;
* :mod:`~asot.ot.structure` -- the O(NK) structure product ``Cv @ X`` and the temporal prior;
* :mod:`~asot.ot.radius` -- the one radius policy (fraction | frames | measured ``"auto"``);
  :mod:`~asot.ot.scale` -- the label-free statistics the measured rule reads;
* :mod:`~asot.ot.iteration` -- the one iteration driver, automatic step and objective;
* :mod:`~asot.ot.sinkhorn` -- the one log-domain Sinkhorn (balanced variant, decoders);
* :mod:`~asot.ot.solver` -- :func:`solve` / :class:`ASOTSolver` and the torch backend;
  :mod:`~asot.ot._cpu_kernel` -- the fused numba backend for the CPU.

Names resolve on first access (PEP 562), so ``import asot.ot.config`` loads no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_SOURCES: dict[str, str] = {
    "SolverConfig": "asot.ot.config",
    "ASOTProblem": "asot.ot.problem",
    "as_problem": "asot.ot.problem",
    "ASOTResult": "asot.ot.solver",
    "ASOTSolver": "asot.ot.solver",
    "solve": "asot.ot.solver",
    "structure_product": "asot.ot.structure",
    "temporal_prior": "asot.ot.structure",
    "structure_radius": "asot.ot.radius",
    "RadiusPolicy": "asot.ot.radius",
    "DEFAULT_RADIUS": "asot.ot.radius",
    "structure_band": "asot.ot.radius",
    "sinkhorn_log": "asot.ot.sinkhorn",
    "iterate": "asot.ot.iteration",
    "automatic_step": "asot.ot.iteration",
    "objective_value": "asot.ot.iteration",
}

__all__ = list(_SOURCES)


def __getattr__(name: str) -> Any:
    """``asot.ot.<name>``: the public name from its module, or the submodule ``asot.ot.<name>``."""
    if name not in _SOURCES:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
