"""The one k-means fit of the pipeline: the action-embedding initialisation
(:meth:`asot.models.ASOTModule.initialise_actions`, on encoder outputs) and the training-free
baselines (:mod:`asot.training.baselines`, on input features) both call :func:`fit_kmeans`.

scikit-learn's ``KMeans`` (3 inits, ``random_state=seed``) in float64 on at most
:data:`KMEANS_MAX_FRAMES` frames, evenly subsampled: frame indices
``round(linspace(0, n - 1, KMEANS_MAX_FRAMES))`` when there are more. The frames may be given
as one array or as a list of per-video arrays (taken in order, as if concatenated): only the
kept rows are gathered and converted to float64, so the fit never holds a float64 copy of every
frame (at Breakfast scale, 400k x 64 frames: 51 MB instead of 105 MB concatenated + 210 MB
float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["KMEANS_MAX_FRAMES", "fit_kmeans", "subsample_evenly", "subsample_rows"]

#: most frames given to a k-means fit (evenly subsampled; every frame is labelled afterwards)
KMEANS_MAX_FRAMES = 100_000


def subsample_evenly(frames: np.ndarray, max_frames: int = KMEANS_MAX_FRAMES) -> np.ndarray:
    """``frames`` itself when it has at most ``max_frames`` rows, else ``max_frames`` rows at
    evenly spaced indices (first and last included)."""
    if len(frames) <= max_frames:
        return frames
    return subsample_rows([frames], max_frames, frames.dtype)


def subsample_rows(chunks: Sequence[np.ndarray], max_frames: int = KMEANS_MAX_FRAMES, dtype: Any = np.float64) -> np.ndarray:
    """``subsample_evenly(np.concatenate(chunks)).astype(dtype)``, gathering only the kept rows."""
    chunks = [np.asarray(c) for c in chunks]
    if not chunks:
        raise ValueError("subsample_rows: no frames")
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    total = int(lengths.sum())
    if total <= max_frames:
        return np.concatenate(chunks, dtype=dtype)
    idx = np.linspace(0, total - 1, max_frames).round().astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    owner = np.searchsorted(offsets, idx, side="right") - 1
    out = np.empty((max_frames, *chunks[0].shape[1:]), dtype=dtype)
    bounds = np.searchsorted(owner, np.arange(len(chunks) + 1))  # idx is sorted: each chunk's rows are one run
    for b, chunk in enumerate(chunks):
        lo, hi = bounds[b], bounds[b + 1]
        if hi > lo:
            out[lo:hi] = chunk[idx[lo:hi] - offsets[b]]
    return out


def fit_kmeans(frames: Any, n_clusters: int, *, seed: int = 0, what: str = "k-means: {n} frames") -> Any:
    """A fitted scikit-learn ``KMeans`` on the rows of ``frames`` (an array, or a list of
    per-video arrays; see the module doc).

    ``what``: the start of the error when there are fewer frames than clusters (``{n}``: the
    frame count), e.g. ``"k-means init: {n} training frames"``."""
    from sklearn.cluster import KMeans

    chunks = list(frames) if isinstance(frames, (list, tuple)) else [frames]
    data = subsample_rows(chunks)
    if len(data) < n_clusters:
        raise ValueError(f"{what.format(n=len(data))} for K = {n_clusters} clusters")
    return KMeans(n_clusters=int(n_clusters), n_init=3, random_state=int(seed)).fit(data)
