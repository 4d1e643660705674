"""Input checks of a cost batch that need no torch: the prefix mask and the range of the costs.

Shared by :func:`asot.ot.problem.as_problem` (the torch problem) and the numpy kernel path of
:mod:`asot.ot.kernel_backend`, so both reject the same inputs with the same messages.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_cost_range", "prefix_lengths"]


def prefix_lengths(mask: np.ndarray) -> np.ndarray:
    """Valid frames per row of a ``(B, N)`` boolean mask whose rows must be non-empty prefixes
    (the one mask check: the solver's and the decoders'); ``ValueError`` naming the bad rows."""
    lengths = mask.sum(axis=1, dtype=np.int64)
    empty = np.flatnonzero(lengths == 0).tolist()
    if empty:
        raise ValueError(f"mask: every video needs at least one valid frame; rows {empty} are all False")
    prefix = np.arange(mask.shape[1])[None, :] < lengths[:, None]
    bad = np.flatnonzero((prefix != mask).any(axis=1)).tolist()
    if bad:
        raise ValueError(
            f"mask: valid frames must come first (videos padded at the end); rows {bad} have a False before a True"
        )
    return lengths


def check_cost_range(low: float, high: float, dtype: np.dtype) -> None:
    """Costs with minimum ``low`` and maximum ``high`` (NaN when any is NaN) must be finite and
    not within 1e4 of ``dtype``'s largest value (the iterations multiply them by the step and
    would overflow to NaN)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("cost: contains NaN or Inf on valid frames; clean the input (e.g. np.nan_to_num)")
    limit = float(np.finfo(dtype).max) * 1e-4
    if max(high, -low) > limit:
        raise ValueError(f"cost: values reach {max(high, -low):.3g}, beyond {limit:.3g} for {np.dtype(dtype).name}; "
                         "the iterations would overflow: rescale the costs")
