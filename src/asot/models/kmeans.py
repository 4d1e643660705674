"""The one k-means fit of the pipeline: the action-embedding initialisation
(:meth:`asot.models.ASOTModule.initialise_actions`, on encoder outputs) and the training-free
baselines (:mod:`asot.training.baselines`, on input features) both call :func:`fit_kmeans`.

scikit-learn's ``KMeans`` (3 inits, ``random_state=seed``) in float64 on at most
:data:`KMEANS_MAX_FRAMES` frames, evenly subsampled: frame indices
``round(linspace(0, n - 1, KMEANS_MAX_FRAMES))`` when there are more.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["KMEANS_MAX_FRAMES", "fit_kmeans", "subsample_evenly"]

#: most frames given to a k-means fit (evenly subsampled; every frame is labelled afterwards)
KMEANS_MAX_FRAMES = 100_000


def subsample_evenly(frames: np.ndarray, max_frames: int = KMEANS_MAX_FRAMES) -> np.ndarray:
    """``frames`` itself when it has at most ``max_frames`` rows, else ``max_frames`` rows at
    evenly spaced indices (first and last included)."""
    if len(frames) <= max_frames:
        return frames
    return frames[np.linspace(0, len(frames) - 1, max_frames).round().astype(np.int64)]


def fit_kmeans(frames: Any, n_clusters: int, *, seed: int = 0, what: str = "k-means: {n} frames") -> Any:
    """A fitted scikit-learn ``KMeans`` on the rows of ``frames`` (see the module doc).

    ``what``: the start of the error when there are fewer frames than clusters (``{n}``: the
    frame count), e.g. ``"k-means init: {n} training frames"``."""
    from sklearn.cluster import KMeans

    data = subsample_evenly(np.asarray(frames, dtype=np.float64))
    if len(data) < n_clusters:
        raise ValueError(f"{what.format(n=len(data))} for K = {n_clusters} clusters")
    return KMeans(n_clusters=int(n_clusters), n_init=3, random_state=int(seed)).fit(data)
