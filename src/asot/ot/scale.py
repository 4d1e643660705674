r"""Label-free statistics of a video's temporal scale: how long its stable stretches last.

These are measurements only; the structure-radius rule that uses them (``radius="auto"``) and
its constants live in :mod:`asot.ot.radius`.

Rule (self-similarity decay). Centre the frame vectors ``x_t`` over time and normalise them to
unit length. For a geometric grid of lags ``L`` compute the mean similarity

.. math:: s(L) = \frac{1}{N - L} \sum_t \langle x_t, x_{t+L} \rangle .

Frames inside one segment are similar and frames of different segments are not, so ``s(L)``
falls from ``s(1)`` to a floor ``s_\infty`` (estimated as the median of ``s`` over the longest
lags, ``[N/4, N/2]``) as the lag crosses the typical segment length. For segments of length
``S`` the probability that ``t`` and ``t+L`` share a segment is about ``1 - L/S``, so the
half-decay lag ``L_{1/2}`` (first lag with ``s(L) <= (s(1) + s_\infty)/2``, interpolated on the
log-lag grid) is about ``S/2``: the segment scale is ``2 L_{1/2}``.

Failure modes (documented, tested where possible):
* one long segment or a video shorter than ~8 frames: no decay is seen (``None``).
* strongly periodic sub-actions (e.g. stirring) shorter than the action: ``s`` decays at the
  sub-action period, so the scale comes out too small.
* slow drifts of the features (lighting, camera motion) decay slowly: the scale comes out too large.
* with per-frame noise only, the decay is still measured correctly (noise lowers ``s`` at every
  lag ``>= 1`` alike); temporally correlated noise longer than the segments inflates it.
"""

from __future__ import annotations

import math

import numpy as np

from asot._arrays import to_numpy

from asot.runs import count_runs

__all__ = ["segment_scale", "count_segments"]

#: number of lags on the geometric grid
N_LAGS = 48


def _as_numpy(x) -> np.ndarray:
    x = to_numpy(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"segment_scale: expected a (N, D) sequence, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("segment_scale: the sequence contains NaN or Inf")
    return x


def segment_scale(x) -> float | None:
    """Typical segment length (frames) of a ``(N, D)`` sequence, or ``None`` if no decay is seen."""
    x = _as_numpy(x)
    n = x.shape[0]
    if n < 8:
        return None
    x = x - x.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 1e-12)
    max_lag = n // 2
    lags = np.unique(np.round(np.geomspace(1, max_lag, N_LAGS)).astype(int))
    sims = np.array([np.einsum("ij,ij->", x[:-lag], x[lag:]) / (n - lag) for lag in lags])
    tail = sims[lags >= max(n // 4, 2)]
    floor = float(np.median(tail)) if len(tail) else float(sims[-1])
    top = float(sims[0])
    if top - floor < 1e-3:
        return None
    half = 0.5 * (top + floor)
    below = np.flatnonzero(sims <= half)
    if len(below) == 0:
        return None
    i = int(below[0])
    if i == 0:
        half_lag = float(lags[0])
    else:  # interpolate on the log-lag grid between lags[i-1] (above) and lags[i] (below)
        s0, s1 = sims[i - 1], sims[i]
        frac = (s0 - half) / (s0 - s1) if s0 != s1 else 1.0
        half_lag = math.exp(math.log(lags[i - 1]) + frac * (math.log(lags[i]) - math.log(lags[i - 1])))
    return 2.0 * half_lag


def count_segments(labels, min_length: int = 1) -> int:
    """Number of runs (maximal constant stretches) of at least ``min_length`` frames."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return 0
    return max(1, count_runs(labels, min_length))
