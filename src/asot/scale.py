r"""Label-free estimate of the temporal scale of a video: how long its stable stretches last.

The structure radius of ASOT is a fraction of the video length (``w = r N``), which ties temporal
consistency to the length of the video rather than to the length of its actions. This module
chooses ``w`` from the data instead (``radius="auto"``), deterministically and without labels.

Rule (self-similarity decay). Centre the frame vectors ``x_t`` over time and normalise them to
unit length. For a geometric grid of lags ``L`` compute the mean similarity

.. math:: s(L) = \frac{1}{N - L} \sum_t \langle x_t, x_{t+L} \rangle .

Frames inside one segment are similar and frames of different segments are not, so ``s(L)``
falls from ``s(1)`` to a floor ``s_\infty`` (estimated as the median of ``s`` over the longest
lags, ``[N/4, N/2]``) as the lag crosses the typical segment length. For segments of length
``S`` the probability that ``t`` and ``t+L`` share a segment is about ``1 - L/S``, so the
half-decay lag ``L_{1/2}`` (first lag with ``s(L) <= (s(1) + s_\infty)/2``, interpolated on the
log-lag grid) is about ``S/2``: the segment scale is ``2 L_{1/2}`` and the radius is a quarter of
it, ``w = L_{1/2} / 2`` -- the ratio of the paper's settings (Breakfast: ~6 segments in ~2,000
frames with ``r = 0.04``, i.e. ``w`` about a quarter of a segment).

Failure modes (documented, tested where possible):
* one long segment or a video shorter than ~8 frames: no decay is seen; the rule returns the
  fraction rule's value (``fallback``).
* strongly periodic sub-actions (e.g. stirring) shorter than the action: ``s`` decays at the
  sub-action period, so ``w`` comes out too small (under-smoothing).
* slow drifts of the features (lighting, camera motion) decay slowly: ``w`` comes out too large.
* with per-frame noise only, the decay is still measured correctly (noise lowers ``s`` at every
  lag ``>= 1`` alike); temporally correlated noise longer than the segments inflates ``w``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["segment_scale", "auto_radius_frames", "auto_radius_fraction", "action_recurrence", "count_segments", "radius_from_segments", "RECURRENCE_THRESHOLD"]

#: number of lags on the geometric grid
N_LAGS = 48
#: the radius is this fraction of the estimated segment length (``w = S / 4``)
RADIUS_PER_SEGMENT = 0.25


def _as_numpy(x) -> np.ndarray:
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
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


def auto_radius_frames(x, fallback: int = 1) -> int:
    """The structure half-width ``w`` (frames) for one video: a quarter of :func:`segment_scale`.

    Args:
        x: ``(N, D)`` frame features or cost rows of one video.
        fallback: returned when no decay is seen (e.g. ``floor(N * r)`` of the fraction rule).
    """
    scale = segment_scale(x)
    if scale is None:
        return max(1, int(fallback))
    return max(1, int(round(RADIUS_PER_SEGMENT * scale)))


#: radius per feature-decay scale for videos whose actions recur (``w = S / 8``): the decay of
#: recurring states overestimates their segments (ActRecTut: S ~ 1,100-1,400 frames for segments
#: of median 170 / mean 740 frames)
RECURRING_RADIUS_PER_SEGMENT = 0.125


#: radius per counted segment for actions that appear once per video (``w = N / (3 M)``)
SEGMENT_RADIUS_PER_SEGMENT = 1 / 3


def radius_from_segments(n_segments: int) -> float:
    """``r_b = SEGMENT_RADIUS_PER_SEGMENT / M_b``: a third of the mean segment ``N_b / M_b``, as a fraction."""
    return float(min(1.0, SEGMENT_RADIUS_PER_SEGMENT / max(int(n_segments), 1)))


def auto_radius_fraction(x, fallback_fraction: float = 0.04, per_segment: float | None = None) -> float:
    """The structure radius ``r_b = w_b / N_b`` of one whole video from its ``(N, D)`` features.

    ``w_b`` is :func:`auto_radius_frames` (``floor(N fallback_fraction)`` when no scale is seen).
    The fraction carries the video's scale to any sampling of it: a training clip of ``n``
    frames drawn evenly from the video gets ``w = max(1, floor(n r_b))`` and band value
    ``1/r_b`` (the same band, in clip frames), the full video gets ``w_b`` back.
    """
    x = _as_numpy(x)
    n = x.shape[0]
    fallback = max(1, int(math.floor(n * fallback_fraction + 1e-9)))
    if per_segment is None:
        w = auto_radius_frames(x, fallback=fallback)
    else:
        scale = segment_scale(x)
        w = fallback if scale is None else max(1, int(round(per_segment * scale)))
    return float(min(1.0, w / max(n, 1)))


#: ``rho_auto``: the prior is switched off when the median video has at least this many
#: segments per action present (one canonical order has about one)
RECURRENCE_THRESHOLD = 2.5
#: structure radius (fraction, the paper's) of the ASOT labels whose recurrence is counted
RECURRENCE_RADIUS = 0.04
#: runs shorter than this fraction of the video are not counted as segments for the radius
MIN_SEGMENT_FRACTION = 0.02


def count_segments(labels, min_length: int = 1) -> int:
    """Number of runs (maximal constant stretches) of at least ``min_length`` frames."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return 0
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1], True])
    return max(1, int(np.count_nonzero(np.diff(bounds) >= min_length)))


def action_recurrence(labels) -> float:
    """Segments per action present in one video's labels: ``#runs / #distinct labels``.

    About 1 for activities with one canonical order (each action once), ``>= 2`` when actions
    recur (ActRecTut: ~7). Meant for temporally consistent labels (ASOT's, not per-frame argmax).
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size == 0:
        return 1.0
    return count_segments(labels) / len(np.unique(labels))
